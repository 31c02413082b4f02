"""The local content source: NDJSON files, export archives and Markdown, in memory.

Owns reading the dataset's files (which files they are: ``inputs``; the stat cache that
lets ``reload()`` re-read only changed files, each file as last read: ``cached``; Markdown
through the ``FileCache`` persisted in ``.ssgen/``; an NDJSON file re-parsed only where its
bytes changed: ``parse``, or by ``_id``: ``lines``) and answering queries with
``ssgen.groq`` over the ``Dataset`` of a ``view.View``, which keeps the merged documents,
the perspective and the version log (``version``, ``changed_since``).
This ``__init__`` holds ``LocalSource`` itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssgen import shells
from ssgen.groq.chunks import listed
from ssgen.groq.refkeyed import has_ref_keyed
from ssgen.sources import QueryResult
from ssgen.sources.filecache import now_ns
from ssgen.sources.inputs import (
    Input,
    ReadInputs,
    combine,
    digest,
    markdown_cache,
    read_inputs,
    read_stable,
    settled_stamp,
    site_inputs,
    snapshot_path,
    stamp_of,
    unread_files,
)
from ssgen.sources.local.cached import Cached, Stamp, mark_racy, parse_file, reread
from ssgen.sources.local.view import View, apply_perspective, merge
from ssgen.sources.markdown_docs import cached_markdown
from ssgen.sources.ndjson import Data, Fault, Loaded, gc_paused
from ssgen.sources.ndjson.diff import Splice

# What only a kept or snapshotted source uses (query_cache: maintained queries; lines,
# leased) is imported where used: a cold build of Markdown never needs it (~4 ms).
if TYPE_CHECKING:
    from ssgen.config.load import Config
    from ssgen.groq.dataset import Dataset
    from ssgen.groq.nodes import Query
    from ssgen.sources.query_cache import QueryCache

__all__ = ["Input", "LocalSource", "ReadInputs", "apply_perspective", "merge", "read_inputs",
           "snapshot_path", "unread_files"]


class LocalSource:
    """Answers GROQ queries from files under the site folder."""

    ref_tags = True  # results report their references() lookups (QueryResult.refs)
    _hint: str | None = None  # set by ``reload_hinted`` for its reload only
    # A kept file's ``_id`` -> index in its documents, checked before use (not pickled).
    _index: dict[str, int] | None = None
    _proving: tuple[Cached, ...] = ()  # the last reload's files whose proof runs (not pickled)
    _refuted = False  # a proof failed since the last reload (not pickled)
    # ``session:version`` of the state ``resume`` started from, and that version (not pickled)
    _origin: tuple[str, int] | None = None

    def __init__(self, config: Config, *, drafts: bool = False, kept: bool = False,
                 preread: ReadInputs | None = None, maintain: bool = False) -> None:
        """``kept``: the source lives across rebuilds (serve), so it keeps its list
        queries' results up to date per changed document instead of re-running them.
        ``maintain``: keep them so although the source is not kept (for a snapshot that
        the next process resumes, see ``ssgen.sources.snapshot``).
        ``preread``: the files as ``read_inputs`` just read them (for a fingerprint);
        those whose stat is still the same are not read again."""
        self._config = config
        self._preread = dict(preread.files) if preread is not None else {}
        # The files read_inputs just listed: not listed again (a file added since is
        # seen by the next build, as if added after this one).
        self._prelisted = preread.inputs if preread is not None else None
        # Their stamps as read_inputs took them: one stat a file, not two (16k files:
        # ~0.2 s), and the source then holds what the fingerprint was taken of.
        self._prestamps = preread.stamps if preread is not None else None
        # Markdown files' parses, kept in .ssgen/ for the next process (see filecache).
        self._files = preread.cache if preread is not None else markdown_cache(config)
        self._read_at = preread.read_at if preread is not None else 0
        self._kept = kept
        self.perspective = "drafts" if drafts else config.source.perspective
        # Tells this object's versions apart from another source's in the manifest.
        self.session = uuid.uuid4().hex
        self._results: QueryCache | None = None
        if kept or maintain:
            from ssgen.sources.query_cache import QueryCache
            self._results = QueryCache()
        self.resumed: frozenset[str] | None = None  # see ``resume``
        self._cache: dict[str, Cached] = {}
        self._loaded_inputs: list[Input] = []
        self._documents: list[dict[str, Any]] | None = None
        source = config.source
        self._view = View(self.perspective, name=source.dataset or None,
                          project_id=source.project_id or None)
        self.reload()

    def __getstate__(self) -> dict[str, Any]:
        """The parsed files, view and maintained results; not the config, the Markdown
        cache (persisted on its own) or the pending pre-read files (``resume`` sets them)."""
        state = dict(self.__dict__)
        for transient in ("_index", "_hint", "_proving", "_refuted", "_origin"):
            state.pop(transient, None)
        state.update(_config=None, _files=None, _preread={}, _prelisted=None, _documents=None)
        return state

    @classmethod
    def from_state(cls, state: object) -> LocalSource:
        """A source from what ``__getstate__`` returned in another process (a snapshot's
        decoded body), before ``resume``; ``ValueError`` unless it has that shape
        (``state.checked``)."""
        from ssgen.sources.local.state import checked

        source = cls.__new__(cls)
        source.__dict__.update(checked(state))
        return source

    def resume(self, config: Config, preread: ReadInputs | None) -> None:
        """After unpickling: take ``config`` (of the same hash) and re-read every input
        file as if it had changed, so each NDJSON file is diffed against the bytes this
        source parsed (a snapshot's staleness costs a larger diff, never a wrong view).
        A new session: a manifest's record of an earlier session never vouches for it.
        ``resumed``: the visible ids the re-read changed (None: unknown)."""
        self._config, self._kept = config, False
        self._files = preread.cache if preread is not None else markdown_cache(config)
        self._preread = dict(preread.files) if preread is not None else {}
        self._prelisted = preread.inputs if preread is not None else None
        self._read_at = preread.read_at if preread is not None else 0
        version = self.version
        self._origin = (f"{self.session}:{version}", version)
        self.session = uuid.uuid4().hex
        for cached in self._cache.values():
            cached.stamp = (-1, -1, -1, -1)
        self.reload()
        self.resumed = self.changed_since(version)

    def keep(self) -> None:
        """Kept across rebuilds from here on (serve's, after ``resume``: see ``kept``)."""
        shells.fill_all()  # serve's readers are not taught a lazy snapshot's shells
        self._kept = True

    def lineage(self) -> tuple[str, frozenset[str]] | None:
        """For a resumed source: ``session:version`` of the state it was resumed from (as
        the process that saved it knew it), and the visible ids added, removed or replaced
        since then (its re-read's and any later reload's); None when not resumed or not
        known (``ssgen.build.docstate`` diffs only those ids against the manifest when the
        manifest's documents were recorded from that state, or from it and a known set)."""
        if self._origin is None:
            return None
        origin, version = self._origin
        changed = self.changed_since(version)
        return None if changed is None else (origin, changed)

    @property
    def results(self) -> QueryCache | None:
        """Its maintained list queries' results (a kept or maintaining source's)."""
        return self._results

    @property
    def loaded_inputs(self) -> list[Input]:
        """The input files of its last load."""
        return self._loaded_inputs

    @property
    def maintains(self) -> bool:
        """Whether it keeps maintained results although no caller keeps it (snapshot)."""
        return self._results is not None and not self._kept

    @property
    def documents(self) -> list[dict[str, Any]]:
        """The visible documents in file order (built on first use after a change: O(n))."""
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

    def references(self, doc_id: str, digest: str | None = None) -> frozenset[str] | None:
        """The ids the visible document ``doc_id`` references now, or as it was when its
        content hash was ``digest`` (None: unknown); see ``ssgen.build.collect.ref_tags``."""
        return self._view.references(doc_id, digest)

    def query(self, query: Query, params: Mapping[str, Any] | None = None, *,
              now: datetime | None = None, sequences: bool = False) -> QueryResult:
        """Evaluate ``query``; ``ids`` are the documents that contributed. ``sequences``:
        a maintained list may be handed out as its ``Chunks`` (``Source.query_many``)."""
        if self._results is not None:
            found = self._results.query(query, params, self.dataset, self.version,
                                        self.changed_since, now)
            if found is not None:
                return QueryResult(found[0] if sequences else listed(found[0]), *found[1:])
        ids: set[str] = set()
        keys: set[Any] | None = set() if has_ref_keyed(query) else None
        value = query.evaluate(self.dataset, dict(params) if params else None, now, trace=ids,
                               keys=keys)
        if keys is None:
            return QueryResult(value, frozenset(ids))
        from ssgen.sources.query_cache import looked_up
        return QueryResult(value, frozenset(ids), refs=looked_up(keys))

    def query_many(self, requests: Sequence[tuple[Query, Mapping[str, Any]]], *,
                   now: datetime | None = None, sequences: bool = False) -> list[QueryResult]:
        """Evaluate each ``(query, params)`` in turn, all at the same ``now()``."""
        now = now if now is not None else datetime.now(UTC)
        return [self.query(q, p, now=now, sequences=sequences) for q, p in requests]

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
        return combine((item.display, cached.digest) for item, cached in
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

    def reload_hinted(self, doc_id: str) -> None:
        """``reload``, told by a webhook that ``doc_id`` changed: the kept NDJSON file holding
        it is taken to differ in its line alone, the rest proved on a thread (``proven``)."""
        self._hint = doc_id
        try:
            self.reload()
        finally:
            self.__dict__.pop("_hint", None)

    def proving(self) -> bool:
        """Whether the last reload started proofs not waited for yet (``proven``)."""
        return bool(self._proving)

    def proven(self) -> bool:
        """Wait for the last reload's proofs; False when one failed (see ``reload_hinted``)."""
        proving, self._proving = self._proving, ()
        if not all([cached.prove() for cached in proving]):
            self._refuted = True
        return not self._refuted

    def _reload(self) -> None:
        self.proven()  # a file whose proof failed is read whole below
        self.__dict__.pop("_refuted", None)
        cache: dict[str, Cached] = {}
        splices: list[Splice] = []
        inputs = self._prelisted or self._inputs()
        stamps = self._prestamps if inputs is self._prelisted else None
        self._prelisted = self._prestamps = None  # used once, even when this reload fails
        # Before any stat (see FileCache.put): read_inputs' clock for its stamps.
        read_at = self._read_at if stamps is not None else now_ns()
        with self._view.merged_after_failure():
            for index, item in enumerate(inputs):
                stamp = stamps[index] if stamps is not None else stamp_of(item)
                old = self._cache.get(item.path)
                if old is not None and old.stamp == stamp and not old.racy:
                    cache[item.path] = old
                    continue
                fresh, splice = self._read(item, stamp, old, read_at)
                cache[item.path] = mark_racy(fresh, read_at)
                splices.append(splice)
                self._proving += (fresh,) if fresh.proving else ()
            splices += [Splice(old.loaded, old.loaded.documents, [], [])
                        for path, old in self._cache.items() if path not in cache]
            if splices or self._view.version == 0:
                self._view.update([cached.loaded for cached in cache.values()], splices)
                if any(splice.removed or splice.added for splice in splices):
                    self._documents = None  # also when a line only moved: the order changed
        self._cache, self._loaded_inputs = cache, inputs
        self._preread.clear()
        if self._files is not None:
            self._files.keep_only({item.path for item in inputs if item.kind == "markdown"})
            if not self._kept:  # serve's edits are re-read by the next process instead
                # Marked as this state of this source: a build that records it in the
                # manifest vouches for the entries (``ssgen.sources.lazy``).
                self._files.save(background=True, mark=f"{self.session}:{self.version}")

    def _read(self, item: Input, stamp: Stamp, old: Cached | None,
              read_at: int) -> tuple[Cached, Splice]:
        pre = self._preread.get(item.path)
        if item.kind == "markdown" and self._files is not None:
            fresh = pre is not None and pre.stamp == stamp
            loaded, found = cached_markdown(
                self._files, item.path, item.rel, item.display, self._config.source.markdown_type,
                stamp, self._read_at if fresh else read_at, pre.data if pre and fresh else None)
            gone = old.loaded.documents if old is not None else []
            return Cached(stamp, loaded, None, found), Splice(loaded, gone, loaded.documents, [])
        if pre is not None and pre.stamp == stamp:
            splice = parse_file(self._config.source, item, pre.data, old)
            kept = pre.data if item.kind == "ndjson" else None
            # Bytes kept: hashed only if a fingerprint asks (a revalidate never does).
            known = pre.digest if kept is None else pre.taken
            return Cached(stamp, splice.loaded, kept, known), splice
        if item.kind != "ndjson":
            stamp, whole = read_stable(item, stamp)
            splice = parse_file(self._config.source, item, whole, old)
            return Cached(stamp, splice.loaded, None, digest(whole)), splice
        if self._kept and old is not None and old.data is not None:
            line = None  # the kept bytes of the line of the document a webhook named
            if self._hint is not None:
                from ssgen.sources.local.lines import line_of
                line, self._index = line_of(old.loaded, old.data, self._hint, self._index)
            return reread(self._config.source, item, settled_stamp(item, stamp), old, line)
        # Read into new memory, not into a buffer kept from the last read: a kept source
        # then holds the file's bytes once, not twice (70 MB at 10k starter posts).
        stamp, data = read_stable(item, stamp)
        splice = parse_file(self._config.source, item, data, old)
        return Cached(stamp, splice.loaded, data), splice

    def settle(self) -> None:
        """Apply the patches the last reload left to the kept bytes (``cached.reread``)
        and unmap the file it compared: serve calls it after the round's replies; any
        reader of the bytes before then applies its file's first. The kept bytes are
        made patchable in place then too (``Cached.own``: once, after serve's start-up
        round, not in its first webhook's)."""
        for cached in self._cache.values():
            cached.settle()
            if self._kept:
                cached.own()
        from ssgen.sources.leased import unmap_left
        unmap_left()

    def replace_lines(self, path: str, lines: Mapping[str, bytes | None]) -> Loaded | None:
        """A kept source's file in ``_id`` order (the Sanity mirror's snapshot): give each
        ``_id`` of ``lines`` that line (None: none) in the kept bytes and the view, the
        file left as it is (``lines.replace_lines``); the file's new parse, or None when
        it could not be told (the next reload then reads the file whole)."""
        if not self._kept:
            return None
        from ssgen.sources.local.lines import replace_lines
        loaded = replace_lines(self._cache, path, lines)
        if loaded is not None and loaded[1]:
            with gc_paused():
                self._view.update(self._loads(), loaded[1])
            self._documents = None
        return loaded[0] if loaded is not None else None

    def kept_parse(self, path: str) -> tuple[Data, list[dict[str, Any]]] | None:
        """The kept bytes and documents of the file at ``path`` (``lines.kept_parse``)."""
        from ssgen.sources.local.lines import kept_parse
        return kept_parse(self._cache, self._loaded_inputs, path)

    def adopt_stamp(self, path: str, data: Data) -> None:
        """The file at ``path`` was just written with the kept bytes ``data``: take its
        stamp, so the next reload does not compare them again."""
        from ssgen.sources.local.lines import adopt_stamp
        adopt_stamp(self._cache, self._loaded_inputs, path, data)

    def _inputs(self) -> list[Input]:
        return site_inputs(self._config)

    def _loads(self) -> list[Loaded]:
        return [cached.loaded for cached in self._cache.values()]

    def faults(self) -> list[Fault]:
        """The documents left out of the dataset as it stands, in load order: lines and
        files that do not parse into a document, then refused duplicate ``_id``s."""
        found = [fault for cached in self._cache.values() for fault in cached.loaded.faults]
        return found + self._view.faults
