"""Finding where an NDJSON file on disk differs from the bytes a kept source holds.

Owns comparing the file with the kept bytes without reading it into new memory: the
file mapped under a read lease (``leased``: no copy out of the page cache, ~35% less
CPU on a 70 MB file), else chunks read from both ends through one small reused buffer;
either way compared at memcmp speed from both ends, and only the differing middle is
copied out (``Region``). The caller patches its kept ``bytearray`` with it
(``ndjson.diff.patch``). Reading a 78 MB file into a fresh buffer on every reload cost
more in page faults and zeroing than in copying, and held the old and the new bytes at
once. Anything unexpected (the file shrank or changed while it was being compared) gives
None: the caller then reads the whole file, as a first load does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NamedTuple

from ssgen.sources.leased import leased_map
from ssgen.sources.ndjson import Data
from ssgen.sources.ndjson.match import matching_run

_CHUNK = 1 << 18  # 256 KB: ~10% less CPU than 1 MB on a 70 MB file (the buffer stays cached)

Stamp = tuple[int, int, int, int]


class Region(NamedTuple):
    """The file against the kept bytes: equal for ``prefix`` bytes at the start and
    ``suffix`` at the end (they never overlap), ``middle`` between; ``size`` in all."""

    prefix: int
    suffix: int
    middle: bytes
    size: int


def differing_region(path: str, kept: Data, stamp: Stamp, *,
                     unmap_later: bool = False) -> Region | None:
    """Where the file at ``path`` differs from ``kept``; None when the file is not the
    one ``stamp`` (mtime_ns, size, inode, ctime_ns) describes, before or after the
    reading, or an OS error interrupts it (the caller then reads the file whole).
    ``unmap_later``: the file's mapping is left for ``leased.unmap_left``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        with leased_map(fd, stamp[1], unmap_later=unmap_later) as mapped:
            if _stamp(fd) != stamp:
                return None
            read = _pread_reader(fd, stamp[1]) if mapped is None else mapped.__getitem__
            region = _compare(read, kept, stamp[1])
            return region if region is not None and _stamp(fd) == stamp else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _stamp(fd: int) -> Stamp:
    info = os.fstat(fd)
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


# The file's bytes in ``range``: a slice of the mapped file, or read into a buffer.
Reader = Callable[[slice], "memoryview | bytes"]


def _pread_reader(fd: int, size: int) -> Reader:
    """The file read through one small reused buffer (a view of it, valid until the
    next read); a short read gives fewer bytes than asked."""
    buffer = memoryview(bytearray(min(_CHUNK, max(size, 1))))

    def read(span: slice) -> memoryview | bytes:
        length = span.stop - span.start
        if length > len(buffer):
            return os.pread(fd, length, span.start)
        chunk = buffer[:length]
        return chunk[:os.preadv(fd, [chunk], span.start)]
    return read


def _compare(read: Reader, kept: Data, size: int) -> Region | None:
    limit = min(size, len(kept))
    prefix = _forward(read, kept, limit)
    if prefix is None:
        return None
    suffix = _backward(read, kept, size, limit - prefix)
    if suffix is None:
        return None
    middle = bytes(read(slice(prefix, size - suffix)))
    return Region(prefix, suffix, middle, size) if len(middle) == size - prefix - suffix \
        else None


def _forward(read: Reader, kept: Data, limit: int) -> int | None:
    """How many bytes at the file's start equal ``kept``'s, up to ``limit``."""
    done = 0
    while done < limit:
        length = min(_CHUNK, limit - done)
        chunk = read(slice(done, done + length))
        if len(chunk) != length:
            return None
        if not kept.startswith(chunk, done):
            return done + _head_match(kept, memoryview(chunk), done)
        done += length
    return done


def _backward(read: Reader, kept: Data, size: int, limit: int) -> int | None:
    """How many bytes at the file's end (``size`` long) equal ``kept``'s end, up to
    ``limit``."""
    done = 0
    while done < limit:
        length = min(_CHUNK, limit - done)
        chunk = read(slice(size - done - length, size - done))
        if len(chunk) != length:
            return None
        if not kept.endswith(chunk, 0, len(kept) - done):
            return done + _tail_match(kept, memoryview(chunk), len(kept) - done)
        done += length
    return done


def _head_match(kept: Data, chunk: memoryview, at: int) -> int:
    """How many of ``chunk``'s first bytes equal ``kept``'s from offset ``at``."""
    return matching_run(len(chunk), lambda done, size:
                        kept.startswith(chunk[done:done + size], at + done))


def _tail_match(kept: Data, chunk: memoryview, end: int) -> int:
    """How many of ``chunk``'s last bytes equal ``kept``'s before offset ``end``."""
    whole = len(chunk)
    return matching_run(whole, lambda done, size:
                        kept.endswith(chunk[whole - done - size:whole - done], 0, end - done))


__all__ = ["Region", "Stamp", "differing_region"]
