"""``Chunks``: a sequence kept as a list of chunk lists, copied on write per chunk.

A maintained query's whole ordered result (ordered.py) is handed out and must never
change afterwards, so its first change after that copied the whole list: at 100,000 posts
the items and their stamps, 100,000 references each (every item's reference count
touched: 10-20 ms a list on serve's heap). Kept as chunks of about ``CHUNK`` items, a
copy takes the list of chunks (n / ``CHUNK`` references) and an edit then copies the one
chunk it writes to (``_owned``: the chunks this object may change in place, all of them
for one it made, none for a ``copy`` or a decoded one).

It reads as a sequence (``len``, an index, a slice, iteration, equality with another
sequence); a slice is a plain list. ``plain()`` is the whole as one list, the same object
until the next change (for consumers that need a JSON list: ``listed``, which also makes
an object holding chunks one holding lists).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import Any, overload

from ssgen import shells

CHUNK = 512


class Chunks(Sequence[Any]):
    """A sequence of items in chunk lists, each chunk copied on its first write after a
    ``copy`` (see the module docstring)."""

    __slots__ = ("_chunks", "_owned", "_plain", "_size", "_starts")

    def __init__(self, items: Iterable[Any] = ()) -> None:
        flat = items if type(items) is list else list(items)
        self._chunks: list[list[Any]] = [flat[at:at + CHUNK]
                                         for at in range(0, len(flat), CHUNK)]
        self._reindex()
        self._owned = [True] * len(self._chunks)
        self._plain: list[Any] | None = None

    def _reindex(self) -> None:
        """The first place of each chunk, and the size."""
        starts, at = [], 0
        for chunk in self._chunks:
            starts.append(at)
            at += len(chunk)
        self._starts, self._size = starts, at

    def __getstate__(self) -> list[list[Any]]:
        """The chunk lists (a snapshot keeps them; chunks shared with another ``Chunks``
        stay shared through the pickle's memo)."""
        return self._chunks

    def __setstate__(self, state: list[list[Any]]) -> None:
        """The chunks ``__getstate__`` gave; a ``TypeError`` for another state (a damaged
        or hostile snapshot: its decode then fails)."""
        if type(state) is not list or any(type(chunk) is not list or not chunk
                                          for chunk in state):
            raise TypeError("not the state of a Chunks")
        self._chunks = state
        self._reindex()
        self._owned = [False] * len(state)  # they may be another Chunks' too
        self._plain = None

    def copy(self) -> Chunks:
        """The same items, sharing every chunk: neither object's writes reach the other's
        (this one's own chunks are then no longer its to change in place either)."""
        twin = Chunks.__new__(Chunks)
        twin._chunks, twin._starts, twin._size = self._chunks.copy(), \
            self._starts.copy(), self._size
        twin._owned, twin._plain = [False] * len(self._chunks), self._plain
        self._owned = [False] * len(self._chunks)
        return twin

    def plain(self) -> list[Any]:
        """All the items as one list: the same object until the next change; not to be
        changed by the caller."""
        plain = self._plain
        if plain is None:
            plain = self._plain = list(chain.from_iterable(self._chunks))
        return plain

    def made(self, value: Any) -> bool:
        """Whether ``value`` is the list ``plain()`` last made (and still stands)."""
        return value is self._plain and value is not None

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return chain.from_iterable(self._chunks)

    def __reversed__(self) -> Iterator[Any]:
        return chain.from_iterable(map(reversed, reversed(self._chunks)))

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if type(index) is slice:
            start, stop, step = index.indices(self._size)
            if step != 1:
                return self.plain()[index]
            if stop <= start:
                return []
            at = bisect_right(self._starts, start) - 1
            return list(islice(chain.from_iterable(self._chunks[at:]),
                               start - self._starts[at], stop - self._starts[at]))
        at, within = self._place(index)
        return self._chunks[at][within]

    def _place(self, index: int) -> tuple[int, int]:
        """The chunk and the place in it of item ``index`` (a negative one from the end)."""
        size = self._size
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("Chunks index out of range")
        at = bisect_right(self._starts, index) - 1
        return at, index - self._starts[at]

    def _writable(self, at: int) -> list[Any]:
        """Chunk ``at``, copied first unless it is this object's own."""
        self._plain = None
        if not self._owned[at]:
            self._chunks[at] = self._chunks[at].copy()
            self._owned[at] = True
        return self._chunks[at]

    def __setitem__(self, index: int, item: Any) -> None:
        at, within = self._place(index)
        self._writable(at)[within] = item

    def __delitem__(self, index: int) -> None:
        at, within = self._place(index)
        chunk = self._writable(at)
        del chunk[within]
        if not chunk:
            del self._chunks[at], self._owned[at], self._starts[at]
        self._shift(at if chunk else at - 1, -1)

    def insert(self, index: int, item: Any) -> None:
        """Put ``item`` at ``index`` (0 <= index <= len)."""
        if not 0 <= index <= self._size:
            raise IndexError("Chunks insert out of range")
        if not self._chunks:
            self._chunks, self._owned, self._starts, self._size = [[item]], [True], [0], 1
            self._plain = None
            return
        # An index between two chunks goes to the end of the earlier one.
        at = max(0, bisect_right(self._starts, index) - 1)
        if index == self._starts[at] and at:
            at -= 1
        chunk = self._writable(at)
        chunk.insert(index - self._starts[at], item)
        self._shift(at, 1)
        if len(chunk) >= 2 * CHUNK:
            half = len(chunk) // 2
            self._chunks[at + 1:at + 1] = [chunk[half:]]
            del chunk[half:]
            self._owned.insert(at + 1, True)
            self._starts.insert(at + 1, self._starts[at] + half)

    def _shift(self, at: int, by: int) -> None:
        """The starts of the chunks after ``at`` moved by ``by``."""
        starts = self._starts
        for later in range(at + 1, len(starts)):
            starts[later] += by
        self._size += by

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if not isinstance(other, (Chunks, list, tuple)) or len(other) != self._size:
            return False
        return all(a is b or a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Chunks({self.plain()!r})"


def chunked(items: list[Any] | Chunks) -> list[Any] | Chunks:
    """A list long enough to be worth it as a ``Chunks`` (any other as it is): an index
    bucket or a document list that a change copies before writing to it."""
    return Chunks(items) if type(items) is list and len(items) > 2 * CHUNK else items


# id(an object with chunks as attributes) -> (it, the same with lists): the same object
# for the same one (consumers compare values by identity), the last few kept.
_LISTED: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
_LISTED_KEEP = 4096


def listed(value: Any) -> Any:
    """``value`` with a ``Chunks`` as its plain list, and an object with chunks as
    attributes (an ``each`` page's item holding its kept list, ``maintained``) as one
    with their plain lists, the same object while ``value`` is; anything else as it is."""
    kind = type(value)
    if kind is Chunks:
        return value.plain()
    if kind is not list and value is not None:
        value = shells.filled(value)  # a snapshot's unfilled item: its values read below
        kind = type(value)
    if kind is not dict or not any(type(part) is Chunks for part in value.values()):
        return value
    known = _LISTED.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    plain = {key: part.plain() if type(part) is Chunks else part
             for key, part in value.items()}
    _LISTED[id(value)] = (value, plain)
    while len(_LISTED) > _LISTED_KEEP:
        del _LISTED[next(iter(_LISTED))]
    return plain


def sequence(value: Any) -> bool:
    """Whether ``value`` is a JSON array: a list, or a ``Chunks`` standing for one."""
    return type(value) is Chunks or isinstance(value, list)


__all__ = ["CHUNK", "Chunks", "chunked", "listed", "sequence"]
