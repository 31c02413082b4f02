"""The local content source: NDJSON files, export archives and Markdown, in memory.

Owns which files make up the local dataset, reading them (the mtime/size cache that lets
``reload()`` re-read only changed files; an NDJSON file is read into a reused buffer and
re-parsed only where its bytes changed, see ``ndjson_diff``) and answering queries with
``ssgen.groq`` over the ``Dataset`` of a ``local_view.View``, which keeps the merged
documents, the perspective and the version log (``version``, ``changed_since``).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ssgen.errors import SourceError
from ssgen.sources import QueryResult
from ssgen.sources.export import parse_export, restore_assets
from ssgen.sources.local_view import View, apply_perspective, merge
from ssgen.sources.markdown_docs import MARKDOWN_SUFFIXES, find_files, parse_markdown
from ssgen.sources.ndjson import Data, Fault, Loaded, gc_paused, parse_ndjson
from ssgen.sources.ndjson_diff import Splice, reparse
from ssgen.sources.parallel import map_threaded
from ssgen.sources.query_cache import QueryCache

if TYPE_CHECKING:
    from ssgen.config.load import Config
    from ssgen.groq.dataset import Dataset
    from ssgen.groq.nodes import Query

__all__ = ["Input", "LocalSource", "ReadInputs", "apply_perspective", "merge", "read_inputs",
           "snapshot_path", "unread_files"]

DATASET_SUFFIXES = (".ndjson", ".jsonl", ".tar.gz", ".tgz")
_Stamp = tuple[int, int, int]


class _Cached:
    """One input file as last read: its stat stamp, its documents and its bytes (NDJSON:
    kept to diff the next read against, digested only when a fingerprint is asked for)."""

    def __init__(self, stamp: _Stamp, loaded: Loaded, data: Data | None,
                 digest: bytes | None = None, spare: bytearray | None = None) -> None:
        self.stamp, self.loaded, self.data = stamp, loaded, data
        self._digest = digest
        self.spare = spare  # the buffer the next read of this file goes into

    @property
    def digest(self) -> bytes:
        if self._digest is None:
            self._digest = _digest(self.data or b"")
        return self._digest


class LocalSource:
    """Answers GROQ queries from files under the site folder."""

    def __init__(self, config: Config, *, drafts: bool = False, kept: bool = False,
                 preread: ReadInputs | None = None) -> None:
        """``kept``: the source lives across rebuilds (serve), so it keeps its list
        queries' results up to date per changed document instead of re-running them.
        ``preread``: the files as ``read_inputs`` just read them (for a fingerprint);
        those whose stat is still the same are not read again."""
        self._config = config
        self._preread = dict(preread.files) if preread is not None else {}
        self.perspective = "drafts" if drafts else config.source.perspective
        # Tells this object's versions apart from another source's in the manifest.
        self.session = uuid.uuid4().hex
        self._results = QueryCache() if kept else None
        self._cache: dict[str, _Cached] = {}
        self._loaded_inputs: list[Input] = []
        self._documents: list[dict[str, Any]] | None = None
        source = config.source
        self._view = View(self.perspective, name=source.dataset or None,
                          project_id=source.project_id or None)
        self.reload()

    @property
    def documents(self) -> list[dict[str, Any]]:
        """The documents visible in this perspective, in file order (built on first use
        after a change: O(n), not for the serve path)."""
        if self._documents is None:
            self._documents = self._view.documents(self._loads())
        return self._documents

    @property
    def dataset(self) -> Dataset:
        """The ``ssgen.groq.Dataset`` queries run against (one object, updated in place
        by ``reload()``)."""
        return self._view.dataset

    @property
    def version(self) -> int:
        """1 after the first load, plus one for every reload that changed the visible
        documents."""
        return self._view.version

    def changed_since(self, version: int) -> frozenset[str] | None:
        """The visible ``_id``s added, removed or replaced (a new document object) since
        ``version``; empty at the current version; None when unknown (the log keeps the
        last 64 reloads that changed something)."""
        return self._view.changed_since(version)

    def query(self, query: Query, params: Mapping[str, Any] | None = None, *,
              now: datetime | None = None) -> QueryResult:
        """Evaluate ``query``; ``ids`` are the documents that contributed."""
        if self._results is not None:
            found = self._results.query(query, params, self.dataset, self.version,
                                        self.changed_since, now)
            if found is not None:
                return QueryResult(*found)
        ids: set[str] = set()
        value = query.evaluate(self.dataset, dict(params) if params else None, now, trace=ids)
        return QueryResult(value, frozenset(ids))

    def query_many(self, requests: Sequence[tuple[Query, Mapping[str, Any]]], *,
                   now: datetime | None = None) -> list[QueryResult]:
        """Evaluate each ``(query, params)`` in turn, all at the same ``now()``."""
        now = now if now is not None else datetime.now(UTC)
        return [self.query(query, params, now=now) for query, params in requests]

    def document_state(self, ids: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
        """``_id`` -> (``_type``, content hash) of every visible document (or of those of
        ``ids`` that exist), for change detection. NDJSON documents reuse the hash of
        their line; others (Markdown, overlaid drafts, export assets) are serialised."""
        state = self._view.state
        if ids is None:
            return dict(state)
        return {doc_id: state[doc_id] for doc_id in ids if doc_id in state}

    def fingerprint(self) -> str:
        """The ``read_inputs`` fingerprint of the files as this source last read them
        (no reading)."""
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
        splices: list[Splice] = []
        inputs = self._inputs()
        for item in inputs:
            stamp = _stamp(item)
            old = self._cache.get(item.path)
            if old is not None and old.stamp == stamp:
                cache[item.path] = old
                continue
            cache[item.path], splice = self._read(item, stamp, old)
            splices.append(splice)
        splices += [Splice(old.loaded, old.loaded.documents, [], [])
                    for path, old in self._cache.items() if path not in cache]
        if splices or self._view.version == 0:
            loads = [cached.loaded for cached in cache.values()]
            self._view.update(loads, splices)
            if any(splice.removed or splice.added for splice in splices):
                self._documents = None  # also when a line only moved: the order changed
        self._cache, self._loaded_inputs = cache, inputs
        self._preread.clear()

    def _read(self, item: Input, stamp: _Stamp, old: _Cached | None) -> tuple[_Cached, Splice]:
        pre = self._preread.get(item.path)
        if pre is not None and pre.stamp == stamp:
            splice = self._parse(item, pre.data, old)
            kept = pre.data if item.kind == "ndjson" else None
            return _Cached(stamp, splice.loaded, kept, pre.digest), splice
        if item.kind != "ndjson":
            whole = _read_bytes(item)
            splice = self._parse(item, whole, old)
            return _Cached(stamp, splice.loaded, None, _digest(whole)), splice
        data = _read_into(item, old.spare if old is not None else None)
        splice = self._parse(item, data, old)
        spare = old.data if old is not None and isinstance(old.data, bytearray) else None
        return _Cached(stamp, splice.loaded, data, spare=spare), splice

    def _inputs(self) -> list[Input]:
        return _site_inputs(self._config)

    def _parse(self, item: Input, data: Data, previous: _Cached | None) -> Splice:
        """The file's new documents against its last parse (``previous``)."""
        source = self._config.source
        gone = previous.loaded.documents if previous is not None else []
        if item.kind == "ndjson" and previous is not None and previous.data is not None:
            splice = reparse(previous.loaded, previous.data, data)
            if splice is not None:
                return splice
        if item.kind == "export":
            loaded = parse_export(bytes(data), item.display, project_id=source.project_id,
                                  dataset=source.dataset)
        elif item.kind == "markdown":
            loaded = _markdown(bytes(data), item, source.markdown_type)
        else:
            loaded = parse_ndjson(data, item.display)
            if loaded.has_exported_assets:  # an unpacked `sanity dataset export`
                restore_assets(loaded, {}, source.project_id, source.dataset)
        aligned = len(loaded.digests) == len(loaded.documents)
        return Splice(loaded, gone, loaded.documents, loaded.digests if aligned else [])

    def _loads(self) -> list[Loaded]:
        return [cached.loaded for cached in self._cache.values()]

    def faults(self) -> list[Fault]:
        """The documents left out of the dataset as it stands, in load order: lines and
        files that do not parse into a document, then refused duplicate ``_id``s."""
        found = [fault for cached in self._cache.values() for fault in cached.loaded.faults]
        return found + self._view.faults


