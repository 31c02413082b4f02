"""A non-decreasing list of ints whose tail can be shifted without rewriting it.

Owns the byte offsets and line numbers of an NDJSON file's documents across edits: a
splice replaces a run of values and shifts every later value by a delta, which is
recorded as a mark (applied on read) instead of being added to each later value, so a
one-line edit of a 100k-line file costs O(marks), not O(lines). After ``_MAX_MARKS``
splices the values are rewritten once (amortised O(1) per splice).
"""

from __future__ import annotations

from bisect import bisect_left

_MAX_MARKS = 32


class Offsets:
    """Non-decreasing ints with ``splice`` (replace a run, shift the rest) in O(run)."""

    def __init__(self, values: list[int]) -> None:
        self._base = values
        # (first index, delta): the delta is added to every value from that index on.
        self._marks: list[tuple[int, int]] = []

    def __len__(self) -> int:
        return len(self._base)

    def __getitem__(self, index: int) -> int:
        value = self._base[index]
        for first, delta in self._marks:
            if first > index:
                break
            value += delta
        return value

    def find(self, value: int) -> int:
        """The first index whose value is ``>= value`` (``len(self)`` when none is)."""
        return bisect_left(range(len(self._base)), value, key=self.__getitem__)

    def copy(self) -> Offsets:
        """An independent copy (O(n) at memcpy speed)."""
        other = Offsets(self._base.copy())
        other._marks = self._marks.copy()
        return other

    def splice(self, start: int, stop: int, values: list[int], delta: int) -> None:
        """Replace ``[start, stop)`` by ``values`` and add ``delta`` to every later value."""
        end = start + len(values)
        shift = end - stop
        before: list[tuple[int, int]] = []
        after: list[tuple[int, int]] = []
        carried = delta
        for first, mark in self._marks:
            if first <= start:
                before.append((first, mark))
            elif first <= stop:  # it shifted values now at ``end`` and after
                carried += mark
            else:
                after.append((first + shift, mark))
        applied = sum(mark for _, mark in before)
        self._base[start:stop] = [value - applied for value in values] if applied else values
        self._marks = before + ([(end, carried)] if carried else []) + after
        if len(self._marks) > _MAX_MARKS:
            self._base, self._marks = self.tolist(), []

    def tolist(self) -> list[int]:
        """The values, shifts applied."""
        values = self._base.copy()
        total = 0
        bounds = [first for first, _ in self._marks[1:]] + [len(values)]
        for (first, delta), bound in zip(self._marks, bounds, strict=False):
            total += delta
            values[first:bound] = [value + total for value in values[first:bound]]
        return values
