"""The local content source: NDJSON files, export archives and Markdown, in memory.

Owns which files make up the local dataset, the mtime/size cache that lets ``reload()``
re-read only changed files, duplicate ``_id`` detection across files, the perspective
(``published`` hides drafts, ``drafts`` overlays each draft on its published document as
Sanity's drafts perspective does, ``raw`` keeps everything) and answering queries with
``ssgen.groq`` over one ``Dataset`` built per load.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ssgen.errors import SourceError
from ssgen.sources import QueryResult, content_hash
from ssgen.sources.export import parse_export, restore_assets
from ssgen.sources.markdown_docs import MARKDOWN_SUFFIXES, find_files, parse_markdown
from ssgen.sources.ndjson import Loaded, gc_paused, parse_ndjson

if TYPE_CHECKING:
    from ssgen.config import Config
    from ssgen.groq.nodes import Query

DATASET_SUFFIXES = (".ndjson", ".jsonl", ".tar.gz", ".tgz")
_Stamp = tuple[int, int, int]


class _Cached(NamedTuple):
    """One input file as last read: its stat stamp, its documents and a digest of its bytes."""

    stamp: _Stamp
    loaded: Loaded
    digest: bytes


class LocalSource:
    """Answers GROQ queries from files under the site folder."""

    def __init__(self, config: Config, *, drafts: bool = False) -> None:
        self._config = config
        self.perspective = "drafts" if drafts else config.source.perspective
        self._cache: dict[str, _Cached] = {}
        self._loaded_inputs: list[Input] = []
        self._documents: list[dict[str, Any]] = []
        self._dataset: Any = None
        self.reload()

    @property
    def documents(self) -> list[dict[str, Any]]:
        """The documents visible in this perspective, in file order."""
        return self._documents

    @property
    def dataset(self) -> Any:
        """The ``ssgen.groq.Dataset`` queries run against."""
        return self._dataset

    def query(self, query: Query, params: Mapping[str, Any] | None = None, *,
              now: datetime | None = None) -> QueryResult:
        """Evaluate ``query``; ``ids`` are the documents that contributed."""
        ids: set[str] = set()
        value = query.evaluate(self._dataset, dict(params) if params else None, now, trace=ids)
        return QueryResult(value, frozenset(ids))

    def query_many(self, requests: Sequence[tuple[Query, Mapping[str, Any]]], *,
                   now: datetime | None = None) -> list[QueryResult]:
        """Evaluate each ``(query, params)`` in turn, all at the same ``now()``."""
        now = now if now is not None else datetime.now(UTC)
        return [self.query(query, params, now=now) for query, params in requests]

    def document_state(self) -> dict[str, tuple[str, str]]:
        """``_id`` -> (``_type``, content hash) of every visible document, for change
        detection. NDJSON documents reuse the hash of their line (computed when the line
        was parsed); others (Markdown, overlaid drafts, export assets) are serialised."""
        known: dict[int, str] = {}
        for loaded in (cached.loaded for cached in self._cache.values()):
            if len(loaded.digests) == len(loaded.documents):
                known.update(zip(map(id, loaded.documents), loaded.digests, strict=True))
        state: dict[str, tuple[str, str]] = {}
        for doc in self._documents:
            digest = known.get(id(doc)) or content_hash(doc)
            state[doc["_id"]] = (doc["_type"], digest)
        return state

    def fingerprint(self) -> str:
        """``input_fingerprint`` of the files as this source last read them (no reading)."""
        return _combine((item.display, cached.digest) for item, cached in
                        zip(self._loaded_inputs, self._cache.values(), strict=True))

    def watched_paths(self) -> list[Path]:
        """The dataset files (or ``content/`` when discovered) and the Markdown folder."""
        source = self._config.source
        site = self._config.site_dir
        paths = {site / name for name in source.files} if source.files is not None \
            else {self._config.content_dir}
        if source.markdown_dir:
            paths.add(site / source.markdown_dir)
        return sorted(paths)

    def reload(self) -> None:
        """Re-read files whose mtime/size changed, drop removed ones, pick up new ones.

        On an error the previous state is kept, so a half-saved file never empties the site.
        """
        with gc_paused():
            self._reload()

    def _reload(self) -> None:
        cache: dict[str, _Cached] = {}
        changed = self._dataset is None
        inputs = self._inputs()
        for item in inputs:
            stamp = _stamp(item)
            old = self._cache.get(item.path)
            if old is not None and old.stamp == stamp:
                cache[item.path] = old
                continue
            data = _read_bytes(item)
            loaded = self._parse(item, data, old.loaded if old is not None else None)
            cache[item.path] = _Cached(stamp, loaded, _digest(data))
            changed = True
        if not changed and cache.keys() == self._cache.keys():
            return
        documents = merge([cached.loaded for cached in cache.values()])
        documents = apply_perspective(documents, self.perspective)
        from ssgen.groq.dataset import Dataset

        source = self._config.source
        dataset = Dataset(documents, name=source.dataset or None,
                          project_id=source.project_id or None)
        self._cache, self._documents, self._dataset = cache, documents, dataset
        self._loaded_inputs = inputs

    def _inputs(self) -> list[Input]:
        return _site_inputs(self._config)

    def _parse(self, item: Input, data: bytes, previous: Loaded | None) -> Loaded:
        source = self._config.source
        if item.kind == "export":
            return parse_export(data, item.display, project_id=source.project_id,
                                dataset=source.dataset)
        if item.kind == "markdown":
            return parse_markdown(data, item.rel, item.display, source.markdown_type)
        loaded = parse_ndjson(data, item.display, previous)
        if loaded.has_exported_assets:  # an unpacked `sanity dataset export`
            restore_assets(loaded, {}, source.project_id, source.dataset)
        return loaded


class Input(NamedTuple):
    """One file of the local dataset: where it is, how errors name it, how to read it."""

    path: str
    display: str
    kind: str  # "ndjson" | "export" | "markdown"
    rel: str  # Markdown: the path under markdown_dir (gives _id and slug)


def _site_inputs(config: Config) -> list[Input]:
    """The files of the dataset, in load order (dataset files first, then Markdown)."""
    source = config.source
    site = config.site_dir
    if source.files is not None:
        names = [posixpath.normpath(name) for name in source.files]
    else:
        names = [f"content/{rel}" for rel in find_files(site / "content", DATASET_SUFFIXES)]
    inputs = [Input(os.path.join(site, name), name,
                    "export" if name.endswith((".tar.gz", ".tgz")) else "ndjson", name)
              for name in names]
    if source.markdown_dir:
        folder = posixpath.normpath(source.markdown_dir)
        inputs += [Input(os.path.join(site, folder, rel), f"{folder}/{rel}", "markdown", rel)
                   for rel in find_files(site / folder, MARKDOWN_SUFFIXES)]
    return inputs


def input_fingerprint(config: Config) -> str:
    """A hash of the names and bytes of a local site's input files (read, not parsed).

    The build compares it with the one recorded by the last build to skip loading and
    querying a dataset no file change can have touched. Bytes, not mtimes: two saves in
    one timestamp tick with the same size must not look unchanged.
    """
    return _combine((item.display, _digest(_read_bytes(item))) for item in _site_inputs(config))


def _combine(files: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for display, file_digest in files:
        digest.update(display.encode() + b"\0" + file_digest)
    return digest.hexdigest()


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _read_bytes(item: Input) -> bytes:
    try:
        with open(item.path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise SourceError(f"{item.display}: cannot read: {exc.strerror or exc}") from exc


def _stamp(item: Input) -> _Stamp:
    try:
        stat = os.stat(item.path)
    except OSError as exc:
        raise SourceError(f"{item.display}: cannot read: {exc.strerror or exc}") from exc
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def merge(loads: list[Loaded]) -> list[dict[str, Any]]:
    """All documents in load order; a duplicate ``_id`` is an error naming both places,
    except identical synthesised asset documents (two exports of one dataset), kept once."""
    documents = [doc for loaded in loads for doc in loaded.documents]
    if len({doc["_id"] for doc in documents}) == len(documents):
        return documents
    seen: dict[str, tuple[Loaded, int]] = {}
    kept: list[dict[str, Any]] = []
    for loaded in loads:
        for index, doc in enumerate(loaded.documents):
            first = seen.setdefault(doc["_id"], (loaded, index))
            if first[0] is loaded and first[1] == index:
                kept.append(doc)
            elif not _same_asset(first[0].documents[first[1]], doc):
                raise SourceError(f"{loaded.where(index)}: duplicate _id {doc['_id']!r} "
                                  f"(first defined at {first[0].where(first[1])})")
    return kept


def _same_asset(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Two exports may both carry the same (identical) synthesised asset document."""
    return str(first["_type"]).startswith("sanity.") and first == second


def apply_perspective(documents: list[dict[str, Any]], perspective: str) -> list[dict[str, Any]]:
    """The documents a query sees in ``perspective`` (published | drafts | raw)."""
    if perspective == "raw":
        return documents
    if perspective == "published":
        return [d for d in documents if not d["_id"].startswith(("drafts.", "versions."))]
    drafts = {d["_id"][7:]: d for d in documents if d["_id"].startswith("drafts.")}
    published = {d["_id"] for d in documents if not d["_id"].startswith(("drafts.", "versions."))}
    out: list[dict[str, Any]] = []
    for doc in documents:
        doc_id: str = doc["_id"]
        if doc_id.startswith("versions."):
            continue
        if doc_id.startswith("drafts."):
            if doc_id[7:] not in published:
                out.append(_as_published(doc))
            continue
        draft = drafts.get(doc_id)
        out.append(_as_published(draft) if draft is not None else doc)
    return out


def _as_published(draft: dict[str, Any]) -> dict[str, Any]:
    """A draft under its published ``_id``; ``_originalId`` keeps the draft's, as the
    Content Lake's drafts perspective does (templates can show a "draft" badge)."""
    return {**draft, "_id": draft["_id"][7:], "_originalId": draft["_id"]}
