"""Which documents changed since the last build: the document states a build compares.

A build diffs each document's (type, content hash) against what the manifest recorded.
For a source that can list its documents that is O(dataset) on every build; a kept
source (serve) that also reports which ids changed since a version of itself
(``version``, ``changed_since``, ``session``) lets a rebuild compare only those
documents, when the manifest says it was last written from this very source
(``documents_at`` = session:version). A source resumed from a snapshot (a new process) has
a session of its own, but knows the state it was resumed from and which ids changed since
(``lineage``): when the manifest was recorded from that state (its mark is the snapshot's),
or from that state changed in a set of ids the recording build noted beside its mark
(``BASE_KEY``), only those ids and its own changed ones are compared. Anything else falls
back to the full comparison.
A new process of a Markdown-only site continues the recorded session from the parse
cache (``lazy_or_loaded``, ``ssgen.sources.lazy``) when the cache is marked with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, Protocol, cast, runtime_checkable

from ssgen.config.load import Config
from ssgen.fastclass import dataclass
from ssgen.manifest.store import Manifest
from ssgen.sources import Source, content_hash
from ssgen.sources.inputs import ReadInputs, unread_files
from ssgen.sources.lazy import LazyMarkdown

DocState = dict[str, tuple[str, str]]  # _id -> (_type, content hash)
MARK_KEY = "documents_at"
# Beside the mark: [mark, origin, ids]: the recorded documents are the states of the source
# state ``origin`` (``session:version``) except for ``ids`` (see ``_since_origin``).
BASE_KEY = "documents_base"
# A lineage of more ids than this is not recorded (a snapshot that stale is re-saved).
BASE_IDS = 4096


@runtime_checkable
class VersionedSource(Protocol):
    """A source that knows which documents changed between two of its versions."""

    session: str
    version: int

    def changed_since(self, version: int) -> frozenset[str] | None:
        """Visible ``_id``s added, removed or replaced since ``version`` (None: unknown)."""
        ...

    def document_state(self, ids: Iterable[str] | None = None) -> DocState:
        """``_id`` -> (``_type``, content hash) of every visible document, or of ``ids``."""
        ...


@dataclass(frozen=True, slots=True)
class DocStates:
    """Recorded and current states of the documents a build compares.

    ``before`` is None in a full build. Both hold every document, or, when ``partial``,
    only those changed since the build that wrote the manifest (ids absent from both are
    unchanged). ``mark`` is what the manifest records as ``documents_at`` with them.
    """

    before: DocState | None
    after: DocState
    partial: bool = False
    mark: str = ""
    base: str = ""  # recorded as ``BASE_KEY`` with ``mark``


def document_states(source: Source, manifest: Manifest, *, full: bool) -> DocStates | None:
    """The states to diff (None: the source cannot list its documents, e.g. Sanity)."""
    mark = source_mark(source)
    lineage = _lineage(source)
    base = _base(mark, lineage)
    if mark and not full and isinstance(source, VersionedSource):
        recorded = manifest.get_meta(MARK_KEY) or ""
        changed = _changed_since_mark(source, recorded)
        if changed is None and lineage is not None:
            changed = _since_origin(lineage, recorded, manifest.get_meta(BASE_KEY) or "")
        if changed is not None:
            return DocStates(manifest.documents(changed), source.document_state(changed),
                             partial=True, mark=mark, base=base)
    state = _full_state(source)
    if state is None:
        return None
    return DocStates(None if full else manifest.documents(), state, mark=mark, base=base)


def lazy_or_loaded(config: Config, manifest: Manifest, read: ReadInputs | None,
                   load: Callable[[], Source]) -> Source:
    """A Markdown-only site's source from its changed files' cache entries, when the
    parse cache is marked as the source state the manifest recorded (``MARK_KEY``:
    ``ssgen.sources.lazy``); else ``load()``. The lazy source loads the full one itself
    when a build asks it for more."""
    if read is None or unread_files(config):  # the full load warns about those files
        return load()
    lazy = LazyMarkdown.open(config, read, manifest.get_meta(MARK_KEY) or "", load)
    return lazy if lazy is not None else load()


def settled(states: DocStates | None, source: Source) -> DocStates | None:
    """``states`` marked as the full source's state when a lazy source loaded it since
    from the very files it read: the parse cache the full source saves carries that
    mark, and the manifest recording it lets the next build be lazy again (and a plain
    build leave a quick plan, ``ssgen.build.quick.plan``)."""
    if states is None or not states.mark or not isinstance(source, LazyMarkdown):
        return states
    mark = source.loaded_mark()
    return states if mark is None else DocStates(states.before, states.after,
                                                 partial=states.partial, mark=mark)


def source_mark(source: Source) -> str:
    """``session:version`` of a versioned source, else ""."""
    if not isinstance(source, VersionedSource):
        return ""
    return f"{source.session}:{source.version}"


def _changed_since_mark(source: VersionedSource, recorded: str) -> frozenset[str] | None:
    session, _, version = recorded.rpartition(":")
    if session != source.session or not version.isdigit():
        return None
    return source.changed_since(int(version))


def _lineage(source: Source) -> tuple[str, frozenset[str]] | None:
    """A resumed source's origin and the ids changed since (``LocalSource.lineage``)."""
    lineage = getattr(type(source), "lineage", None)  # the class's: a lazy source loads
    return lineage(source) if callable(lineage) else None


def _base(mark: str, lineage: tuple[str, frozenset[str]] | None) -> str:
    """What a build records as ``BASE_KEY`` with ``mark`` ("" for none)."""
    if not mark or lineage is None or len(lineage[1]) > BASE_IDS:
        return ""
    return json.dumps([mark, lineage[0], sorted(lineage[1])])


def _since_origin(lineage: tuple[str, frozenset[str]], recorded: str,
                  base: str) -> frozenset[str] | None:
    """The ids that can differ between the manifest's documents and a resumed source's,
    from the source's ``lineage`` (its origin state, the ids changed since): the source
    differs from its origin in those ids; the manifest holds the origin's states when its
    mark is the origin, or when the base recorded with its mark names the origin, except
    for the base's ids. None: no such relation known."""
    origin, changed = lineage
    if not recorded:
        return None
    if recorded == origin:
        return changed
    try:
        mark, base_origin, ids = json.loads(base) if base else ("", "", [])
    except (ValueError, TypeError):
        return None
    if mark != recorded or base_origin != origin or not isinstance(ids, list) \
            or not all(isinstance(i, str) for i in ids):
        return None
    return changed | frozenset(ids)


def _full_state(source: Source) -> DocState | None:
    own = getattr(source, "document_state", None)
    if callable(own):
        return cast(DocState, own())
    documents: Any = getattr(source, "documents", None)
    if documents is None:
        return None
    return {str(doc["_id"]): (str(doc.get("_type", "")), content_hash(doc)) for doc in documents}
