"""The reverse-reference index: which ids each document references, and who refers to an id.

``references(id)`` is true for a document when a walk of it finds an object whose
``_ref`` is that id; the walk goes into arrays and objects but not inside an object
that has a ``_ref`` key (``outgoing`` is that walk, shared with the function). The
index keeps each document's outgoing ids and, for every id, its referrers in ``_id``
order, so ``*[references($id)]`` is a dictionary hit instead of a deep walk of every
document. Buckets handed out are never mutated afterwards (a change replaces them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ssgen.groq.chunks import Chunks, chunked
from ssgen.groq.idorder import place


def reference_ids(args: Iterable[Any]) -> set[str]:
    """The ids the arguments of ``references(...)`` name: strings, and the strings in
    arrays."""
    ids: set[str] = set()
    for arg in args:
        if type(arg) is str:
            ids.add(arg)
        elif type(arg) is list:
            ids.update(item for item in arg if type(item) is str)
    return ids


def outgoing(value: Any) -> frozenset[str]:
    """The ids a value references, as ``references()`` sees them."""
    found: set[str] = set()
    stack = [value]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is dict:
            if "_ref" in current:
                ref = current["_ref"]
                if type(ref) is str:
                    found.add(ref)
            else:
                stack.extend(current.values())
        elif kind is list:
            stack.extend(current)
    return frozenset(found)


class ReferenceIndex:
    """Outgoing ids per document and referrers per id, over documents in ``_id`` order."""

    def __init__(self, documents: Iterable[dict[str, Any]]) -> None:
        self._outgoing: dict[int, frozenset[str]] = {}
        self._incoming: dict[str, list[dict[str, Any]] | Chunks] = {}
        for doc in documents:
            refs = outgoing(doc)
            self._outgoing[id(doc)] = refs
            for ref in refs:
                bucket = self._incoming.get(ref)
                if bucket is None:
                    self._incoming[ref] = [doc]
                else:
                    bucket.append(doc)  # type: ignore[union-attr]  # lists until below
        for ref, bucket in self._incoming.items():
            self._incoming[ref] = chunked(bucket)

    def export(self, documents: Sequence[dict[str, Any]]) -> tuple[Any, list[Any]]:
        """What pickling needs, with no object ids in it: the referrers, and the outgoing
        ids of each of ``documents`` (the indexed ones) by position."""
        outgoing_of = self._outgoing.get
        return self._incoming, [outgoing_of(id(doc)) for doc in documents]

    @classmethod
    def restore(cls, documents: Sequence[dict[str, Any]],
                exported: tuple[Any, list[Any]]) -> ReferenceIndex:
        """The index ``export`` described, over the unpickled ``documents``."""
        index = cls(())
        index._incoming, by_position = exported
        index._outgoing = {id(doc): refs for doc, refs in zip(documents, by_position,
                                                               strict=True)
                           if refs is not None}
        return index

    def referrers(self, ref: str) -> Sequence[dict[str, Any]]:
        """The documents that reference ``ref``, in ``_id`` order."""
        return self._incoming.get(ref, ())

    def refs_of(self, doc: dict[str, Any]) -> frozenset[str]:
        """The ids a document of the indexed dataset references."""
        found = self._outgoing.get(id(doc))
        return found if found is not None else outgoing(doc)

    def replace(self, doc_id: str, old: dict[str, Any] | None,
                new: dict[str, Any] | None) -> None:
        """Follow ``Dataset.update`` replacing ``old`` by ``new`` (either may be None)."""
        old_refs = self._outgoing.pop(id(old), frozenset()) if old is not None else frozenset()
        new_refs = outgoing(new) if new is not None else frozenset()
        if new is not None:
            self._outgoing[id(new)] = new_refs
        incoming = self._incoming
        for ref in old_refs | new_refs:
            bucket = incoming[ref].copy() if ref in incoming else []
            place(bucket, doc_id, old if ref in old_refs else None,
                  new if ref in new_refs else None)
            if bucket:
                incoming[ref] = chunked(bucket)
            else:
                del incoming[ref]
