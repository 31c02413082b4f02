"""The two-thread search for the first differing byte (``ssgen.sources.ndjson.scan``).

The threads' claims interleave as the scheduler lets them; here a drawn schedule steps
the caller's side (``up_step``) and the helper's (``down_step``) in every order, and the
answer must be the lowest differing index, forward and backward. ``first_difference``
itself (a real helper thread) is checked on buffers large enough for both to claim.
"""

from __future__ import annotations

import ctypes
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.sources.ndjson.scan import Pair, Search, first_difference


def _naive(a: bytes, b: bytes, backward: bool) -> int:
    n = len(a)
    for i in range(n):
        at = n - 1 - i if backward else i
        if a[at] != b[at]:
            return i
    return n


def _pair(a: bytearray, b: bytearray, backward: bool) -> Pair:
    start_a = ctypes.addressof((ctypes.c_char * len(a)).from_buffer(a))
    start_b = ctypes.addressof((ctypes.c_char * len(b)).from_buffer(b))
    if backward:
        return Pair(start_a + len(a), start_b + len(b), True)
    return Pair(start_a, start_b, False)


@settings(max_examples=400, deadline=None)
@given(data=st.binary(min_size=1, max_size=90), flips=st.lists(st.integers(0, 89), max_size=4),
       chunk=st.integers(1, 9), schedule=st.lists(st.booleans(), max_size=40),
       backward=st.booleans())
def test_any_interleaving_finds_the_lowest_difference(
        data: bytes, flips: list[int], chunk: int, schedule: list[bool],
        backward: bool) -> None:
    a, b = bytearray(data), bytearray(data)
    for at in flips:
        b[at % len(b)] ^= 0x5A
    search = Search(_pair(a, b, backward), 0, len(a), chunk)
    for up in schedule:
        (search.up_step if up else search.down_step)()
    while search.up_step():
        pass
    while search.down_step():
        pass
    assert search.answer() == _naive(bytes(a), bytes(b), backward)


def test_first_difference_with_its_helper_thread() -> None:
    rng = random.Random(14)
    size = 1 << 20
    a = bytearray(rng.randbytes(size))
    for _ in range(40):
        b = bytearray(a)
        for _ in range(rng.randrange(0, 4)):
            b[rng.randrange(size)] ^= 1
        for backward in (False, True):
            found = first_difference(_pair(a, b, backward), 0, size, rng.choice((512, 4096)))
            assert found == _naive(bytes(a), bytes(b), backward)
