"""The passing entries of a maintained query (maintained/) kept in result order.

``order(k1 desc, k2)`` is a stable sort of the documents in ``_id`` order, so the result
order is the lexicographic order of the rows ``(k1 reversed, k2, _id)``. Keeping the rows
sorted lets a change remove one entry and insert it again at its bisect position
(O(log n) comparisons and a list memmove) instead of sorting every entry again. The
items are handed out as the result, a ``Chunks`` (chunks.py); it is copied before the
first change after that (copy on write: the list of chunks, then the one chunk a change
writes to, not every item), so a handed-out result never changes. So are the rows once
a delta (maintained/delta.py) holds them (``share_rows``; a ``Chunks`` as well: a move,
an insert or a removal writes to them). Beside each item its stamp
(``ssgen.stamp``: renewed whenever the item is a new object), handed out with the items
(``stamps``, a ``Chunks`` too) and copied with them. A snapshot holds the rows as columns
(``__getstate__``).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from ssgen.groq.chunks import Chunks


class Descending:
    """A sort key compared the other way round (a ``desc`` column of a row)."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: Descending) -> bool:
        return bool(other.key < self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Descending) and bool(self.key == other.key)

    def __hash__(self) -> int:
        return hash(self.key)


class Ordered:
    """Rows ``(*keys, _id)`` in result order, with each row's item and stamp alongside."""

    __slots__ = ("_columns", "_descending", "_rows", "_rows_shared", "_shared", "items",
                 "stamps")

    def __init__(self, descending: tuple[bool, ...]) -> None:
        self._descending = descending
        self._rows: Chunks | None = Chunks()
        self._columns: list[list[Any]] | None = None
        self.items = Chunks()
        self.stamps = Chunks()
        self._shared = False
        self._rows_shared = False

    def __getstate__(self) -> tuple[Any, ...]:
        """Its rows as columns, a ``desc`` column as its keys: a snapshot then encodes
        each column as one list, not a tuple and a ``Descending`` per row (~60k rows at
        10,000 posts); the items and stamps as the very lists (a result handed out)."""
        if self._columns is not None:  # decoded and never read: as they were
            return self._descending, self._columns, self.items, self.stamps, self._shared
        width = len(self._descending) + 1
        columns = [list(column) for column in zip(*self.rows, strict=True)] if self.rows \
            else [[] for _ in range(width)]
        for at, desc in enumerate(self._descending):
            if desc:
                columns[at] = [key.key for key in columns[at]]
        return self._descending, columns, self.items, self.stamps, self._shared

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        """The state ``__getstate__`` gave; a ``TypeError`` or ``ValueError`` for another
        (a damaged or hostile snapshot: its decode then fails). The rows are made from
        the columns when first read (``rows``): a one-post edit reads a few queries'."""
        descending, columns, items, stamps, shared = state
        if type(descending) is not tuple or type(columns) is not list \
                or len(columns) != len(descending) + 1 or type(items) is not Chunks \
                or type(stamps) is not Chunks or any(type(c) is not list for c in columns) \
                or not len(items) == len(stamps) == len(columns[-1]) \
                or any(len(c) != len(items) for c in columns):
            raise TypeError("not the state of an Ordered")
        self._descending, self.items, self.stamps = descending, items, stamps
        self._shared, self._rows_shared = shared is True, False
        self._rows, self._columns = None, columns

    @property
    def rows(self) -> Chunks:
        """The rows in result order; not to be changed by the caller."""
        rows = self._rows
        if rows is None:
            columns, self._columns = self._columns or [], None
            rows = self._rows = Chunks(list(zip(
                *[map(Descending, column) if desc else column
                  for column, desc in zip(columns, (*self._descending, False), strict=True)],
                strict=True)))
        return rows

    def row(self, doc_id: str, keys: tuple[Any, ...]) -> tuple[Any, ...]:
        """The row of a document with these sort keys (``sort_key`` values)."""
        if not any(self._descending):
            return (*keys, doc_id)
        return (*(Descending(key) if desc else key
                  for key, desc in zip(keys, self._descending, strict=True)), doc_id)

    def __len__(self) -> int:
        return len(self.stamps)  # as long as the rows (not made for it)

    def insert(self, row: tuple[Any, ...], item: Any, stamp: int) -> None:
        """Add a row (not present) with its item and the item's stamp at its place."""
        at = bisect_left(self.rows, row)
        self._own_rows().insert(at, row)
        self._own().insert(at, item)
        self.stamps.insert(at, stamp)

    def remove(self, row: tuple[Any, ...]) -> None:
        """Drop a row that is present."""
        at = bisect_left(self.rows, row)
        del self._own_rows()[at]
        del self._own()[at]
        del self.stamps[at]

    def replace(self, row: tuple[Any, ...], item: Any, stamp: int) -> None:
        """Give a row that is present a new item (and its stamp)."""
        at = bisect_left(self.rows, row)
        self._own()[at] = item
        self.stamps[at] = stamp

    def result(self) -> Chunks:
        """The items in order; not to be changed by the caller (nor ``stamps``, handed
        out with them)."""
        self._shared = True
        return self.items

    def share_rows(self) -> Chunks:
        """The rows in order, as they are now: not changed later (copy on write)."""
        self._rows_shared = True
        return self.rows

    def _own_rows(self) -> Chunks:
        if self._rows_shared:
            self._rows = self.rows.copy()
            self._rows_shared = False
        return self.rows

    def _own(self) -> Chunks:
        if self._shared:
            self.items = self.items.copy()
            self.stamps = self.stamps.copy()
            self._shared = False
        return self.items
