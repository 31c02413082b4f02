"""Mapping a local file read-only while no other process can truncate or rewrite it.

Owns the one safe way the kept source compares a 70 MB NDJSON file without copying it
out of the page cache: the file mapped under a read lease (``F_SETLEASE``). A mapping
whose file is truncated raises SIGBUS on the next access, which ends the server; while a
read lease is held, the kernel holds back every other opener for writing and every
truncate (for up to ``fs.lease-break-time`` seconds) until the lease is let go, and it
cannot be taken while anyone has the file open for writing. So the mapping is read only
inside the lease, and given up before the lease is. Taken only on local filesystems (a
network or FUSE file can be truncated by another host the lease does not reach) and when
the break time is ample; otherwise ``None``, and the caller reads with ``pread``.

The lease's break signal is set to SIGURG, which is ignored by default: the default
SIGIO would end the process when a writer comes along.

Unmapping a populated 70 MB mapping takes milliseconds (one page-table entry a 4 KB
page); with ``unmap_later`` the mapping, no longer read, is left mapped past the lease
until ``unmap_left`` (serve: after the round's replies). A mapping that is not read
raises nothing whatever happens to its file; at most one is left at a time.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import signal
import sys
import threading
from collections.abc import Iterator
from functools import lru_cache

# Filesystems whose every truncate and write-open goes through this kernel's VFS.
_LOCAL = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "f2fs"})
_BREAK_FILE = "/proc/sys/fs/lease-break-time"
_MIN_BREAK_S = 10  # the compare takes ~10 ms; a break time this long is never reached
_LEFT: list[mmap.mmap] = []  # mappings no longer read, left for ``unmap_left``
_LEFT_LOCK = threading.Lock()


@contextlib.contextmanager
def leased_map(fd: int, size: int, *, unmap_later: bool = False) -> Iterator[memoryview | None]:
    """The ``size`` bytes of the file open read-only at ``fd``, mapped under a read lease
    for the block's duration; None when that cannot be had (no lease, not a local
    filesystem, the file not ``size`` long under the lease). Views sliced from it must
    not outlive the block. ``unmap_later``: the mapping is unmapped by ``unmap_left``
    (or the next such block), not at the block's end."""
    if size <= 0 or not _lease_safe(fd):
        yield None
        return
    try:
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError:  # open for writing somewhere, not the owner, leases off
        yield None
        return
    try:
        with _mapped(fd, size, unmap_later) as view:
            yield view
    finally:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)


def take_lease(fd: int) -> bool:
    """Take a read lease on the file open read-only at ``fd`` (for ``ndjson.proof``,
    which maps it on a thread and lets go with ``let_go``); False when it cannot be had
    as ``leased_map`` would have it."""
    if not _lease_safe(fd):
        return False
    try:
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError:
        return False
    return True


def let_go(fd: int) -> None:
    """Let go of the lease ``take_lease`` took."""
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)


def unmap_left() -> None:
    """Unmap the mapping ``leased_map`` left mapped (``unmap_later``), if any."""
    with _LEFT_LOCK:
        left = _LEFT[:]
        del _LEFT[:]
    for mapped in left:
        _close(mapped)


@contextlib.contextmanager
def _mapped(fd: int, size: int, unmap_later: bool) -> Iterator[memoryview | None]:
    """The file mapped, if it is ``size`` long now (under the lease it stays so)."""
    unmap_left()  # at most one mapping left at a time
    try:
        if os.fstat(fd).st_size != size:
            raise ValueError
        mapped = mmap.mmap(fd, size, flags=mmap.MAP_SHARED | mmap.MAP_POPULATE,
                           prot=mmap.PROT_READ)
    except (OSError, ValueError):
        yield None
        return
    view = memoryview(mapped)
    try:
        yield view
    finally:
        view.release()
        if unmap_later:
            with _LEFT_LOCK:
                _LEFT.append(mapped)
        else:
            _close(mapped)


def _close(mapped: mmap.mmap) -> None:
    # A slice kept alive by a traceback holds the mapping open until it is freed; it
    # is never read again, and only a read of a truncated page raises SIGBUS.
    with contextlib.suppress(BufferError):
        mapped.close()


def lease_safe(fd: int) -> bool:
    """Whether leases on the file open at ``fd`` hold against every writer (see the
    module docstring; ``ndjson.changelog``'s write lease too)."""
    return _lease_safe(fd)


def _lease_safe(fd: int) -> bool:
    """Whether the file is on a local filesystem and the lease break time is ample."""
    if not sys.platform.startswith("linux"):  # F_SETLEASE, MAP_POPULATE, /proc
        return False
    try:
        with open(_BREAK_FILE, "rb") as handle:
            if int(handle.read()) < _MIN_BREAK_S:
                return False
        return _filesystem(os.fstat(fd).st_dev) in _LOCAL
    except (OSError, ValueError):
        return False


@lru_cache(maxsize=16)
def _filesystem(device: int) -> str:
    """The type of the filesystem mounted from ``device`` ("" when not found)."""
    wanted = f"{os.major(device)}:{os.minor(device)}"
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            fields, _, rest = line.partition(" - ")
            parts = fields.split()
            if len(parts) > 2 and parts[2] == wanted and rest:
                return rest.split()[0]
    return ""


__all__ = ["lease_safe", "leased_map", "let_go", "take_lease", "unmap_left"]
