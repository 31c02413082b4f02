"""Bringing the mirror up to date with the dataset: the sync protocol over the Sanity APIs.

A first sync streams the Export API (``GET /v<ver>/data/export/<dataset>``, NDJSON) into
the partial file, falling back to paged queries ordered by ``_id`` when the endpoint is
not there; a stream cut mid-way, or a partial left by a killed sync, is completed by a
reconcile (list every ``_id``/``_rev``, fetch what is missing or different by id). Then
a check of the server's count and clock: a mismatch means the stream lost documents,
and reconciles again.

Every later sync is one ``head`` query: the server's ``now()``, its document count and
the ``_id``/``_rev`` of documents updated since the last sync (minus a margin for clock
skew and in-flight transactions), then the changed ones fetched by id in batches (POST
once the URL would pass the GET limit). A created document always shows in that delta,
so a count that differs from the mirror's afterwards means deletions: only then is the
whole id list read. One edit costs two requests. Drafts come along when the token can
read them (the ``raw`` perspective); system documents (``_.``) never do.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import httpx

from ssgen.errors import SourceError
from ssgen.fastclass import dataclass
from ssgen.sources.mirror.store import Lines, MirrorStore, append, encode, entry
from ssgen.sources.sanity import SanitySource
from ssgen.sources.sanity.http import base_url

_LISTED = '!(_id in path("_.**"))'
HEAD = ('{"now": now(), "count": count(*[' + _LISTED + ']), "changed": *[' + _LISTED +
        ' && dateTime(_updatedAt) >= dateTime($since)]{_id, _rev}}')
COUNT = '{"now": now(), "count": count(*[' + _LISTED + '])}'
IDS_PAGE = '*[' + _LISTED + ' && _id > $last] | order(_id asc) [0...{size}] {{_id, _rev}}'
DOCS_PAGE = '*[' + _LISTED + ' && _id > $last] | order(_id asc) [0...{size}]'
BY_ID = "*[_id in $ids]"
TAG = "ssgen.mirror"


@dataclass
class SyncReport:
    """What one sync did: ``kind`` is export | pages | resumed | delta."""

    kind: str
    requests: int = 0
    fetched: int = 0
    deleted: int = 0
    documents: int = 0
    reconciled: bool = False


class _ExportUnavailable(Exception):
    """The Export API answered nothing usable: fall back to paged queries."""


@dataclass
class SyncOptions:
    """Tuning: ``margin`` seconds of delta overlap, ids per fetch, documents per page."""

    margin: float = 300.0
    batch: int = 500
    page: int = 1000
    id_page: int = 100_000
    export: bool = True


class Syncer:
    """One sync of ``store`` from ``source`` (which must read the ``raw`` perspective,
    never the CDN); ``key`` names what is mirrored (see ``mirror_key``)."""

    def __init__(self, store: MirrorStore, source: SanitySource, key: str,
                 options: SyncOptions | None = None) -> None:
        self.store, self.source, self.key = store, source, key
        self.options = options or SyncOptions()
        self._exports = 0

    @property
    def requests(self) -> int:
        """HTTP requests this sync has sent (query retries included)."""
        return self.source.request_count + self._exports

    def run(self) -> SyncReport:
        """Sync, commit the snapshot, and say what it took."""
        state = self.store.state(self.key)
        report = self._delta(state) if state is not None else self._first()
        report.requests = self.requests
        return report

    # -- later syncs --------------------------------------------------------------------

    def _delta(self, state: dict[str, Any]) -> SyncReport:
        revs = self.store.revisions()
        head = self._query(HEAD, {"since": state.get("since") or "1970-01-01T00:00:00Z"})
        if not isinstance(head, dict) or not isinstance(head.get("changed"), list):
            raise SourceError("mirror: the Sanity API answered the sync query without a list")
        changed = {item.get("_id"): item.get("_rev") for item in head["changed"]
                   if isinstance(item, dict)}
        stale = sorted(i for i, rev in changed.items()
                       if isinstance(i, str) and (i not in revs or revs[i] != rev))
        report = SyncReport("delta", documents=len(revs))
        if not stale and len(revs) == head.get("count"):
            # Unchanged: the snapshot keeps its bytes (and mtime), only ``since`` moves.
            self.store.commit_state({"key": self.key, "since": self._since(head, 0.0)})
            return report
        lines = self.store.load()
        report.fetched, report.deleted = self.fetch(lines, stale)
        if len(lines) != head.get("count"):
            self._reconcile(lines, report)
        self._commit(lines, head, 0.0)
        report.documents = len(lines)
        return report

    # -- the first sync -----------------------------------------------------------------

    def _first(self) -> SyncReport:
        started = time.monotonic()
        resumed = self.store.partial(self.key)
        if resumed is not None:
            lines, _ = resumed
            report = SyncReport("resumed", fetched=len(lines))
            self._reconcile(lines, report)
        else:
            with self.store.start_partial({"key": self.key}) as handle:
                lines, report = self._stream(handle)
        head = self._query(COUNT, {})
        if not isinstance(head, dict) or len(lines) != head.get("count"):
            self._reconcile(lines, report)
        self._commit(lines, head if isinstance(head, dict) else {}, time.monotonic() - started)
        report.documents = len(lines)
        return report

    def _stream(self, handle: IO[bytes]) -> tuple[Lines, SyncReport]:
        lines: Lines = {}
        if self.options.export:
            try:
                complete = self._export(lines, handle)
                report = SyncReport("export", fetched=len(lines))
                if not complete:
                    self._reconcile(lines, report)
                return lines, report
            except _ExportUnavailable:
                pass
        self._pages(lines, handle)
        return lines, SyncReport("pages", fetched=len(lines))

    def _export(self, lines: Lines, handle: IO[bytes]) -> bool:
        """Stream the export into ``lines``; False when the stream broke off."""
        settings = self.source.settings
        url = f"{base_url(settings, cdn=False)}/data/export/{settings.dataset}"
        self._exports += 1
        try:
            with self.source.runner.client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise _ExportUnavailable(response.status_code)
                rest = b""
                for chunk in response.iter_bytes():
                    *whole, rest = (rest + chunk).split(b"\n")
                    self._keep(lines, handle, whole)
                self._keep(lines, handle, [rest])
        except httpx.HTTPError as exc:
            if not lines:
                raise _ExportUnavailable(str(exc)) from exc
            return False
        return True

    def _keep(self, lines: Lines, handle: IO[bytes], raw: list[bytes]) -> None:
        found = [item for item in (entry(line) for line in raw if line.strip()) if item]
        for doc_id, rev, line in found:
            lines[doc_id] = (rev, line)
        append(handle, [line for _, _, line in found])

    def _pages(self, lines: Lines, handle: IO[bytes]) -> None:
        last = ""
        while True:
            page = self._query(DOCS_PAGE.format(size=self.options.page), {"last": last})
            if not isinstance(page, list):
                raise SourceError("mirror: the Sanity API answered a page query without a list")
            kept = [encode(doc) for doc in page if isinstance(doc, dict)]
            self._keep(lines, handle, kept)
            if len(page) < self.options.page:
                return
            last = page[-1]["_id"]

    # -- shared steps -------------------------------------------------------------------

    def _reconcile(self, lines: Lines, report: SyncReport) -> None:
        """Make ``lines`` hold exactly the dataset's ids at their current revisions."""
        remote: dict[str, str | None] = {}
        last = ""
        while True:
            page = self._query(IDS_PAGE.format(size=self.options.id_page), {"last": last})
            if not isinstance(page, list):
                raise SourceError("mirror: the Sanity API answered an id listing without a list")
            remote.update((item["_id"], item.get("_rev")) for item in page
                          if isinstance(item, dict) and isinstance(item.get("_id"), str))
            if len(page) < self.options.id_page:
                break
            last = page[-1]["_id"]
        gone = [doc_id for doc_id in lines if doc_id not in remote]
        for doc_id in gone:
            del lines[doc_id]
        stale = sorted(i for i, rev in remote.items() if i not in lines or lines[i][0] != rev)
        fetched, deleted = self.fetch(lines, stale)
        report.fetched += fetched
        report.deleted += len(gone) + deleted
        report.reconciled = True

    def fetch(self, lines: Lines, ids: list[str]) -> tuple[int, int]:
        """Fetch ``ids`` by id in batches into ``lines``; ids the API no longer has are
        removed. Returns (fetched, removed)."""
        fetched = removed = 0
        size = self.options.batch
        for start in range(0, len(ids), size):
            wanted = ids[start:start + size]
            docs = self._query(BY_ID, {"ids": wanted})
            found = {doc["_id"]: doc for doc in docs or []
                     if isinstance(doc, dict) and isinstance(doc.get("_id"), str)}
            for doc_id in wanted:
                doc = found.get(doc_id)
                if doc is None:
                    removed += lines.pop(doc_id, None) is not None
                    continue
                rev = doc.get("_rev")
                lines[doc_id] = (rev if isinstance(rev, str) else None, encode(doc))
                fetched += 1
        return fetched, removed

    def _query(self, text: str, params: dict[str, Any]) -> Any:
        return self.source.query(text, params, tag=TAG, fresh=True).value

    def _commit(self, lines: Lines, head: dict[str, Any], took: float) -> None:
        self.store.commit(lines, {"key": self.key, "since": self._since(head, took)})

    def _since(self, head: dict[str, Any], took: float) -> str:
        return _shift(str(head.get("now") or ""), -(self.options.margin + took))


def _shift(stamp: str, seconds: float) -> str:
    """An RFC 3339 time moved by ``seconds`` (the local clock when the server gave none)."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        moment = datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
