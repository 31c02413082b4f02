"""The snapshot saves of a server are spaced by their cost (``background.SPACING``): a
round that runs while a saving child lives pays for the pages it writes."""

from __future__ import annotations

import os
import time

import pytest

from ssgen.sources.snapshot import background


def test_the_next_save_waits_for_spacing_times_the_last_ones_cpu() -> None:
    saver = background._Saver()
    saver.started = time.monotonic() - 15.0
    assert saver.due()  # a cheap save: the interval alone
    saver.cost = 1.0  # 20 s between the starts of two saves
    assert not saver.due()
    saver.started = time.monotonic() - background.SPACING * 1.0 - 0.1
    assert saver.due()


def test_a_reaped_childs_cpu_is_its_cost() -> None:
    pid = os.fork()
    if pid == 0:  # the child: 0.2 s of CPU, as a save would spend
        began = time.process_time()
        while time.process_time() - began < 0.2:
            pass
        os._exit(0)
    saved = background._SAVER.pid, background._SAVER.cost
    background._SAVER.pid = pid
    try:
        deadline = time.monotonic() + 30
        while background._busy() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert background._SAVER.pid == 0
        assert 0.15 <= background._SAVER.cost < 5
    finally:
        background._SAVER.cost = saved[1]


def test_a_save_forks_only_with_room_for_the_childs_copy_and_the_encoding() -> None:
    gib = 1 << 30
    # The child copies nearly all of the parent: available memory just above the
    # parent's size is not enough (b15's 10.5 GB server left the machine without memory).
    assert not background.spare(available=9 * gib, resident=8 * gib)
    assert not background.spare(available=10 * gib, resident=8 * gib)
    assert background.spare(available=11 * gib, resident=8 * gib)
    small = 100 << 20
    assert not background.spare(available=small + small // 4 + background.SAVE_HEADROOM,
                                resident=small)
    assert background.spare(available=small + small // 4 + background.SAVE_HEADROOM + 1,
                            resident=small)


def test_the_deferred_save_runs_here_when_the_memory_is_short(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "_memory_to_spare", lambda: False)
    ran: list[int] = []
    background.defer(lambda: ran.append(os.getpid()))
    assert background.run_deferred() == 0  # no child
    assert ran == [os.getpid()]
