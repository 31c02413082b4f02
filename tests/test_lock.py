"""ssgen.manifest.lock: one build per site, across threads and processes."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from ssgen.errors import SsgenError
from ssgen.manifest.lock import BuildLock, BuildLockBusy

_ctx = multiprocessing.get_context("fork")


def _hold(site: str, locked: Event, release: Event) -> None:
    with BuildLock(Path(site), wait=False):
        locked.set()
        release.wait(60)


def _hold_and_die(site: str, locked: Event) -> None:
    lock = BuildLock(Path(site), wait=False)
    lock.acquire()
    locked.set()
    os._exit(3)  # no release: the kernel must drop the lock


def _child_holding(site: Path) -> tuple[multiprocessing.process.BaseProcess, Event]:
    locked, release = _ctx.Event(), _ctx.Event()
    child = _ctx.Process(target=_hold, args=(str(site), locked, release))
    child.start()
    assert locked.wait(30), "child never took the lock"
    return child, release


def test_second_build_fails_fast_naming_the_holder_pid(tmp_path: Path) -> None:
    child, release = _child_holding(tmp_path)
    try:
        with pytest.raises(BuildLockBusy) as info, BuildLock(tmp_path, wait=False):
            pass
        assert info.value.pid == child.pid
        message = str(info.value)
        assert f"another ssgen build is running on this site (pid {child.pid})" in message
        assert "wait for it" in message
        assert isinstance(info.value, SsgenError)
    finally:
        release.set()
        child.join(30)
    assert child.exitcode == 0
    with BuildLock(tmp_path, wait=False) as lock:
        assert lock.held


def test_timed_wait_gives_up_with_a_clear_message(tmp_path: Path) -> None:
    child, release = _child_holding(tmp_path)
    try:
        with pytest.raises(BuildLockBusy, match=r"after waiting 0\.2s"):
            BuildLock(tmp_path, wait=0.2).acquire()
    finally:
        release.set()
        child.join(30)


def test_waiting_build_proceeds_when_the_first_finishes(tmp_path: Path) -> None:
    child, release = _child_holding(tmp_path)
    acquired = threading.Event()

    def second_build() -> None:
        with BuildLock(tmp_path, wait=True):
            acquired.set()

    waiter = threading.Thread(target=second_build)
    waiter.start()
    try:
        assert not acquired.wait(0.3), "took the lock while another process held it"
    finally:
        release.set()
    waiter.join(30)
    child.join(30)
    assert acquired.is_set()


def test_timed_wait_succeeds_once_released(tmp_path: Path) -> None:
    child, release = _child_holding(tmp_path)
    release.set()
    child.join(30)
    with BuildLock(tmp_path, wait=5.0) as lock:
        assert lock.held
        assert (tmp_path / ".ssgen/build.lock").read_text() == f"{os.getpid()}\n"
    assert (tmp_path / ".ssgen/build.lock").read_text() == ""


def test_crashed_holder_does_not_leave_the_site_locked(tmp_path: Path) -> None:
    locked = _ctx.Event()
    child = _ctx.Process(target=_hold_and_die, args=(str(tmp_path), locked))
    child.start()
    assert locked.wait(30)
    child.join(30)
    assert child.exitcode == 3
    with BuildLock(tmp_path, wait=False) as lock:
        assert lock.held


def test_two_locks_in_one_process_also_exclude(tmp_path: Path) -> None:
    first = BuildLock(tmp_path, wait=False)
    first.acquire()
    try:
        with pytest.raises(BuildLockBusy, match=f"pid {os.getpid()}"):
            BuildLock(tmp_path, wait=False).acquire()
        with pytest.raises(SsgenError, match="already held"):
            first.acquire()
    finally:
        first.release()
    first.release()  # releasing twice is harmless
    assert not first.held


def test_unopenable_lock_file_is_an_ssgen_error(tmp_path: Path) -> None:
    (tmp_path / ".ssgen").write_text("not a folder")
    with pytest.raises(SsgenError, match="cannot open build lock"):
        BuildLock(tmp_path).acquire()


def test_the_early_lock_does_not_import_the_manifest_store() -> None:
    """A new build takes its lock (``damage_ahead``) before it forks the Markdown parse;
    the store (sqlite3, the schema) loads after the fork, when first used."""
    code = (
        "import sys\n"
        "import ssgen.build.damage_ahead, ssgen.manifest.lock\n"
        "print('ssgen.manifest.store' in sys.modules, 'sqlite3' in sys.modules)\n"
        "from ssgen.manifest import Manifest\n"
        "from ssgen.manifest.store import Manifest as Stored\n"
        "import ssgen.manifest\n"
        "try:\n"
        "    ssgen.manifest.Nothing\n"
        "except AttributeError as exc:\n"
        "    print(Manifest is Stored, exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["False False",
                   "True module 'ssgen.manifest' has no attribute 'Nothing'"]
