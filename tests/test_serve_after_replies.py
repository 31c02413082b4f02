"""What serve does after a round's replies, off the next round's path: the files its
writes replaced are unlinked on a thread of their own (serve/freeing.py), and the SQLite
manifest's WAL is checkpointed when the worker is idle, never by a commit inside a round
(manifest/connect.py). Each test shows the mutant it catches."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from sitekit import author, make_site, mutant, no_temp_files, post, write_docs

from ssgen.build.change import Change
from ssgen.build.output import free_displaced
from ssgen.build.outwatch import touched_files
from ssgen.config.load import load_config
from ssgen.manifest import connect
from ssgen.serve.freeing import Freer
from ssgen.serve.worker import RebuildWorker
from ssgen.serve.worker import run as worker_run
from ssgen.sources import open_source


def edited_round(worker: RebuildWorker, site: Path, title: str) -> None:
    """A round that replaces post-1's page."""
    write_docs(site, [author("a1", "Ada"), post(1, title=title), post(2)])
    worker.submit(Change(tags=frozenset({"post:post-1"})))
    worker._round()


def test_replaced_files_are_freed_on_a_thread_after_the_round(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    worker = RebuildWorker(load_config(site), settle=0)  # rounds run here, not started
    held = load_config(site).state_dir / "displaced"
    gate, freeing = threading.Event(), []

    def slow_unlink(path: str) -> None:
        freeing.append(threading.current_thread().name)
        gate.wait(10)
        Path(path).unlink()

    worker._runner.freer = Freer(slow_unlink)
    try:
        worker._round()
        edited_round(worker, site, "Edited")
        # The round is over while its free still waits: the next round need not wait.
        assert worker._runner.freer.pending and any(held.iterdir())
        edited_round(worker, site, "Again")
        assert b"Again" in (site / "public/blog/post-1/index.html").read_bytes()
        gate.set()
        assert worker._runner.freer.wait(10)
        assert freeing and set(freeing) == {"ssgen-free"}
        assert not any(held.iterdir()) and no_temp_files(site)
    finally:
        gate.set()
        worker.stop()


def test_mutant_freeing_on_the_worker_thread_is_caught(tmp_path: Path) -> None:
    def inline(self: Any, save: bool = True) -> None:
        free_displaced()
        self.heap.settle()

    with mutant(worker_run.RoundRunner, "settle", inline), pytest.raises(AssertionError):
        test_replaced_files_are_freed_on_a_thread_after_the_round(tmp_path)


def test_mutant_freer_that_never_unlinks_is_caught(tmp_path: Path) -> None:
    with mutant(Freer, "free", lambda self, paths: None), pytest.raises(AssertionError):
        test_replaced_files_are_freed_on_a_thread_after_the_round(tmp_path)


def test_a_closed_freer_has_unlinked_everything(tmp_path: Path) -> None:
    files = [tmp_path / f"f{n}" for n in range(50)]
    for file in files:
        file.write_bytes(b"x")
    freer = Freer()
    freer.free([str(f) for f in files[:25]])
    freer.close(10)
    freer.free([str(f) for f in files[25:]])  # a thread again after a close
    assert freer.wait(10) and freer.pending == 0
    assert not any(f.exists() for f in files)
    freer.close(10)


def autocheckpoints(opened: list[Any]) -> list[int]:
    return [m._rows("PRAGMA wal_autocheckpoint", what="test")[0][0] for m in opened]


def test_rounds_leave_the_wal_checkpoint_until_the_worker_is_idle(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path)
    config = load_config(site)
    opened: list[Any] = []
    real = connect.Manifest.open

    def noting(path: Path) -> Any:
        opened.append(real(path))
        return opened[-1]

    monkeypatch.setattr(connect.Manifest, "open", noting)
    worker = RebuildWorker(config, settle=0)
    checkpoints: list[bool] = []
    monkeypatch.setattr(worker_run, "checkpoint",
                        lambda *args: checkpoints.append(True) or True)
    try:
        worker._round()
        edited_round(worker, site, "Edited")
        # Serve's own manifest, which the rounds build on, leaves the WAL be.
        assert autocheckpoints(opened[:1]) == [0]
        assert checkpoints == []  # none inside the rounds
        worker.submit(Change(tags=frozenset({"post:post-2"})))  # work waits: not idle
        worker._checkpoint()
        assert checkpoints == []
        worker._round()
        worker._checkpoint()  # idle now
        assert checkpoints == [True]
        worker._checkpoint()  # nothing since
        assert checkpoints == [True]
    finally:
        worker.stop()
    with sqlite3.connect(connect.sqlite_path(config.state_dir)) as conn:
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # others


def test_the_builds_manifests_leave_the_wal_be(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path)
    worker = RebuildWorker(load_config(site), settle=0)
    worker._runner.manifest = None  # as with PostgreSQL: each round opens its own
    seen: list[list[int]] = []
    real = connect.Manifest.open

    def noting(path: Path) -> Any:
        manifest = real(path)
        original = manifest.close

        def close(**how: bool) -> None:
            seen.append(autocheckpoints([manifest]))
            original(**how)

        manifest.close = close  # type: ignore[method-assign]
        return manifest

    monkeypatch.setattr(connect.Manifest, "open", noting)
    try:
        worker._round()
        edited_round(worker, site, "Edited")
    finally:
        worker.stop()
    assert seen and all(value == [0] for value in seen), seen


def test_mutant_rounds_that_checkpoint_is_caught(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with mutant(worker_run, "checkpoints_deferred", nullcontext), pytest.raises(AssertionError):
        test_the_builds_manifests_leave_the_wal_be(tmp_path, monkeypatch)


def test_a_large_wal_is_checkpointed_even_when_work_waits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path)
    config = load_config(site)
    worker = RebuildWorker(config, settle=0)
    try:
        worker._round()
        assert connect.wal_bytes(config.state_dir, None) > 0
        monkeypatch.setattr(worker_run, "WAL_LIMIT", 0)
        assert worker._runner.checkpoint(config, idle=False)
        assert not worker._runner.checkpoint(config, idle=True)  # nothing owed since
    finally:
        worker.stop()


def test_postgresql_state_is_never_checkpointed(tmp_path: Path) -> None:
    assert not connect.checkpoint(tmp_path, "postgresql://nowhere/none")
    assert connect.wal_bytes(tmp_path, "postgresql://nowhere/none") == 0
    assert not connect.checkpoint(tmp_path, None)  # no manifest yet: none is made
    assert not connect.sqlite_path(tmp_path).exists()


def test_the_output_is_watched_whoever_opened_the_source(tmp_path: Path) -> None:
    # ``ssgen serve`` opens the kept source itself and hands it over: its rounds must
    # check only the output files a watch saw change, as a worker that opens its own does.
    site = make_site(tmp_path)
    config = load_config(site)
    worker = RebuildWorker(config, settle=0, source=open_source(config, kept=True))
    try:
        worker._round()  # the first build (full: no manifest yet)
        edited_round(worker, site, "Edited")  # its look at the output starts the watch
        assert touched_files(config.output_dir) is not None
    finally:
        worker.stop()
    assert touched_files(config.output_dir) is None  # stopped: unwatched
