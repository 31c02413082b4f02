"""``ssgen.sources.ndjson.patching``: a kept file's bytes patched in place, the long tail
moved outside the GIL, equal to the slice assignment it stands for."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import mutant

from ssgen.sources.ndjson import patching
from ssgen.sources.ndjson.patching import patch_in_place


@settings(max_examples=300, deadline=None)
@given(old=st.binary(max_size=64), cut=st.tuples(st.integers(0, 64), st.integers(0, 64)),
       middle=st.binary(max_size=24), apart=st.sampled_from([0, 1, 8, patching.MOVE_APART]),
       held=st.booleans())
def test_the_patch_equals_the_slice_assignment(old: bytes, cut: tuple[int, int],
                                               middle: bytes, apart: int,
                                               held: bool) -> None:
    """Whatever the sizes and wherever the tail is moved from (``MOVE_APART`` drawn, so
    both ways run): the bytes are the slice assignment's, patched in the very object;
    a view held elsewhere makes a resize raise ``BufferError`` with the bytes untouched."""
    start, stop = sorted(min(at, len(old)) for at in cut)
    data = bytearray(old)
    view = memoryview(data) if held else None
    with mutant(patching, "MOVE_APART", apart):
        if view is not None and len(middle) != stop - start:
            with pytest.raises(BufferError):
                patch_in_place(data, start, stop, middle)
            assert data == old
            view.release()
            return
        found = patch_in_place(data, start, stop, middle)
    assert found is data
    assert data == old[:start] + middle + old[stop:]
    if view is not None:
        view.release()


@pytest.fixture
def no_forced_switch() -> Iterator[None]:
    """The interpreter asks the thread holding the GIL to let go only after 60 s: another
    thread runs only when this one blocks or a C call lets go of the GIL."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(60.0)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def _ran_during_a_move() -> bool:
    """Whether a thread woken just before a 96 MB tail's move ran before it ended."""
    data = bytearray(96 << 20)
    state, seen, woken = ["before"], [], threading.Event()

    def other() -> None:
        woken.wait()
        seen.append(state[0])

    thread = threading.Thread(target=other)
    thread.start()
    state[0] = "moving"
    woken.set()
    patch_in_place(data, 10, 20, b"a longer middle than ten bytes")
    state[0] = "done"
    thread.join()
    return seen == ["moving"]


def test_another_thread_runs_during_the_move(no_forced_switch: None) -> None:
    """The reply waiting on serve's event loop is written during the move, not after it
    (a few tries: the woken thread may not be scheduled before a move ends)."""
    assert any(_ran_during_a_move() for _ in range(8))


def test_mutant_move_under_the_gil_is_caught(no_forced_switch: None) -> None:
    def held(data: bytearray, to: int, start: int, count: int) -> None:
        data[to:to + count] = data[start:start + count]

    with mutant(patching, "_move", held):
        assert not any(_ran_during_a_move() for _ in range(3))
