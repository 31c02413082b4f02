"""The loaded parse cache, column by column: ``Entry`` objects made only when asked for.

Owns ``Columns``: every loaded shard's ``Part`` (its index as decoded, ``shard``) one
after another, with the name -> position index. A new process after a one-file edit
looks at every file's stamp and at one file's documents: loading a row-wise index of 16k
names as ``Entry`` tuples (~200k objects) cost ~28 ms CPU of it, the columns ~11 ms
(both at load 7), and ``entry(at)`` makes the one asked for.
"""

from __future__ import annotations

from array import array
from itertools import accumulate
from typing import Any

from ssgen.sources.filecache.shard import Blob, Entry, Part, Stamp


class Columns:
    """Every loaded shard's ``Part`` one after another (``add``), and which name is where."""

    __slots__ = ("_stamps", "blobs", "counts", "digests", "faults", "hash_at", "hashes",
                 "index", "names", "ranges", "shard_at", "spans", "stamp_ints", "trusted")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.stamp_ints: array[int] = array("q")
        self.digests: list[bytes] = []
        self.trusted = bytearray()
        self.spans: array[int] = array("q")
        self.counts: array[int] = array("q")
        self.hashes: list[str] = []
        self.hash_at: list[int] = []
        self.faults: dict[int, list[tuple[str, str]]] = {}
        self.shard_at = bytearray()  # each name's shard
        self.blobs: dict[int, Blob] = {}
        self.ranges: dict[int, range] = {}  # each shard's positions
        self.index: dict[str, int] = {}
        self._stamps: list[Stamp] | None = None

    def add(self, shard: int, part: Part, blob: Blob) -> None:
        """Append ``part``, read from shard file ``shard`` with its documents in ``blob``."""
        base = len(self.names)
        self.names += part.names
        self.stamp_ints += part.stamps
        self.digests += part.digests
        self.trusted += part.trusted
        self.spans += part.spans
        self.counts += part.counts
        start = len(self.hashes)
        self.hash_at += accumulate(part.counts, initial=start)
        self.hash_at.pop()  # the total: the next part's first
        self.hashes += part.hashes
        self.faults.update((base + at, found) for at, found in part.faults.items())
        self.shard_at += bytes((shard,)) * len(part.names)
        self.blobs[shard] = blob
        self.ranges[shard] = range(base, len(self.names))

    def done(self) -> None:
        """Index the names once every part is added."""
        self.index = dict(zip(self.names, range(len(self.names)), strict=True))

    def stamps(self) -> list[Stamp]:
        """Every name's stamp, by position (made once)."""
        if self._stamps is None:
            ints = self.stamp_ints
            self._stamps = list(zip(ints[0::4], ints[1::4], ints[2::4], ints[3::4], strict=True))
        return self._stamps

    def stamp(self, at: int) -> Stamp:
        """The stamp of the name at position ``at``: taken from ``stamps`` once made, else
        from the integers (the edit's one entry asked for does not make 16k tuples)."""
        if self._stamps is not None:
            return self._stamps[at]
        ints, base = self.stamp_ints, 4 * at
        return ints[base], ints[base + 1], ints[base + 2], ints[base + 3]

    def entry(self, at: int) -> Entry:
        """The entry of the name at position ``at``."""
        first, count = self.hash_at[at], self.counts[at]
        packed: Any = (self.spans[2 * at], self.spans[2 * at + 1])
        return Entry(self.stamp(at), self.digests[at], bool(self.trusted[at]), packed,
                     self.faults.get(at, []), self.hashes[first:first + count],
                     self.blobs[self.shard_at[at]])

    def of_shard(self, shard: int) -> range:
        """The positions of the names loaded from shard file ``shard``."""
        return self.ranges.get(shard, range(0))


__all__ = ["Columns"]
