"""The output's temp files: named for their writer's pid, and swept once the writer died.

A write goes to ``TEMP_PREFIX<pid>-<n>`` beside its target, then ``os.replace``; what a
killed process left behind is deleted here (never a live writer's file).
"""

from __future__ import annotations

import contextlib
import itertools
import os

TEMP_PREFIX = ".ssgen-tmp-"
_counter = itertools.count()
_PID: list[int] = []


def _pid() -> int:
    # Temp names carry the writer's pid; asked of the kernel once per process.
    if not _PID:
        _PID.append(os.getpid())
    return _PID[0]


os.register_at_fork(after_in_child=_PID.clear)


def temp_name(folder: str) -> str:
    """A fresh temp file path in ``folder`` for this process to write."""
    return os.path.join(folder, f"{TEMP_PREFIX}{_pid()}-{next(_counter)}")


# Process-wide: serve writes into public/blog/ (10k entries) on every webhook; what a
# killed process left there is swept on this process's first write.
SWEPT: set[str] = set()


def sweep_temps(folder: str) -> list[str]:
    """Delete the temp files a killed ssgen process left in ``folder`` (not live ones);
    the paths deleted."""
    try:
        with os.scandir(folder) as entries:
            stale = [e.path for e in entries if e.name.startswith(TEMP_PREFIX)]
    except OSError:
        return []
    dead = [path for path in stale if not _writer_alive(os.path.basename(path))]
    for path in dead:
        unlink_quietly(path)
    return dead


def _writer_alive(name: str) -> bool:
    # Temp names carry the writer's pid: another live build worker may still rename it.
    pid_text = name[len(TEMP_PREFIX) :].split("-", 1)[0]
    if not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return not _zombie(pid_text)


def _zombie(pid_text: str) -> bool:
    # A worker orphaned by a killed build, once dead, waits as a zombie until init reaps
    # it, and signal 0 still reaches a zombie (the build after it got the lock it held).
    try:
        with open(f"/proc/{pid_text}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2][:3] == b" Z "
    except OSError:
        return False


def unlink_quietly(path: str) -> None:
    """Delete ``path`` if it can be deleted (a temp file being cleaned up)."""
    with contextlib.suppress(OSError):
        os.unlink(path)


__all__ = ["SWEPT", "TEMP_PREFIX", "sweep_temps", "temp_name", "unlink_quietly"]