def _markdown(data: bytes, item: Input, default_type: str) -> Loaded:
    """A Markdown file's document; none, with a fault, when its content is unusable."""
    try:
        return parse_markdown(data, item.rel, item.display, default_type)
    except SourceError as exc:
        loaded = Loaded(item.display)
        loaded.faults.append(Fault(item.display, f"{exc}; the file is skipped"))
        return loaded


class Input(NamedTuple):
    """One file of the local dataset: where it is, how errors name it, how to read it."""

    path: str
    display: str
    kind: str  # "ndjson" | "export" | "markdown"
    rel: str  # Markdown: the path under markdown_dir (gives _id and slug)


def snapshot_path(config: Config) -> Path:
    """Where a Sanity site's mirror snapshot lives (``ssgen.sources.mirror`` writes it)."""
    return config.state_dir / "mirror" / f"{config.source.dataset}.ndjson"


def _site_inputs(config: Config) -> list[Input]:
    """The files of the dataset, in load order (dataset files first, then Markdown); for
    a mirrored Sanity site, the mirror's snapshot alone."""
    source = config.source
    site = config.site_dir
    if source.type == "sanity":
        path = snapshot_path(config)
        return [Input(str(path), path.relative_to(site).as_posix(), "ndjson", path.name)]
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


def unread_files(config: Config) -> list[str]:
    """``content/`` files that look like data but that the local source does not read
    (``*.json``: a JSON file is not one document a line), for a warning naming them."""
    if config.source.type != "local" or config.source.files is not None:
        return []
    return [f"content/{rel}" for rel in find_files(config.content_dir, (".json",))]


