"""Serve saves its kept source's snapshot once idle, not between the rounds of a run of
webhooks (serve/worker): the fork copies the page tables of the whole server, and every
page the next round writes is copied again while the child lives (round 10's 10k p99).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from servekit import wait_for
from sitekit import make_site

from ssgen.build.change import Change
from ssgen.build.memo import carry
from ssgen.config.load import load_config
from ssgen.serve.worker import RebuildWorker, rounds
from ssgen.serve.worker.run import RoundRunner


def _serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           settle_saving: bool = False, resident: int | None = None
           ) -> tuple[list[str], list[float], list[float]]:
    """Start a worker, run three rounds back to back, then stay idle, then stop: the
    events in order ("round", "save", and "stop": the stopping server's save), when
    each round ended and when each save came. ``resident``: the server's size as the
    worker sees it (bytes)."""
    events: list[str] = []
    ended: list[float] = []
    saves: list[float] = []

    def keep_later(config: Any, source: Any, final: bool = False) -> bool:
        if final:  # the stopping server's own save
            events.append("stop")
            return False
        events.append("save")
        saves.append(time.monotonic())
        return False

    monkeypatch.setattr(carry, "keep_later", keep_later)
    monkeypatch.setattr(rounds, "SAVE_IDLE", 0.4)
    if resident is not None:
        monkeypatch.setattr(rounds, "resident_bytes", lambda: resident)
    if settle_saving:  # the mutant: every round saves as it settles
        real = rounds.RoundRunner.settle
        monkeypatch.setattr(rounds.RoundRunner, "settle",
                            lambda self, save=True: real(self, save=True))
    worker = RebuildWorker(load_config(make_site(tmp_path)), settle=0)
    worker.start()
    try:
        wait_for(lambda: worker.rebuilds == 1)
        for i in range(3):
            job = worker.submit(Change(reasons=(f"poke {i}",)))
            worker.future(job.job).result(timeout=60)
            events.append("round")
            ended.append(time.monotonic())
        wait_for(lambda: "save" in events[-1:], timeout=10)
        time.sleep(0.5)  # nothing more is owed: no second save
    finally:
        worker.stop()
    return events, ended, saves


def test_the_snapshot_is_saved_once_idle_not_between_rounds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events, ended, saves = _serve(tmp_path, monkeypatch)
    # The start-up round may have been saved before the first poke came (idle): after
    # that, the three rounds ran with no save between them, then one save, once idle,
    # and the stopping server's.
    assert events[-5:] == ["round", "round", "round", "save", "stop"], events
    assert saves[-1] - ended[-1] >= 0.3


def test_mutant_saving_as_each_round_settles_is_caught(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AssertionError):
        events, _, _ = _serve(tmp_path, monkeypatch, settle_saving=True)
        assert events[-5:] == ["round", "round", "round", "save", "stop"], events


def test_mutant_stopping_without_a_save_is_caught(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RoundRunner, "finish", RoundRunner.flush)
    with pytest.raises(AssertionError):
        events, _, _ = _serve(tmp_path, monkeypatch)
        assert events[-5:] == ["round", "round", "round", "save", "stop"], events


def test_a_larger_server_waits_longer_before_its_save(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server of 3 GB waits 3 times ``SAVE_IDLE`` (its child lives longer, and each
    round during its life pays the copy on write: round 18's 2.2 s round at 100k)."""
    events, ended, saves = _serve(tmp_path, monkeypatch, resident=3 << 30)
    assert events[-5:] == ["round", "round", "round", "save", "stop"], events
    assert saves[-1] - ended[-1] >= 1.1


def test_mutant_save_idle_not_scaled_is_caught(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rounds, "save_idle", lambda idle, resident: idle)
    with pytest.raises(AssertionError):
        test_a_larger_server_waits_longer_before_its_save(tmp_path, monkeypatch)


def test_save_idle() -> None:
    assert rounds.save_idle(5.0, 800 << 20) == 5.0  # 10,000 posts: as before
    assert rounds.save_idle(5.0, 7 << 30) == 35.0
