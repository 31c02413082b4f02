"""What queries on the local source see, kept in step with file edits per document.

Owns the merged raw documents of all files (duplicate ``_id`` detection: the first in load
order is kept, a later one is refused and recorded as a ``Fault`` naming both places), the
perspective (``published`` hides drafts, ``drafts`` overlays each draft on its published
document as Sanity's drafts perspective does, ``raw`` keeps everything), the
``ssgen.groq.Dataset`` of the visible documents, their ``(_type, hash)`` state, the
version log that says which visible ``_id``s each reload changed, and the ids the
documents a reload replaced referenced, by their content hash (``references``).

A reload hands over the documents each changed file dropped and gained; only those and
the visible documents they map to are looked at.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ssgen import shells
from ssgen.groq.dataset import Dataset
from ssgen.groq.refindex import outgoing
from ssgen.sources import content_hash
from ssgen.sources.ndjson import Fault, Loaded
from ssgen.sources.ndjson.diff import Splice

Doc = dict[str, Any]
_LOG_SIZE = 64
# A reload replacing more documents than this keeps none of their references: a build
# then finds them unknown and re-queries the pages their ``references()`` scans could
# reach in full (``ssgen.build.scope``).
_FORMER_MOST = 64
_HIDDEN = ("drafts.", "versions.")


class View:
    """The visible documents of one perspective over the merged documents of all files.
    ``merge_next``: the next update compares every document with the view's (a reload
    failed after its reads changed the files' parses), not only its splices'."""

    merge_next = False

    def __init__(self, perspective: str, *, name: str | None, project_id: str | None) -> None:
        self.perspective = perspective
        self.dataset = Dataset([], name=name, project_id=project_id)
        self.state: dict[str, tuple[str, str]] = {}
        self.version = 0
        self._raw: dict[str, Doc] = {}
        self._digests: dict[str, str] = {}  # raw _id -> the hash of its NDJSON line
        self._deduped = False  # a duplicate _id, or two files share an asset document
        self.faults: list[Fault] = []  # the refused duplicates
        self._log: deque[tuple[int, frozenset[str]]] = deque(maxlen=_LOG_SIZE)
        # Per reload: the replaced or removed visible documents' (content hash, the ids
        # they referenced).
        self._former: deque[dict[str, tuple[str, frozenset[str]]]] = deque(maxlen=_LOG_SIZE)

    def changed_since(self, version: int) -> frozenset[str] | None:
        """The visible ``_id``s added, removed or replaced since ``version``; None when
        the log does not reach back that far (or ``version`` is not one of ours)."""
        if version == self.version:
            return frozenset()
        if version > self.version or not self._log or version < self._log[0][0] - 1:
            return None
        changed: set[str] = set()
        for logged, ids in self._log:
            if logged > version:
                changed |= ids
        return frozenset(changed)

    def references(self, doc_id: str, digest: str | None = None) -> frozenset[str] | None:
        """The ids the visible document ``doc_id`` references (empty: there is none), or,
        with ``digest``, those its version of that content hash referenced while it was
        visible; None when no version of that hash is known."""
        doc = shells.filled(self.dataset.by_id.get(doc_id))
        state = self.state.get(doc_id)
        if digest is None or (state is not None and state[1] == digest):
            return outgoing(doc) if doc is not None else frozenset()
        for former in reversed(self._former):
            known = former.get(doc_id)
            if known is not None and known[0] == digest:
                return known[1]
        return None

    def update(self, loads: list[Loaded], splices: list[Splice]) -> bool:
        """Take in the files' changes (``loads``: every file's parse, in load order);
        whether the visible documents changed."""
        if self.version == 0 and self.perspective != "drafts":
            return self._first(loads)
        found = None if self._deduped or self.merge_next or self.version == 0 \
            else _raw_changes(self._raw, splices)
        if found is None:
            shells.fill_all()  # a full merge reads every document
            found = self._merged(loads)
        changes, digests = found
        self._fill_changed(changes)
        changed = self._commit(changes, digests)
        self.__dict__.pop("merge_next", None)
        return changed

    def _fill_changed(self, changes: dict[str, Doc | None]) -> None:
        """Fill the changed documents' former versions (a lazily resumed snapshot's
        shells): the commit reads them (their references, the indexes' keys)."""
        if shells.lazy():
            shells.fill({doc_id[7:] if doc_id.startswith("drafts.") else doc_id
                         for doc_id in changes} | changes.keys())

    @contextmanager
    def merged_after_failure(self) -> Iterator[None]:
        """A reload's reads and update: when they raise, ``merge_next``. A kept file's
        re-read splices its last parse in place (``cached.reread``), so the next reload's
        splices would not carry the changes this view never took."""
        try:
            yield
        except BaseException:
            self.merge_next = True
            raise

    def documents(self, loads: list[Loaded]) -> list[Doc]:
        """The visible documents in file order (O(n): not for the serve path)."""
        shells.fill_all()
        by_id = self.dataset.by_id
        kept = merge(loads, [])
        return [by_id[doc["_id"]] for doc in apply_perspective(kept, self.perspective)]

    def _first(self, loads: list[Loaded]) -> bool:
        """The first load without drafts to overlay: every document is new, so the
        per-``_id`` diff of ``_merged`` and ``_commit`` is skipped (16k Markdown files:
        ~0.1 s of a new process); the same view results (a test holds them equal)."""
        self.faults = []
        raw = merge(loads, self.faults)
        self._deduped = len(raw) < sum(len(loaded.documents) for loaded in loads)
        self._raw = {doc["_id"]: doc for doc in raw}
        for loaded in loads:
            if len(loaded.digests) == len(loaded.documents):
                self._digests.update((doc["_id"], digest) for doc, digest in
                                     zip(loaded.documents, loaded.digests, strict=True)
                                     if self._raw.get(doc["_id"]) is doc)
        visible = {doc["_id"]: doc for doc in apply_perspective(raw, self.perspective)}
        self.dataset.update(visible)
        digests = self._digests
        self.state = {doc_id: (doc["_type"], digests.get(doc_id) or content_hash(doc))
                      for doc_id, doc in visible.items()}
        self.version += 1
        self._log.append((self.version, frozenset(visible)))
        return True

    def _merged(self, loads: list[Loaded]) -> tuple[dict[str, Doc | None], dict[str, str | None]]:
        """All raw changes, from a full merge (first load, shared asset documents, or a
        duplicate to report with both places)."""
        self.faults = []
        raw = merge(loads, self.faults)
        self._deduped = len(raw) < sum(len(loaded.documents) for loaded in loads)
        by_id = {doc["_id"]: doc for doc in raw}
        changes = {doc_id: by_id.get(doc_id) for doc_id in self._raw.keys() | by_id.keys()
                   if self._raw.get(doc_id) is not by_id.get(doc_id)}
        digests: dict[str, str | None] = dict.fromkeys(self._digests)
        for loaded in loads:
            if len(loaded.digests) == len(loaded.documents):
                digests.update((doc["_id"], digest) for doc, digest in
                               zip(loaded.documents, loaded.digests, strict=True)
                               if by_id.get(doc["_id"]) is doc)
        return changes, digests

    def _commit(self, changes: dict[str, Doc | None], digests: dict[str, str | None]) -> bool:
        visible = self._visible_changes(changes)
        for doc_id, doc in changes.items():
            if doc is None:
                del self._raw[doc_id]
            else:
                self._raw[doc_id] = doc
        for doc_id, digest in digests.items():
            if digest is None:
                self._digests.pop(doc_id, None)
            else:
                self._digests[doc_id] = digest
        if not visible and self.version:
            return False
        self._note_former(visible)
        self.dataset.update(visible)
        for doc_id, doc in visible.items():
            if doc is None:
                del self.state[doc_id]
            else:
                raw_digest = self._digests.get(doc_id) if self._raw.get(doc_id) is doc else None
                self.state[doc_id] = (doc["_type"], raw_digest or content_hash(doc))
        self.version += 1
        self._log.append((self.version, frozenset(visible)))
        return True

    def _note_former(self, visible: dict[str, Doc | None]) -> None:
        by_id, state = self.dataset.by_id, self.state
        replaced = [doc_id for doc_id in visible if doc_id in state and doc_id in by_id]
        if len(replaced) > _FORMER_MOST:
            self._former.clear()  # older versions stay unknown too: no gap in between
            return
        self._former.append({doc_id: (state[doc_id][1], outgoing(by_id[doc_id]))
                             for doc_id in replaced})

    def _visible_changes(self, changes: dict[str, Doc | None]) -> dict[str, Doc | None]:
        """Visible ``_id`` -> its new document (None: gone), for those that changed."""
        def raw(doc_id: str) -> Doc | None:
            return changes[doc_id] if doc_id in changes else self._raw.get(doc_id)

        current = self.dataset.by_id
        out: dict[str, Doc | None] = {}
        for visible_id in {self._visible_id(doc_id) for doc_id in changes} - {None}:
            assert visible_id is not None
            doc = self._visible(visible_id, raw, changes)
            if doc is not current.get(visible_id):
                out[visible_id] = doc
        return out

    def _visible_id(self, raw_id: str) -> str | None:
        """The visible ``_id`` a raw document's ``_id`` contributes to, if any."""
        if self.perspective == "raw":
            return raw_id
        if self.perspective == "published":
            return None if raw_id.startswith(_HIDDEN) else raw_id
        if raw_id.startswith("drafts."):
            return raw_id[7:]
        return None if raw_id.startswith("versions.") else raw_id

    def _visible(self, visible_id: str, raw: Callable[[str], Doc | None],
                 changes: dict[str, Doc | None]) -> Doc | None:
        if self.perspective != "drafts":
            return raw(visible_id)
        draft_id = f"drafts.{visible_id}"
        draft = raw(draft_id)
        if draft is None:
            return None if visible_id.startswith(_HIDDEN) else raw(visible_id)
        if draft_id not in changes:  # the overlay of an unchanged draft: keep its object
            return self.dataset.by_id[visible_id]
        return _as_published(draft)


def _raw_changes(raw: dict[str, Doc], splices: Iterable[Splice]
                 ) -> tuple[dict[str, Doc | None], dict[str, str | None]] | None:
    """Raw ``_id`` -> new document (None: gone) and line digest (None: none) from the
    files' splices; None when only a full merge can tell (a duplicate ``_id``)."""
    changes: dict[str, Doc | None] = {}
    digests: dict[str, str | None] = {}
    splices = list(splices)
    for splice in splices:
        for doc in splice.removed:
            doc_id = _id_of(doc)
            if (changes[doc_id] if doc_id in changes else raw.get(doc_id)) is not doc:
                return None
            changes[doc_id] = digests[doc_id] = None
    for splice in splices:
        known: list[str | None] = [*splice.added_digests] or [None] * len(splice.added)
        for doc, digest in zip(splice.added, known, strict=True):
            doc_id = _id_of(doc)
            if (changes[doc_id] if doc_id in changes else raw.get(doc_id)) is not None:
                return None
            changes[doc_id], digests[doc_id] = doc, digest
    return {doc_id: doc for doc_id, doc in changes.items() if raw.get(doc_id) is not doc}, digests


def _id_of(doc: Doc) -> Any:
    """``doc["_id"]``; a snapshot's unfilled shell's from its table (the re-parsed region
    of a resumed file holds the kept documents: told apart by identity, not read)."""
    doc_id = shells.id_of(doc)
    if doc_id is None:
        return doc["_id"]
    return doc_id


def merge(loads: list[Loaded], faults: list[Fault]) -> list[Doc]:
    """All documents in load order. Of two with one ``_id``, the first is kept and the
    later one refused, with a fault naming both places in ``faults`` (identical
    synthesised asset documents, from two exports of one dataset, are kept once)."""
    documents = [doc for loaded in loads for doc in loaded.documents]
    if len({doc["_id"] for doc in documents}) == len(documents):
        return documents
    seen: dict[str, tuple[Loaded, int]] = {}
    kept: list[Doc] = []
    for loaded in loads:
        for index, doc in enumerate(loaded.documents):
            first = seen.setdefault(doc["_id"], (loaded, index))
            if first[0] is loaded and first[1] == index:
                kept.append(doc)
            elif not _same_asset(first[0].documents[first[1]], doc):
                where = loaded.where(index)
                faults.append(Fault(where, f"{where}: duplicate _id {doc['_id']!r} (first "
                                           f"defined at {first[0].where(first[1])}); this "
                                           "one is skipped"))
    return kept


def _same_asset(first: Doc, second: Doc) -> bool:
    """Two exports may both carry the same (identical) synthesised asset document."""
    return str(first["_type"]).startswith("sanity.") and first == second


def apply_perspective(documents: list[Doc], perspective: str) -> list[Doc]:
    """The documents a query sees in ``perspective`` (published | drafts | raw)."""
    if perspective == "raw":
        return documents
    if perspective == "published":
        return [d for d in documents if not d["_id"].startswith(_HIDDEN)]
    drafts = {d["_id"][7:]: d for d in documents if d["_id"].startswith("drafts.")}
    published = {d["_id"] for d in documents if not d["_id"].startswith(_HIDDEN)}
    out: list[Doc] = []
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


def _as_published(draft: Doc) -> Doc:
    """A draft under its published ``_id``; ``_originalId`` keeps the draft's, as the
    Content Lake's drafts perspective does (templates can show a "draft" badge)."""
    return {**draft, "_id": draft["_id"][7:], "_originalId": draft["_id"]}
