"""Saving a kept source's snapshot (serve's) in a forked child, between rounds.

Owns ``keep_later``: called on the thread that mutates the source, after a round's
replies, it forks a child that encodes the source as the fork saw it (one consistent
state: no round runs in the child) and replaces ``.ssgen/source.snapshot`` atomically,
so the first new process after serve (``ssgen build``, ``ssgen revalidate``) resumes the
site as serve last built it instead of loading every file. Throttled: one child at a
time, ``INTERVAL`` seconds between the starts of two, none for a state already saved, and
none when the machine lacks the memory the child may copy (each object it encodes has
its reference count written, so its pages are copied on write: up to the server's size,
and the encoded bytes beside them: ``spare``).
A state not saved yet (a round in the throttle's window) waits for the next round's
call; a new process resuming the older snapshot diffs the files against it, as after
any stale snapshot. A child killed mid-write leaves a temporary file that a later save
sweeps, never a torn snapshot.

Spaced by the saves' cost too: the next starts ``SPACING`` times the last child's CPU time
after it at the earliest. While a child lives, every page the server's next round writes
is copied (reference counts: each pass over 100,000 pages or documents touches them), so
that round takes 0.4-1.3 s instead of 0.15 at 100,000 posts, whose save runs for over
10 s: at most one save in every ~200 s there.

Also ``defer`` and ``run_deferred``: a command's re-save of the snapshot it resumed
(~2 s at 10,000 posts, due every few edits) made by a child forked as the command exits,
after its pages, manifest and lock are done with, instead of before the exit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import Any, NoReturn

from ssgen.config.load import Config
from ssgen.sources import Source
from ssgen.sources.local import LocalSource
from ssgen.sources.snapshot import FILE, save, snapshot_key, wanted

INTERVAL = 10.0
SPACING = 20.0  # the least time between the starts of two saves, in the last one's CPU times
# Seconds a stopping server waits for its last save: a save takes ~2 s at 10,000 posts and
# over 10 s at 100,000, and a service manager stopping the unit kills a child left
# behind (systemd kills the unit's whole cgroup): the next process would then load every
# file instead of resuming (68 s against 6.5 s at 100,000 posts). Under systemd's
# default stop timeout (90 s); docs/serve.md says what to give the others.
FINAL_WAIT = 60.0


class _Saver:
    """The child saving now, when the last one started, and the state it saved."""

    def __init__(self) -> None:
        self.pid = 0
        self.started = -INTERVAL
        self.saved: tuple[str, int] | None = None
        self.cost = 0.0  # the last child's CPU seconds (known once it is reaped)

    def due(self) -> bool:
        """Whether enough time passed since the last save started (see ``SPACING``)."""
        return time.monotonic() - self.started >= max(INTERVAL, SPACING * self.cost)


_SAVER = _Saver()


def keep_later(config: Config, source: Source | None,
               extra: Callable[[], Any] = lambda: None, *, final: bool = False) -> bool:
    """Start saving ``source`` (a kept local source with maintained list queries and an
    NDJSON or export input) with ``extra()`` in a forked child, unless throttled (see the
    module docstring). Returns whether a child was started. ``final``: the server stops;
    the save waits for a child still saving, ignores the ``INTERVAL`` window, and returns
    once its own child is done or ``FINAL_WAIT`` seconds passed (the next process then
    resumes the state served last; a child left behind finishes alone, unless the
    service manager kills it)."""
    if not isinstance(source, LocalSource) or source.results is None \
            or not source.results.lists or not wanted(source.loaded_inputs):
        return False
    state = (source.session, source.version)
    until = time.monotonic() + FINAL_WAIT  # one bound for both waits of a final save
    if final:
        _wait_until(until)
    if _busy() or state == _SAVER.saved or not _memory_to_spare() \
            or (not final and not _SAVER.due()):
        return False
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid == 0:
        as_child(lambda: save(config.state_dir / FILE,
                              snapshot_key(config, source.perspective), source, extra()))
    _SAVER.pid, _SAVER.started, _SAVER.saved = pid, time.monotonic(), state
    if final:
        _wait_until(until)
    return True


def as_child(work: Callable[[], None]) -> NoReturn:
    """Run ``work`` in a forked saver, then exit without running the parent's code. A
    server's SIGTERM handler (uvicorn's, which only flags a shutdown) is put back to the
    default first: a stopping service's saver must end when told to, and its temporary
    file is swept by the next save."""
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        work()
    finally:
        os._exit(0)


_DEFERRED: list[Callable[[], None]] = []
DEFERRED_LIMIT = 600  # seconds a deferred save's child may take (~2 s at 10,000 posts)


def defer(save: Callable[[], None]) -> None:
    """Have ``run_deferred`` call ``save`` (replacing one deferred before)."""
    _DEFERRED[:] = [save]


def run_deferred() -> int:
    """The deferred save, in a child that outlives this process (its streams on
    ``/dev/null``: a caller reading this process's output does not wait for it); done
    here when no child can be forked or the memory it may copy is short. Until the
    child renames the new snapshot in, a new process resumes the older one. Returns
    the child's pid (0: none)."""
    if not _DEFERRED:
        return 0
    save = _DEFERRED.pop()
    try:
        pid = os.fork() if _memory_to_spare() else -1
    except OSError:
        pid = -1
    if pid < 0:
        save()
        return 0
    if pid == 0:
        try:
            # A child stuck on a lock another thread held at the fork ends by itself.
            signal.alarm(DEFERRED_LIMIT)
            quiet = os.open(os.devnull, os.O_RDWR)
            for stream in (0, 1, 2):
                os.dup2(quiet, stream)
            save()
        finally:
            os._exit(0)
    return pid


def _wait_until(deadline: float) -> None:
    """Wait for the child saving now, until ``time.monotonic()`` reaches ``deadline``."""
    while _busy() and time.monotonic() < deadline:
        time.sleep(0.02)


def wait() -> None:
    """Wait for the child saving now, if any (tests; a server stopping)."""
    if _SAVER.pid:
        with contextlib.suppress(ChildProcessError):  # reaped already
            _SAVER.cost = _cpu(os.wait4(_SAVER.pid, 0)[2])
        _SAVER.pid = 0


def _busy() -> bool:
    """Whether the last child still runs (reaped here once it exited)."""
    if not _SAVER.pid:
        return False
    try:
        done, _, usage = os.wait4(_SAVER.pid, os.WNOHANG)
    except ChildProcessError:
        done, usage = _SAVER.pid, None
    if done:
        _SAVER.pid = 0
        if usage is not None:
            _SAVER.cost = _cpu(usage)
    return not done


def _cpu(usage: Any) -> float:
    return float(usage.ru_utime + usage.ru_stime)


SAVE_HEADROOM = 512 << 20  # bytes: the encoder's output and the other processes' growth


def spare(available: int, resident: int) -> bool:
    """Whether a child forked from a process of ``resident`` bytes may save with
    ``available`` bytes free. Encoding touches every object's reference count, so the
    child comes to copy nearly all of the parent's pages (b15 saw a 10.5 GB server's
    child reach 10.4 GB); it also holds the encoded bytes. A quarter more than the
    resident size plus ``SAVE_HEADROOM`` leaves the machine room for both."""
    return available > resident + resident // 4 + SAVE_HEADROOM


def _memory_to_spare() -> bool:
    """``spare`` for this process and the memory available now (unknown: yes, where
    ``/proc`` is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            resident = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return spare(int(line.split()[1]) * 1024, resident)
    except (OSError, ValueError, IndexError):
        pass
    return True


__all__ = ["FINAL_WAIT", "INTERVAL", "SAVE_HEADROOM", "SPACING", "defer", "keep_later",
           "run_deferred", "spare", "wait"]
