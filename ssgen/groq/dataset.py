"""The in-memory dataset GROQ queries run over, with its indexes.

Documents are kept in ``_id`` order (what ``*`` yields). Indexes by ``_id`` and
``_type`` are made up front, equality indexes on other attribute paths (e.g.
``slug.current``) lazily, the first time a filter can use one. Documents are treated as
immutable once they are in a Dataset: new content replaces a document (a new dict),
never edits it.

The reverse-reference index (refindex.py) is built on first use too, by
``referrers``/``refs_of``, and kept up to date by ``update`` like the others.

``update`` changes a Dataset in place, by ``_id``, in O(changed x log n) plus a copy of
the lists it touches: the ``documents`` list and index buckets it hands out are never
mutated afterwards (a change replaces them), so a query result that is one of them keeps
its value; ``by_id`` and the index dicts are updated in place. The documents, and a bucket
longer than two chunks, are a ``Chunks`` (chunks.py): the copy then takes the list of
chunks and the chunk written to, not 100,000 references (31 ms of a serve round at
100,000 posts); ``*`` is their ``plain()`` list. Queries must not run
while ``update`` does (``ssgen serve`` runs queries and reloads on one thread).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ssgen import shells
from ssgen.errors import GroqEvaluationError
from ssgen.groq.chunks import Chunks, chunked
from ssgen.groq.idorder import id_key, place
from ssgen.groq.refindex import ReferenceIndex
from ssgen.groq.values import hash_key

AttrPath = tuple[str, ...]
Bucket = list[dict[str, Any]] | Chunks  # documents in ``_id`` order
_NULL_KEY = hash_key(None)


def get_path(doc: Any, path: AttrPath) -> Any:
    """The value at an attribute path of a value (null when any step is missing)."""
    value = doc
    for name in path:
        if type(value) is not dict:
            return None
        value = value.get(name)
    return value


class Dataset:
    """Documents in ``_id`` order with ``_id``, ``_type`` and field-equality indexes."""

    def __init__(
        self,
        documents: Iterable[dict[str, Any]],
        *,
        name: str | None = None,
        project_id: str | None = None,
    ) -> None:
        docs = []
        for i, doc in enumerate(documents):
            if type(doc) is not dict:
                raise GroqEvaluationError(
                    f"dataset document #{i + 1} is a {type(doc).__name__}, not an object")
            docs.append(doc)
        self.name = name
        self.project_id = project_id
        self._lock = threading.Lock()
        # Per-document projection values kept across evaluations (memo.py); each entry
        # checks itself against by_id, so neither updates nor resets must clear them.
        self.memos: dict[int, dict[str, Any]] = {}
        self._reset(docs)

    def _reset(self, docs: list[dict[str, Any]]) -> None:
        docs.sort(key=id_key)
        self.documents = Chunks(docs)
        self.by_id: dict[str, dict[str, Any]] = {}
        for doc in docs:
            doc_id = doc.get("_id")
            if type(doc_id) is str:
                self.by_id.setdefault(doc_id, doc)
        self._unique_ids = len(self.by_id) == sum(
            1 for doc in docs if type(doc.get("_id")) is str)
        self._all_ids = self._unique_ids and len(self.by_id) == len(docs)
        self._positions: dict[int, int] | None = {id(doc): i for i, doc in enumerate(docs)}
        self._indexes: dict[AttrPath, dict[Any, Bucket]] = {}
        self._indexes[("_type",)] = self._build(("_type",))
        self._refs: ReferenceIndex | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (a kept source's snapshot): no lock, and nothing keyed by ``id()``
        (positions and memos are rebuilt on use, the reference index is re-keyed)."""
        state = dict(self.__dict__)
        del state["_lock"]
        refs = state.pop("_refs")
        state.update(memos={}, _positions=None,
                     _refs=None if refs is None else refs.export(self.documents))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        exported = state.pop("_refs")
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._refs = None if exported is None else ReferenceIndex.restore(self.documents,
                                                                          exported)

    def __len__(self) -> int:
        return len(self.documents)

    def __iter__(self) -> Any:
        return iter(self.documents)

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The document with this ``_id``, or None."""
        return self.by_id.get(doc_id)

    def of_type(self, type_name: str) -> Sequence[dict[str, Any]]:
        """Documents whose ``_type`` is type_name, in ``_id`` order."""
        return self._indexes[("_type",)].get(type_name, ())

    def lookup(self, path: AttrPath, value: Any) -> Sequence[dict[str, Any]] | None:
        """Documents whose attribute at ``path`` equals ``value`` (GROQ ``==``), in
        ``_id`` order; None when the value cannot be looked up (arrays, objects)."""
        key = hash_key(value)
        if key is None:
            return None
        if path == ("_id",) and type(value) is str and self._unique_ids:
            doc = self.by_id.get(value)
            return [doc] if doc is not None else []
        index = self._indexes.get(path)
        if index is None:
            index = self.index(path)
        return index.get(key, ())

    def lookup_null(self, path: AttrPath) -> Sequence[dict[str, Any]]:
        """Documents where the attribute at ``path`` is null or missing."""
        index = self._indexes.get(path) or self.index(path)
        return index.get(_NULL_KEY, ())

    def index(self, path: AttrPath) -> dict[Any, Bucket]:
        """The equality index on ``path``, built on first use (thread-safe)."""
        with self._lock:
            index = self._indexes.get(path)
            if index is None:
                index = self._build(path)
                self._indexes[path] = index
        return index

    def holds(self, obj: dict[str, Any]) -> bool:
        """Whether ``obj`` is one of this dataset's documents (the object itself)."""
        positions = self._positions
        if positions is not None:  # no need to touch the object
            return id(obj) in positions
        doc_id = shells.id_of(obj)
        return type(doc_id) is str and self.by_id.get(doc_id) is obj

    def in_order(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Documents of this dataset sorted back into dataset (``_id``) order."""
        if len(docs) < 2:
            return docs
        positions = self._positions
        if positions is None:  # dropped by update(); rebuilt on first use
            positions = {id(doc): i for i, doc in enumerate(self.documents)}
            self._positions = positions
        return sorted(docs, key=lambda doc: positions.get(id(doc), -1))

    def referrers(self, doc_id: str) -> Sequence[dict[str, Any]]:
        """The documents that reference ``doc_id`` (``references(doc_id)`` is true for
        them), in ``_id`` order."""
        return self.reference_index().referrers(doc_id)

    def refs_of(self, doc: dict[str, Any]) -> frozenset[str]:
        """The ids a document of this dataset references."""
        return self.reference_index().refs_of(shells.filled(doc))

    def reference_index(self) -> ReferenceIndex:
        """The reverse-reference index, built on first use (thread-safe)."""
        refs = self._refs
        if refs is None:
            with self._lock:
                refs = self._refs
                if refs is None:
                    shells.fill_all()  # it reads every document
                    refs = self._refs = ReferenceIndex(self.documents)
        return refs

    def has_index(self, path: AttrPath) -> bool:
        """Whether the index on ``path`` exists already."""
        return path in self._indexes

    def update(self, changes: Mapping[str, dict[str, Any] | None]) -> None:
        """Replace (or add) the document of each ``_id`` with the given one, or remove it
        (None); every index follows. Needs unique string ``_id``s, before and after."""
        if not self._all_ids:
            raise ValueError("Dataset.update needs every document to have a unique _id")
        for doc_id, doc in changes.items():
            if doc is not None and (type(doc) is not dict or doc.get("_id") != doc_id):
                raise ValueError(f"Dataset.update: the document for {doc_id!r} has another _id")
        if not changes:
            return
        if len(changes) * 8 > len(self.documents):  # cheaper to sort everything again
            shells.fill_all()  # the indexes are rebuilt from every document
            by_id = {**self.by_id, **changes}
            self._reset([doc for doc in by_id.values() if doc is not None])
            return
        docs = self.documents.copy()
        for doc_id, doc in changes.items():
            old = self.by_id.get(doc_id)
            place(docs, doc_id, old, doc)
            self._reindex(doc_id, old, doc)
            if self._refs is not None:
                self._refs.replace(doc_id, old, doc)
            if doc is None:
                self.by_id.pop(doc_id, None)
            else:
                self.by_id[doc_id] = doc
        self.documents, self._positions = docs, None

    def _reindex(self, doc_id: str, old: dict[str, Any] | None,
                 new: dict[str, Any] | None) -> None:
        for path, index in self._indexes.items():
            old_key = hash_key(get_path(old, path)) if old is not None else None
            new_key = hash_key(get_path(new, path)) if new is not None else None
            if old_key is not None and old_key == new_key:
                index[old_key] = bucket = index[old_key].copy()
                place(bucket, doc_id, old, new)
                continue
            if old_key is not None:
                index[old_key] = bucket = index[old_key].copy()
                place(bucket, doc_id, old, None)
                if not bucket:
                    del index[old_key]
            if new_key is not None:
                bucket = index[new_key].copy() if new_key in index else []
                place(bucket, doc_id, None, new)
                index[new_key] = chunked(bucket)

    def _build(self, path: AttrPath) -> dict[Any, Bucket]:
        shells.fill_all()  # it reads every document
        index: dict[Any, list[dict[str, Any]]] = {}
        for doc in self.documents:
            key = hash_key(get_path(doc, path))
            if key is not None:
                bucket = index.get(key)
                if bucket is None:
                    index[key] = [doc]
                else:
                    bucket.append(doc)
        return {key: chunked(bucket) for key, bucket in index.items()}
