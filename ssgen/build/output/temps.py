"""The output's temp files: named for their writer's pid, and swept once the writer died.

A write goes to ``TEMP_PREFIX<pid>-<n>`` beside its target, then ``os.replace``; what a
killed process left behind is deleted here (never a live writer's file).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable

from ssgen.memos import on_forget

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
on_forget(SWEPT.clear)


# Absolute folder -> what gives the names of the temp files in it that another process
# listed for this one (``ssgen.build.damage_ahead``: under the build lock), or None.
_LISTED: dict[str, Callable[[], list[str] | None]] = {}
os.register_at_fork(after_in_child=_LISTED.clear)


def listed_elsewhere(folder: str, names: Callable[[], list[str] | None] | None) -> None:
    """The next sweep of ``folder`` (absolute) takes its temp files' names from ``names``
    (None from it, or given None here: the sweep lists the folder itself)."""
    if names is None:
        _LISTED.pop(folder, None)
    else:
        _LISTED[folder] = names


def sweep_temps(folder: str) -> list[str]:
    """Delete the temp files a killed ssgen process left in ``folder`` (not live ones);
    the paths deleted."""
    given = _LISTED.pop(os.path.abspath(folder), None) if _LISTED else None
    names = given() if given is not None else None
    if names is not None:
        stale = [os.path.join(folder, name) for name in names]
    else:
        try:
            with os.scandir(folder) as entries:
                stale = [e.path for e in entries if e.name.startswith(TEMP_PREFIX)]
        except OSError:
            return []
    dead = [path for path in stale if not writer_alive(os.path.basename(path))]
    for path in dead:
        unlink_quietly(path)
    return dead


def writer_alive(name: str) -> bool:
    """Whether the process a temp name (``TEMP_PREFIX<pid>-...``) names is running."""
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
    return not _exited(pid_text)


_PF_EXITING = 0x4  # the kernel's flag for a task in its exit (``/proc/<pid>/stat``)


def _exited(pid_text: str) -> bool:
    # A worker orphaned by a killed build, once dead, waits as a zombie until init reaps
    # it, and signal 0 still reaches a zombie (the build after it got the lock it held).
    # Before it is a zombie it has closed its files (so the lock is free) while still
    # exiting: no code of it runs again, and its temp file is as dead.
    try:
        with open(f"/proc/{pid_text}/stat", "rb") as handle:
            return stat_exited(handle.read())
    except OSError:
        return False


def stat_exited(stat: bytes) -> bool:
    """Whether a ``/proc/<pid>/stat`` line is a zombie's or a task's in its exit (the
    name in parentheses may hold anything: the fields follow its last ``)``)."""
    fields = stat.rpartition(b")")[2].split()
    try:
        return fields[0] in (b"Z", b"X") or bool(int(fields[6]) & _PF_EXITING)
    except (IndexError, ValueError):
        return False


def unlink_quietly(path: str) -> None:
    """Delete ``path`` if it can be deleted (a temp file being cleaned up)."""
    with contextlib.suppress(OSError):
        os.unlink(path)


__all__ = ["SWEPT", "TEMP_PREFIX", "defer_frees", "displace", "free_displaced",
           "listed_elsewhere", "stat_exited", "sweep_temps", "take_displaced", "temp_name",
           "unlink_quietly", "writer_alive"]


# Freeing a replaced file is the slow part of a replace: ``os.replace`` over an 8 MB page
# took 9-18 ms on this ext4 (the old inode's blocks freed, with ``discard``) against 0.3 ms
# when another link still holds the old file. A process that turns ``defer_frees`` on
# (serve, around a round) first links each file a replace will displace into a folder of
# its own outside the output (``.ssgen/displaced/``, on the same file system, or nothing
# is deferred), and unlinks those links at ``free_displaced`` (after the round's replies).
# Readers of the output see what they saw before: the old file until the rename, the new
# one after it, and no other file. A process killed before freeing leaves links named for
# its pid, which the next ``defer_frees`` sweeps; forked render workers never defer
# (their pid is not the owner's).
_DISPLACED: list[str] = []
_DEFERRING: list[tuple[int, str]] = []  # (the pid that turned deferring on, its folder)


def defer_frees(folder: str | None) -> None:
    """Keep the files replaces displace, linked in ``folder``, until ``free_displaced``
    (this process only; None: stop deferring)."""
    _DEFERRING.clear()
    if folder is None:
        return
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return  # freed at once, as without deferring
    if folder not in SWEPT:
        sweep_temps(folder)
        SWEPT.add(folder)
    _DEFERRING.append((_pid(), folder))


def displace(target: str) -> None:
    """Before a replace of ``target``: link its file into the deferring folder."""
    if not _DEFERRING or _DEFERRING[0][0] != _pid():
        return
    held = temp_name(_DEFERRING[0][1])
    try:
        os.link(target, held, follow_symlinks=False)
    except OSError:  # no file yet, or another file system: freed at once
        return
    _DISPLACED.append(held)


def free_displaced() -> int:
    """Unlink the links ``displace`` made; how many."""
    held = take_displaced()
    for path in held:
        unlink_quietly(path)
    return len(held)


def take_displaced() -> list[str]:
    """The links ``displace`` made, handed over to be unlinked by the caller (serve:
    on a thread of its own, so the next round does not wait for the frees)."""
    held: list[str] = []
    while _DISPLACED:  # pop: another thread may still add one
        held.append(_DISPLACED.pop())
    return held
