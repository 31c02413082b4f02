"""A Markdown-only local site in a new process: only the changed files' cache entries are used.

Owns ``LazyMarkdown``. A build of a site whose inputs are all Markdown files loads 16k
per-file objects, a merged view and a ``Dataset`` (~0.3 s CPU) to answer, after a
one-file edit, what the parse cache (``ssgen.sources.filecache``) already holds: which
documents changed, their states, and the changed documents themselves. This source
answers those from the cache entries of the files whose stamp changed (read and parsed
as ``LocalSource`` would), and loads the full ``LocalSource`` (``load``) the moment
anything else is asked of it (a query, the dataset, ...): never a different answer, only
a later load.

What vouches for the unchanged files is the cache's mark (``FileCache.save``): the
``session:version`` of the source whose entries it saved, kept with the checksums of
the shard files it saved them in. The build that used that source recorded the same
``session:version`` in the manifest (``documents_at``) with the documents' states, so
when the two are equal the manifest's states are those of the cache's entries, and a
file whose stamp the cache trusts has the document the manifest recorded. This source
then continues that session: ``changed_since(recorded version)`` is the ``_id``s of the
files added, changed or removed since, and the build diffs only those (``docstate``).
A Markdown document's ``_id`` comes from its file's name (``markdown_id``), so the ids of
removed files need no unpacking; two files that give one ``_id`` (a duplicate the merged
view settles) load the full source instead.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ssgen.sources import QueryResult, Source
from ssgen.sources.filecache import Entry, FileCache
from ssgen.sources.markdown_docs import cached_markdown, markdown_id, markdown_ids
from ssgen.sources.ndjson import Fault

if TYPE_CHECKING:
    from ssgen.config.load import Config
    from ssgen.groq.nodes import Query
    from ssgen.sources.inputs import Input, ReadInputs

# More changed files than this: the full source is loaded (the routes then run in full).
MOST_CHANGES = 1024
# Entries to rewrite from which the cache is saved by a forked process while the build
# goes on: one shard of a 16k-file site (250 entries, ~5 ms to encode, hash and write)
# costs more than the fork (~0.5-1 ms); a small site's shard less.
EDIT_BACKGROUND = 128


class LazyMarkdown:
    """The source of a Markdown-only site, from the cache entries of its changed files."""

    exact_ids = True
    ref_tags = True  # through the full source, loaded when asked (``references``)

    def __init__(self, read: ReadInputs, cache: FileCache, ids: dict[str, Input],
                 recorded: tuple[str, int], load: Callable[[], Source]) -> None:
        self._read, self._cache, self._ids, self._load = read, cache, ids, load
        self._session, self._recorded = recorded
        self._version = self._recorded
        self._full: Any = None  # the full source once loaded (a ``LocalSource``)
        self._changed: frozenset[str] = frozenset()

    @classmethod
    def open(cls, config: Config, read: ReadInputs, recorded: str,
             load: Callable[[], Source]) -> LazyMarkdown | None:
        """The lazy source of ``read`` when the cache's mark is ``recorded`` (the
        manifest's ``documents_at``) and every input is a Markdown file with an ``_id``
        of its own; None otherwise (the caller loads the full source)."""
        cache, inputs = read.cache, read.inputs
        session, _, version = recorded.rpartition(":")
        if cache is None or inputs is None or read.stamps is None or not session \
                or not version.isdigit() or cache.mark != recorded or config.source.files \
                or any(item.kind != "markdown" for item in inputs):
            return None
        ids = dict(zip(markdown_ids([item.rel for item in inputs]), inputs, strict=True))
        if len(ids) != len(inputs):
            return None
        source = cls(read, cache, ids, (session, int(version)), load)
        return source if source._take_changes(config) else None

    def _take_changes(self, config: Config) -> bool:
        """Read and parse the changed files into the cache, note their ``_id``s and
        save the cache marked as this source's new version; False: too many changes,
        or a cache entry not under the Markdown folder."""
        read, cache = self._read, self._cache
        assert read.inputs is not None and read.stamps is not None
        paths = [item.path for item in read.inputs]
        hits = read.hits  # as listed: the cache changed since only by ``put`` (``replaced``)
        if hits is None or len(hits) != len(paths):
            hits = cache.trusted(paths, read.stamps, count=False)
        replaced = cache.replaced  # parsed by the children since loading: not the marked
        changed = [(item, stamp) for item, stamp, hit in zip(read.inputs, read.stamps, hits,
                                                             strict=True)
                   if hit is None or item.path in replaced]
        names = cache.names()
        # Inputs are distinct and a hit is a name: as many names as inputs, and every
        # changed input a name too, leave no name out (the edit's case), without a set of
        # 16k paths made and diffed with the names twice (~4 ms).
        whole = len(names) == len(paths) and all(item.path in names for item, _ in changed)
        current = set() if whole else set(paths)
        removed = [] if whole else removed_files(names, current)
        if len(changed) + len(removed) > MOST_CHANGES:
            return False
        base = os.path.join(config.site_dir, posixpath.normpath(config.source.markdown_dir), "")
        if not all(name.startswith(base) for name in removed):
            return False
        default_type = config.source.markdown_type
        for item, stamp in changed:
            pre = read.files.get(item.path)
            fresh = pre is not None and pre.stamp == stamp
            cached_markdown(cache, item.path, item.rel, item.display, default_type, stamp,
                            read.read_at, pre.data if pre is not None and fresh else None)
        self._changed = frozenset([markdown_id(item.rel) for item, _ in changed]
                                  + [markdown_id(name[len(base):]) for name in removed])
        if self._changed:
            self._version = self._recorded + 1
            if removed:  # else each name is an input: nothing to forget
                cache.keep_only(current)
            cache.save(background=True, mark=f"{self._session}:{self._version}",
                       least=EDIT_BACKGROUND)
        return True

    # What a build asks of a versioned source (``ssgen.build.docstate``).

    @property
    def session(self) -> str:
        return str(self._full.session) if self._full is not None else self._session

    @property
    def version(self) -> int:
        return int(self._full.version) if self._full is not None else self._version

    def changed_since(self, version: int) -> frozenset[str] | None:
        """The ``_id``s of the files changed since the recorded version (None: unknown)."""
        if self._full is not None:
            found: frozenset[str] | None = self._full.changed_since(version)
            return found
        if version == self._version:
            return frozenset()
        return self._changed if version == self._recorded else None

    def document_state(self, ids: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
        """``_id`` -> (``_type``, content hash) of the documents of ``ids`` (all: None)."""
        if self._full is not None:
            state: dict[str, tuple[str, str]] = self._full.document_state(ids)
            return state
        found: dict[str, tuple[str, str]] = {}
        for doc_id in self._ids if ids is None else ids:
            entry = self._entry(doc_id)
            if entry is not None and entry.hashes:  # as many as its documents
                found[doc_id] = (entry.documents[0]["_type"], entry.hashes[0])
        return found

    def document(self, doc_id: str) -> dict[str, Any] | None:
        """The visible document ``doc_id`` (None: there is none)."""
        if self._full is not None:
            doc: dict[str, Any] | None = self._full.dataset.by_id.get(doc_id)
            return doc
        entry = self._entry(doc_id)
        return entry.documents[0] if entry is not None and entry.hashes else None

    def faults(self) -> list[Fault]:
        """The files left out (their faults, in load order); no duplicates by design."""
        if self._full is not None:
            return list(self._full.faults())
        assert self._read.inputs is not None
        return [Fault(where, message)
                for where, message in self._cache.faults([item.path for item in self._read.inputs])]

    def fingerprint(self) -> str:
        """The fingerprint of the files as read (``read_inputs``)."""
        return self._read.fingerprint

    def query(self, query: Query, params: Mapping[str, Any] | None = None, *,
              now: datetime | None = None) -> QueryResult:
        """Through the full source (loaded now)."""
        return self.full().query(query, params, now=now)

    def query_many(self, requests: Sequence[tuple[Query, Mapping[str, Any]]], *,
                   now: datetime | None = None, sequences: bool = False) -> list[QueryResult]:
        """Through the full source (loaded now); nothing to load for no request."""
        return self.full().query_many(requests, now=now, sequences=sequences) \
            if requests else []

    def loaded_mark(self) -> str | None:
        """The full source's ``session:version`` when it was loaded from the very files
        this source read (their fingerprint is the same, so are the documents); None
        when it was not loaded, or read other bytes."""
        full = self._full
        if full is None or getattr(full, "fingerprint", None) is None \
                or full.fingerprint() != self._read.fingerprint:
            return None
        return f"{full.session}:{full.version}"

    def full(self) -> Source:
        """The full source, loaded on first use."""
        if self._full is None:
            self._full = self._load()
        full: Source = self._full
        return full

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.full(), name)

    def _entry(self, doc_id: str) -> Entry | None:
        item = self._ids.get(doc_id)
        return None if item is None else self._cache.entry(item.path)


def removed_files(cached: AbstractSet[str], current: set[str]) -> list[str]:
    """The cached files that are no longer inputs (their documents are gone)."""
    return sorted(cached - current)  # a set difference: 16k names in C


__all__ = ["LazyMarkdown"]