class ReadFile(NamedTuple):
    """One input file as ``read_inputs`` read it."""

    stamp: _Stamp
    data: bytes
    digest: bytes


class ReadInputs(NamedTuple):
    """A local site's input files as read for their fingerprint, by path; a
    ``LocalSource`` given them parses these bytes instead of reading the files again."""

    files: dict[str, ReadFile]
    fingerprint: str


def read_inputs(config: Config) -> ReadInputs:
    """Read a local site's input files and fingerprint them: a hash of their names and
    bytes (read, not parsed).

    The build compares the fingerprint with the one recorded by the last build to skip
    loading and querying a dataset no file change can have touched. Bytes, not mtimes:
    two saves in one timestamp tick with the same size must not look unchanged.
    """
    files: dict[str, ReadFile] = {}
    digests: list[tuple[str, bytes]] = []
    inputs = _site_inputs(config)
    for item, read in zip(inputs, map_threaded(_read_file, inputs), strict=True):
        files[item.path] = read
        digests.append((item.display, read.digest))
    return ReadInputs(files, _combine(digests))


def _read_file(item: Input) -> ReadFile:
    stamp = _stamp(item)  # before reading: a later write then shows as a new stamp
    data = _read_bytes(item)
    return ReadFile(stamp, data, _digest(data))


def _combine(files: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for display, file_digest in files:
        digest.update(display.encode() + b"\0" + file_digest)
    return digest.hexdigest()


def _digest(data: Data) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _read_into(item: Input, buffer: bytearray | None) -> bytearray:
    """The file's bytes, read into ``buffer`` (resized) when given: refilling a buffer
    that is already mapped skips the page faults of a new one (most of reading a big
    file into fresh memory)."""
    buffer = buffer if buffer is not None else bytearray()
    try:
        with open(item.path, "rb", buffering=0) as handle:
            size = os.fstat(handle.fileno()).st_size
            if len(buffer) > size:
                del buffer[size:]
            else:
                buffer.extend(bytes(size - len(buffer)))
            with memoryview(buffer) as view:
                done = 0
                while done < size and (got := handle.readinto(view[done:])):
                    done += got
            del buffer[done:]  # the file shrank since fstat
            buffer += handle.read()  # or grew
    except OSError as exc:
        raise SourceError(f"{item.display}: cannot read: {exc.strerror or exc}") from exc
    return buffer


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
