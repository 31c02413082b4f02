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

The file is mapped with libc's ``mmap`` through ctypes (``Mapped``: an address), not
Python's ``mmap`` object: the compare hands the address to ``memcmp`` on two threads
(``ndjson.scan``), and ctypes lets go of the GIL in ``mmap``, ``munmap`` and ``memcmp``
alike.

The lease's break signal is set to SIGURG, which is ignored by default: the default
SIGIO would end the process when a writer comes along.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import NamedTuple, cast

# Filesystems whose every truncate and write-open goes through this kernel's VFS.
_LOCAL = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "f2fs"})
_BREAK_FILE = "/proc/sys/fs/lease-break-time"
_MIN_BREAK_S = 10  # the compare takes ~10 ms; a break time this long is never reached


class Mapped(NamedTuple):
    """A file's ``size`` bytes mapped read-only at ``address`` (valid inside the block of
    ``leased_map`` only: nothing may read it after)."""

    address: int
    size: int

    def read(self, start: int, stop: int) -> bytes:
        """A copy of the bytes ``[start, stop)``."""
        import ctypes

        return ctypes.string_at(self.address + start, max(stop - start, 0))


@contextlib.contextmanager
def leased_map(fd: int, size: int) -> Iterator[Mapped | None]:
    """The ``size`` bytes of the file open read-only at ``fd``, mapped under a read lease
    for the block's duration; None when that cannot be had (no lease, not a local
    filesystem, the file not ``size`` long under the lease). The mapping and the lease
    are given up on a thread after the block (``released`` waits for it)."""
    released()
    if size <= 0 or not _lease_safe(fd):
        yield None
        return
    try:
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError:  # open for writing somewhere, not the owner, leases off
        yield None
        return
    mapped = _map(fd, size)
    if mapped is None:
        _unlease(fd)
        yield None
        return
    try:
        yield mapped
    finally:
        _let_go(mapped, fd)


def _map(fd: int, size: int) -> Mapped | None:
    """The file mapped, if it is ``size`` long now (under the lease it stays so)."""
    calls = _libc()
    try:
        if calls is None or os.fstat(fd).st_size != size:
            return None
    except OSError:
        return None
    address = calls[0](None, size, mmap.PROT_READ, mmap.MAP_SHARED | mmap.MAP_POPULATE, fd, 0)
    return None if address in (None, _MAP_FAILED) else Mapped(address, size)


def _unlease(fd: int) -> None:
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)


# The thread giving up the last mapping, then its lease (see ``_let_go``).
_RELEASING: list[threading.Thread] = []


def _let_go(mapped: Mapped, fd: int) -> None:
    """Unmap ``mapped``, then let the lease go, on a thread: ``munmap`` of a 70 MB
    mapping takes ~1-2 ms, which the caller spends on what it found instead. The thread
    holds a duplicate of ``fd`` (the lease is the open file's: it lasts until the
    unmapping is done, whenever the caller closes ``fd``)."""
    unmap = _libc()
    assert unmap is not None
    try:
        held = os.dup(fd)
    except OSError:  # no descriptor to spare: here and now
        unmap[1](mapped.address, mapped.size)
        _unlease(fd)
        return

    def run() -> None:
        try:
            unmap[1](mapped.address, mapped.size)
            _unlease(held)
        finally:
            os.close(held)

    released()
    thread = threading.Thread(target=run, name="ssgen-unmap", daemon=True)
    thread.start()
    _RELEASING.append(thread)


def released() -> None:
    """Wait until the last mapping ``leased_map`` handed out is unmapped and its lease
    let go (the next ``leased_map`` waits for it too)."""
    while _RELEASING:
        _RELEASING.pop().join()


_MAP_FAILED = (1 << (8 * 8)) - 1  # (void *) -1 as ctypes returns it on a 64-bit build
_Map = Callable[[None, int, int, int, int, int], "int | None"]


@lru_cache(maxsize=1)
def _libc() -> tuple[_Map, Callable[[int, int], int]] | None:
    """libc's ``mmap`` and ``munmap`` (None where ctypes cannot load them)."""
    import ctypes

    if ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        map_, unmap = libc.mmap, libc.munmap
    except (OSError, AttributeError):
        return None
    map_.restype = ctypes.c_void_p
    map_.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                     ctypes.c_int, ctypes.c_long]
    unmap.restype = ctypes.c_int
    unmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    return cast(_Map, map_), cast(Callable[[int, int], int], unmap)


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


__all__ = ["Mapped", "leased_map", "released"]
