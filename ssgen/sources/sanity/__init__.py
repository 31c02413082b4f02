"""The ``sanity`` source: the Build's view of a Sanity dataset over the HTTP Query API.

Owns ``SanitySource`` (the ``Source`` protocol over ``HttpRunner``): single queries,
``query_many`` (route queries sent concurrently, per-page queries batched into combined
requests), conservative dependency ids, and read-your-write freshness (``expect_rev``).

The package: this module holds ``SanitySource``; ``http`` the wire details, ``batch`` the
pure batching, ``listen`` the Listen API. Importing any of them runs this module first,
which every process that uses them imports anyway (the one other: ``serve --listen``
refused for a local source, on its way to the error).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from ssgen.fastclass import dataclass
from ssgen.sources import QueryResult
from ssgen.sources.sanity.batch import batchable, chunk, collect_ids, combine, revisions
from ssgen.sources.sanity.http import (
    HttpRunner,
    SanityError,
    SanitySettings,
    build_query_request,
)
from ssgen.sources.sanity.listen import Listener, ListenEvent

__all__ = ["SanityError", "SanitySettings", "SanitySource", "StaleReadError", "settings_from"]

log = logging.getLogger("ssgen.sources.sanity")

QueryLike = Any  # a parsed ``ssgen.groq.nodes.Query`` (uses ``.text``) or a GROQ string
Item = tuple[int, str, Mapping[str, Any]]


class StaleReadError(SanityError):
    """The API kept answering with an older revision than a webhook announced.

    ``result`` is the last (stale) answer, for callers that prefer it to nothing.
    """

    def __init__(self, message: str, *, query: str, result: QueryResult) -> None:
        super().__init__(message, query=query)
        self.result = result


class _SourceFields(Protocol):
    project_id: str
    dataset: str
    api_version: str
    perspective: str
    use_cdn: bool
    api_host: str
    token: str | None


def settings_from(config: Any, *, drafts: bool = False, **overrides: Any) -> SanitySettings:
    """``SanitySettings`` from a ``Config``, a ``SourceConfig`` or settings themselves."""
    if isinstance(config, SanitySettings):
        base = config
    else:
        src: _SourceFields = getattr(config, "source", config)
        base = SanitySettings(
            project_id=src.project_id,
            dataset=src.dataset,
            api_version=src.api_version,
            perspective=src.perspective,
            use_cdn=src.use_cdn,
            api_host=src.api_host or None,
            token=src.token,
        )
    if drafts:
        overrides.setdefault("perspective", "drafts")
    if not overrides:
        return base
    fields = {name: getattr(base, name) for name in base.__dataclass_fields__}
    return SanitySettings(**{**fields, **overrides})


def _text(query: QueryLike) -> str:
    return query if isinstance(query, str) else str(query.text)


@dataclass(frozen=True)
class BatchLimits:
    """How per-page queries are combined: sub-queries per request and characters per request."""

    max_items: int = 100
    max_chars: int = 60_000


class SanitySource:
    """Answers GROQ queries from the Sanity Query API; see the module docstring.

    ``config`` is a ``Config``, a ``SourceConfig`` or ``SanitySettings``; keyword
    ``overrides`` replace settings fields (``api_host``, ``token``, ``timeout``,
    ``max_retries``, ``max_concurrency``, ``use_cdn``, ``perspective``...). ``transport``,
    ``sleep``, ``rand`` and ``clock`` are for tests. Full builds may read from the CDN
    (``use_cdn``); ``fresh=True``, ``expect_rev`` or ``revalidating()`` always read the API.
    """

    #: ``QueryResult.ids`` are the ``_id``/``_ref``s present in a result, not a trace of
    #: what the server read: a projection without ``_id`` hides its document. Callers that
    #: rely on ``doc:`` tags alone for a scan (keyed per-page queries) should fall back to
    #: ``type:`` tags for sources where this is False.
    exact_ids = False

    def __init__(
        self,
        config: Any,
        *,
        drafts: bool = False,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
        batch: BatchLimits | None = None,
        freshness_attempts: int = 6,
        **overrides: Any,
    ) -> None:
        self.settings = settings_from(config, drafts=drafts, **overrides)
        self.runner = HttpRunner(self.settings, transport=transport, sleep=sleep, rand=rand,
                                 clock=clock)
        self.batch = batch or BatchLimits()
        self.freshness_attempts = freshness_attempts
        self.sleep = sleep
        self.fresh = False

    def __repr__(self) -> str:
        return f"SanitySource({self.settings!r})"

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far (retries included)."""
        return self.runner.request_count

    def close(self) -> None:
        """Release pooled connections."""
        self.runner.close()

    def reload(self) -> None:
        """Nothing is cached locally: every query reads the API."""

    def watched_paths(self) -> list[Path]:
        """A remote source has no files to watch."""
        return []

    def listen(
        self,
        filter_query: str,
        on_event: Callable[[ListenEvent], None],
        resume_event_id: str | None = None,
        **kwargs: Any,
    ) -> Listener:
        """A Listen API subscription with this source's settings (``.run()`` / ``.stop()``)."""
        return Listener(self.settings, filter_query, on_event, resume_event_id=resume_event_id,
                        **kwargs)

    def revalidating(self) -> SanitySource:
        """Switch to read-your-writes mode: from now on never read from the CDN."""
        self.fresh = True
        return self

    def query(
        self,
        query: QueryLike,
        params: Mapping[str, Any] | None = None,
        *,
        now: datetime | None = None,
        tag: str = "ssgen",
        fresh: bool = False,
        expect_rev: Mapping[str, str | None] | None = None,
    ) -> QueryResult:
        """One query; ``now`` is the server's. ``expect_rev`` waits out replication lag."""
        text = _text(query)
        if expect_rev is not None:
            return self._query_fresh(text, params or {}, tag, expect_rev)
        value = self._fetch(text, params, tag=tag, fresh=fresh)
        return self._result(value)

    def query_many(
        self,
        requests: Sequence[tuple[QueryLike, Mapping[str, Any]]],
        *,
        now: datetime | None = None,
        tag: str = "ssgen",
        fresh: bool = False,
        sequences: bool = False,
    ) -> list[QueryResult]:
        """Queries without params run concurrently; queries with params go in batches
        (lists are lists: ``sequences`` changes nothing here)."""
        single: list[Item] = []
        grouped: list[Item] = []
        for index, (query, params) in enumerate(requests):
            text = _text(query)
            bucket = grouped if params and batchable(text) else single
            bucket.append((index, text, params or {}))
        groups = list(chunk(grouped, max_items=self.batch.max_items,
                            max_chars=self.batch.max_chars))
        results: list[Any] = [None] * len(requests)
        workers = min(self.settings.max_concurrency, max(1, len(single) + len(groups)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            jobs = [pool.submit(self._run_single, item, tag, fresh) for item in single]
            jobs += [pool.submit(self._run_group, group, tag, fresh) for group in groups]
            for job in jobs:
                for index, value in job.result():
                    results[index] = value
        return [self._result(value) for value in results]

    def _run_single(self, item: Item, tag: str, fresh: bool) -> list[tuple[int, Any]]:
        index, text, params = item
        return [(index, self._fetch(text, params, tag=tag, fresh=fresh))]

    def _run_group(self, group: Sequence[Item], tag: str, fresh: bool) -> list[tuple[int, Any]]:
        if len(group) == 1:
            return self._run_single(group[0], tag, fresh)
        batch = combine(group)
        try:
            value = self._fetch(batch.text, batch.params, tag=tag, fresh=fresh)
        except SanityError as exc:
            if exc.status is None or exc.status >= 500 or exc.status in (401, 403, 429):
                raise
            log.info("batch of %d failed (%s); retrying one by one", len(group), exc.error_type)
            return [pair for item in group for pair in self._run_single(item, tag, fresh)]
        if not isinstance(value, dict) or any(key not in value for key in batch.keys):
            raise SanityError(f"Sanity API returned an incomplete batch result (tag {tag})",
                              query=batch.text)
        return [(index, value[key]) for key, index in zip(batch.keys, batch.indexes, strict=True)]

    def _fetch(
        self,
        text: str,
        params: Mapping[str, Any] | None,
        *,
        tag: str,
        fresh: bool,
        perspective: str | None = None,
    ) -> Any:
        cdn = self.settings.use_cdn and not (fresh or self.fresh)
        request = build_query_request(
            self.settings, text, params, tag=tag, perspective=perspective, cdn=cdn
        )
        return self.runner.run(request, tag)

    def _result(self, value: Any) -> QueryResult:
        drafts = self.settings.perspective != "published"
        return QueryResult(value, collect_ids(value, drafts=drafts))

    def _query_fresh(
        self, text: str, params: Mapping[str, Any], tag: str, expect: Mapping[str, str | None]
    ) -> QueryResult:
        """Probe the expected revisions, then query; repeat (bounded) while either is stale.

        The probe comes first so a result read before the write landed is never accepted
        just because a later probe saw the new revision.
        """
        result = QueryResult(None, frozenset())
        stale: dict[str, str | None] = {}
        for attempt in range(self.freshness_attempts):
            if attempt:
                self.sleep(min(2.0, 0.05 * 2**attempt))
            stale = self._probe(expect, tag)
            if not stale:
                result = self._result(self._fetch(text, params, tag=tag, fresh=True))
                seen = revisions(result.value)
                stale = {i: seen[i] for i in expect if i in seen and seen[i] != expect[i]}
                if not stale:
                    return result
            log.info("stale read (attempt %d): %s", attempt + 1, sorted(stale))
        wanted = ", ".join(f"{i}@{expect[i]}" for i in sorted(stale))
        seen_text = ", ".join(f"{i}@{stale[i]}" for i in sorted(stale))
        raise StaleReadError(
            f"Sanity API did not return {wanted} after {self.freshness_attempts} attempts "
            f"(last seen: {seen_text}; tag {tag})",
            query=text, result=result,
        )

    def _probe(self, expect: Mapping[str, str | None], tag: str) -> dict[str, str | None]:
        """Expected ids whose current revision differs: ``{id: rev seen (None = absent)}``."""
        if not expect:
            return {}
        probe = self._fetch("*[_id in $ids]{_id, _rev}", {"ids": sorted(expect)}, tag=tag,
                            fresh=True, perspective="raw")
        seen = {d["_id"]: d.get("_rev") for d in probe or [] if isinstance(d, dict)}
        return {i: seen.get(i) for i, rev in expect.items() if seen.get(i) != rev}
