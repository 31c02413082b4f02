"""Finding the first byte at which two memory ranges differ, on two threads.

Owns ``first_difference``: over ``[lo, hi)`` of a ``Pair`` (two addresses compared
forward, from their starts, or backward, from their ends), the lowest index whose bytes
differ. It compares with libc's ``memcmp`` through ctypes, which lets go of the GIL, so
the caller's thread claims chunks from ``lo`` up and a helper thread claims them from
``hi`` down, both at memory speed: on a 70 MB file and its kept bytes the compare is
bound by memory bandwidth, and two cores read nearly twice as fast as one. The caller
stops at its first difference (everything below it was compared equal); the helper
notes the lowest difference in each chunk it claims, so once the claims meet the answer
is the caller's difference, else the helper's lowest, else ``hi``.

Callers pass addresses of memory that stays mapped, unresized and unwritten for the
call (``ndjson.reread``: the file mapped under a read lease, the kept bytes held as an
exported buffer).
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple, cast

_SMALL = 64  # the first step of ``_first_differing``: a shifted chunk differs at once


class Pair(NamedTuple):
    """Two byte ranges of memory: index ``i`` is ``a + i`` against ``b + i`` forward,
    ``a - 1 - i`` against ``b - 1 - i`` backward (``a``, ``b``: the ranges' ends)."""

    a: int
    b: int
    backward: bool

    def span(self, start: int, length: int) -> tuple[int, int]:
        """The addresses of indices ``[start, start + length)`` in memory order."""
        if self.backward:
            return self.a - start - length, self.b - start - length
        return self.a + start, self.b + start


@lru_cache(maxsize=1)
def _memcmp() -> Callable[[int, int, int], int]:
    function = ctypes.CDLL(None).memcmp
    function.restype = ctypes.c_int
    function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    return cast(Callable[[int, int, int], int], function)


def _differs(pair: Pair, start: int, length: int) -> bool:
    a, b = pair.span(start, length)
    return bool(_memcmp()(a, b, length))


def _first_differing(pair: Pair, start: int, length: int) -> int:
    """The lowest index of ``[start, start + length)`` whose bytes differ (some do):
    spans doubling from ``start`` until one differs, then halved down to the byte."""
    done, size = 0, _SMALL
    while not _differs(pair, start + done, min(size, length - done)):
        done, size = done + size, size * 2
    stop = min(done + size, length)
    while stop - done > 1:
        middle = (done + stop) // 2
        if _differs(pair, start + done, middle - done):
            stop = middle
        else:
            done = middle
    return start + done


class Search:
    """The claims of the two threads over ``[lo, hi)`` and what they found; ``up_step``
    and ``down_step`` each compare one chunk (False: that side is done)."""

    def __init__(self, pair: Pair, lo: int, hi: int, chunk: int) -> None:
        self.pair, self.chunk, self.hi = pair, max(chunk, 1), hi
        self.low, self.high = lo, hi  # unclaimed: [low, high)
        self.found_low: int | None = None  # the caller's first difference
        self.found_high: int | None = None  # the helper's lowest so far
        self.failed: BaseException | None = None
        self.lock = threading.Lock()

    def up_step(self) -> bool:
        """Claim the lowest chunk; done at the first that differs, or nothing left."""
        with self.lock:
            if self.found_low is not None or self.low >= self.high:
                return False
            start = self.low
            length = min(self.chunk, self.high - start)
            self.low = start + length
        if _differs(self.pair, start, length):
            found = _first_differing(self.pair, start, length)
            with self.lock:
                self.found_low = found
            return False
        return True

    def down_step(self) -> bool:
        """Claim the highest chunk, noting its lowest difference; done once the claims
        meet or the caller found its difference (all the helper's claims lie above)."""
        with self.lock:
            if self.found_low is not None or self.high <= self.low:
                return False
            length = min(self.chunk, self.high - self.low)
            self.high -= length
            start = self.high
        if _differs(self.pair, start, length):
            found = _first_differing(self.pair, start, length)
            with self.lock:
                self.found_high = found  # lower than any the helper found before
        return True

    def down(self) -> None:
        """The helper thread's loop."""
        try:
            while self.down_step():
                pass
        except BaseException as exc:  # re-raised by the caller's thread
            self.failed = exc

    def answer(self) -> int:
        """Once neither side has more to do: the lowest differing index, or ``hi``."""
        if self.failed is not None:
            raise self.failed
        if self.found_low is not None:
            return self.found_low
        return self.found_high if self.found_high is not None else self.hi


def first_difference(pair: Pair, lo: int, hi: int, chunk: int) -> int:
    """The lowest index of ``[lo, hi)`` whose bytes differ in ``pair``, or ``hi``;
    compared ``chunk`` bytes at a time, by a helper thread too when there are more than
    two chunks."""
    search = Search(pair, lo, hi, chunk)
    helper = None
    if hi - lo > 2 * chunk:
        helper = threading.Thread(target=search.down, name="ssgen-compare", daemon=True)
        helper.start()
    try:
        while search.up_step():
            pass
    finally:
        if helper is not None:
            with search.lock:
                search.high = min(search.high, search.low)  # the helper stops claiming
            helper.join()
    return search.answer()


__all__ = ["Pair", "Search", "first_difference"]
