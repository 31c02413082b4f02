"""What one update of a maintained list result changed, for consumers that keep what they
made of the last result (a route's pages) to redo only the changed items' part.

A ``Delta`` says how the query's current result (``result``, the very list it handed
out) differs from the one before its last change (``base``, also the very list handed
out then), by document id:

- ``inserted``: in ``result``, not in ``base``;
- ``removed``: in ``base``, not in ``result``;
- ``changed``: in both, the item is a new object (its JSON may or may not differ);
- ``moved``: in both, its sort keys changed, so its place among the others may have.

An id may be both changed and moved. Items of ids in none of the four sets are the very
same objects, in the same order relative to each other (their places shift only by the
inserted and removed items). ``index`` and ``id_at`` look up places in ``result``.

Only a whole ordered list (``*[cond] | order(...) {item}``, no slice, no count, no
``[0]``) has one; none for other shapes. What came before a start, a reset (the index
keys the query looks up changed) or a load (a snapshot keeps the result, not how it came
about) is not known: the result's delta is then from itself, naming nothing
(``unchanged``), so that a consumer that made its part of that very list (an expansion
the snapshot carried, or the one it makes now on the full path) takes the next change's
delta, whose base it is, instead of the full path again (serve's first webhook after a
start). A consumer must check ``delta.base is <the result it last used>`` and
``delta.result is <the value it got now>``, or the same of their versions
(``base_version``, ``version``: the results' stamps, ``ssgen.stamp``, which a snapshot
keeps); ``stamps`` are the stamps of ``result``'s items by place. A query whose result
did not change keeps handing out the delta of its last change (so several consumers of
one query each see it once). A persisted form would be the four id sets and the two
results' versions: persist the result, and give the first consumer after a load its
result's ``unchanged`` delta.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ssgen.groq.maintained.entry import _Entry
from ssgen.groq.ordered import Ordered

# Per document id, how a refresh changed its row (``Changes``'s flags).
INSERTED, REMOVED, CHANGED, MOVED = 1, 2, 4, 8


@dataclass(frozen=True, slots=True, eq=False)
class Delta:
    """How ``result`` differs from ``base`` (the module docstring), with the rows of both
    (``(*sort keys, _id)`` in order, never changed once handed out) for the lookups."""

    base: Sequence[Any]  # a list or a ``Chunks`` (chunks.py)
    result: Sequence[Any]
    base_version: int
    version: int
    stamps: Sequence[int]  # of ``result``'s items, by place (never changed once handed out)
    inserted: frozenset[str]
    removed: frozenset[str]
    changed: frozenset[str]
    moved: frozenset[str]
    _rows: tuple[Sequence[tuple[Any, ...]], Sequence[tuple[Any, ...]]]  # base's, result's
    _old_rows: Mapping[str, tuple[Any, ...]]  # the base rows of the removed and moved
    _new_rows: Mapping[str, tuple[Any, ...]]  # the rows of the others in result

    @property
    def alters(self) -> bool:
        """Whether ``result`` surely differs from ``base`` as JSON without comparing them:
        its length differs, or items changed in place with none moved, inserted or
        removed (a maintained query hands out a new item object only when its JSON
        differs: ``MaintainedQuery._refresh``). False: they may or may not."""
        if len(self.result) != len(self.base):
            return True
        return bool(self.changed) and not (self.moved or self.inserted or self.removed)

    @property
    def touched(self) -> frozenset[str]:
        """Every id the delta names."""
        return self.inserted | self.removed | self.changed | self.moved

    def index(self, doc_id: str) -> int | None:
        """The place of ``doc_id``'s item in ``result`` (None: not in it)."""
        row = self._new_rows.get(doc_id)
        return None if row is None else _find(self._rows[1], row)

    def old_index(self, doc_id: str) -> int | None:
        """The place of ``doc_id``'s item in ``base`` (None: not in it)."""
        row = self._old_rows.get(doc_id) or self._new_rows.get(doc_id)
        return None if row is None else _find(self._rows[0], row)

    def old_place(self, doc_id: str) -> int:
        """Where a removed or moved item's old row falls among ``result``'s rows: the
        items that were its neighbours in ``base`` and are untouched are now at this
        place and the one before it."""
        return bisect_left(self._rows[1], self._old_rows[doc_id])

    def id_at(self, index: int) -> str:
        """The document id of ``result[index]``."""
        doc_id: str = self._rows[1][index][-1]
        return doc_id


def _find(rows: Sequence[tuple[Any, ...]], row: tuple[Any, ...]) -> int | None:
    at = bisect_left(rows, row)
    return at if at < len(rows) and rows[at] == row else None


class Changes:
    """The flags of the rows one update changed, by document id (an update refreshes
    each document once), and the base rows of the removed and moved ones."""

    __slots__ = ("base_rows", "flags", "old_rows", "ordered")

    def __init__(self, ordered: Ordered) -> None:
        self.ordered = ordered
        self.base_rows = ordered.share_rows()
        self.flags: dict[str, int] = {}
        self.old_rows: dict[str, tuple[Any, ...]] = {}

    def note(self, doc_id: str, old: _Entry | None, new: _Entry | None) -> None:
        """Record how ``doc_id``'s entry went from ``old`` to ``new``."""
        was = old is not None and old.passes
        now = new is not None and new.passes
        if was and now:
            assert old is not None and new is not None
            flag = (MOVED if old.keys != new.keys else 0) | \
                (CHANGED if new.item is not old.item else 0)
        else:
            flag = INSERTED if now else REMOVED if was else 0
        if flag:
            self.flags[doc_id] = flag
            if flag & (MOVED | REMOVED):
                assert old is not None
                self.old_rows[doc_id] = self.ordered.row(doc_id, old.keys)

    def delta(self, base: tuple[Sequence[Any], int], result: tuple[Sequence[Any], int, Any],
              entries: Mapping[str, _Entry]) -> Delta:
        """The delta from ``base`` to ``result`` these changes made (each with its
        version; ``result`` with its items' stamps)."""
        sets: tuple[set[str], ...] = (set(), set(), set(), set())
        for doc_id, flag in self.flags.items():
            for bit, found in zip((INSERTED, REMOVED, CHANGED, MOVED), sets, strict=True):
                if flag & bit:
                    found.add(doc_id)
        inserted, removed, changed, moved = map(frozenset, sets)
        return Delta(base[0], result[0], base[1], result[1], result[2],
                     inserted, removed, changed, moved,
                     (self.base_rows, self.ordered.share_rows()), self.old_rows,
                     _Rows(entries, self.ordered))


def unchanged(ordered: Ordered, result: tuple[Sequence[Any], int, Any],
              entries: Mapping[str, _Entry]) -> Delta:
    """``result``'s delta from itself (with its version and stamps): nothing inserted,
    removed, changed or moved."""
    return Changes(ordered).delta(result[:2], result, entries)


class _Rows(Mapping[str, tuple[Any, ...]]):
    """The current rows of a query's passing entries, by id (made on demand)."""

    def __init__(self, entries: Mapping[str, _Entry], ordered: Ordered) -> None:
        self._entries, self._ordered = entries, ordered

    def __getitem__(self, doc_id: str) -> tuple[Any, ...]:
        entry = self._entries[doc_id]
        if not entry.passes:
            raise KeyError(doc_id)
        return self._ordered.row(doc_id, entry.keys)

    def __iter__(self) -> Iterator[str]:
        return (doc_id for doc_id, entry in self._entries.items() if entry.passes)

    def __len__(self) -> int:
        return len(self._ordered)


__all__ = ["Changes", "Delta", "unchanged"]
