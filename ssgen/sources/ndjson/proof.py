"""An NDJSON file's change taken where a webhook says, proved on a thread meanwhile.

Owns ``hinted_region``: when serve's round names the one document it was told changed,
the kept source takes the file's differing ``Region`` to be that document's old line
(the file's new size says how long its new bytes are) and starts a ``Proof`` that the
bytes before and after it equal the kept bytes, while the round goes on with the line
it read. The webhook is never trusted alone: the proof compares the whole rest of the
file, exactly as ``reread.differing_region`` would, only with libc's ``memcmp`` through
ctypes, which lets go of the GIL, on a thread, so it runs beside the round's queries and
renders instead of before them (~90 ms at 100,000 posts, the compare being bound by
memory bandwidth). The round's caller waits for it before replying (``Proof.wait``);
when it fails (another writer changed the file elsewhere too), the caller forgets the
kept bytes and builds again from the file read whole.

While the proof runs, the file is held under a read lease (``leased``: no writer can
open or truncate it, so the mapping cannot lose pages) and the kept bytes are an
exported buffer (a resize raises ``BufferError`` instead of freeing what the thread
reads); the thread maps the file, compares, unmaps it and lets go of the lease itself.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import cast

from ssgen.sources.leased import let_go, take_lease
from ssgen.sources.ndjson.reread import Region, Stamp

_MAP_FAILED = (1 << 64) - 1  # (void *) -1 as ctypes returns it on a 64-bit build
_Map = Callable[[None, int, int, int, int, int], "int | None"]
_Calls = tuple[_Map, Callable[[int, int], int], Callable[[int, int, int], int]]


@lru_cache(maxsize=1)
def _libc() -> _Calls | None:
    """libc's ``mmap``, ``munmap`` and ``memcmp`` (None where ctypes cannot have them)."""
    if ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        map_, unmap, compare = libc.mmap, libc.munmap, libc.memcmp
    except (OSError, AttributeError):
        return None
    map_.restype = ctypes.c_void_p
    map_.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                     ctypes.c_int, ctypes.c_long]
    unmap.restype = ctypes.c_int
    unmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    compare.restype = ctypes.c_int
    compare.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    return (cast(_Map, map_), cast(Callable[[int, int], int], unmap),
            cast(Callable[[int, int, int], int], compare))


class Proof:
    """A thread proving that the file at ``fd`` (``size`` bytes, leased by the caller)
    equals ``kept`` outside ``region``. ``wait`` gives the verdict; the thread closes
    ``fd`` and lets go of its lease."""

    def __init__(self, fd: int, stamp: Stamp, kept: bytearray, region: Region,
                 calls: _Calls) -> None:
        self._fd, self._stamp, self._region, self._calls = fd, stamp, region, calls
        # Exported until the thread is done: the kept bytes cannot move under it.
        self._kept = (ctypes.c_char * max(len(kept), 1)).from_buffer(kept) if kept \
            else None
        self._kept_size = len(kept)
        self._verdict = False
        self._known = threading.Event()  # set once the verdict is, before the unmap
        self._thread = threading.Thread(target=self._run, name="ndjson-proof", daemon=True)
        self._thread.start()

    def wait(self) -> bool:
        """Whether the file equals the kept bytes outside the region (waits for the
        verdict; the thread unmaps the file and lets go of its lease after it: ~10-30 ms
        at 100,000 posts that the round does not wait for)."""
        self._known.wait()
        self._kept = None  # the export let go: the kept bytes may be patched now
        return self._verdict

    def _run(self) -> None:
        address = None
        try:
            address = self._map()
            self._verdict = address is not None and self._compare(address)
        except BaseException:  # any doubt is a failed proof: the caller reads whole
            self._verdict = False
        finally:
            self._known.set()
            if address is not None:
                self._calls[1](address, self._stamp[1])
            let_go(self._fd)
            os.close(self._fd)

    def _map(self) -> int | None:
        """The leased file mapped whole, its pages populated (None: not the stamped file,
        or no mapping)."""
        if _stamp(self._fd) != self._stamp:
            return None
        address = self._calls[0](None, self._stamp[1], mmap.PROT_READ,
                                 mmap.MAP_SHARED | mmap.MAP_POPULATE, self._fd, 0)
        return None if address is None or address == _MAP_FAILED else address

    def _compare(self, address: int) -> bool:
        """Whether the file mapped at ``address`` equals the kept bytes outside the
        region, and is still the stamped file."""
        compare = self._calls[2]
        size, region = self._stamp[1], self._region
        kept = ctypes.addressof(self._kept) if self._kept is not None else 0
        head, tail = region.prefix, region.suffix
        equal = (not head or compare(address, kept, head) == 0) and \
            (not tail or compare(address + size - tail,
                                 kept + self._kept_size - tail, tail) == 0)
        return equal and _stamp(self._fd) == self._stamp


def hinted_region(path: str, stamp: Stamp, kept: bytearray, line: tuple[int, int]
                  ) -> tuple[Region, Proof] | None:
    """The file at ``path`` (``stamp`` its stat) taken to differ from ``kept`` only in
    the kept bytes' ``line`` range (a document's line, its newline excluded), with the
    ``Proof`` of it started; None when that cannot be tried (no lease, no libc, the
    sizes do not allow it, the file is not ``stamp``'s): the caller compares as usual."""
    calls = _libc()
    start, stop = line
    size = stamp[1]
    suffix = len(kept) - stop
    if calls is None or not 0 <= start <= stop <= len(kept) or start + suffix > size:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    proof = None
    try:
        if not take_lease(fd):
            return None
        try:
            if _stamp(fd) != stamp:
                return None
            middle = os.pread(fd, size - suffix - start, start)
            if len(middle) != size - suffix - start:
                return None
            proof = Proof(fd, stamp, kept, Region(start, suffix, middle, size), calls)
            return Region(start, suffix, middle, size), proof
        finally:
            if proof is None:
                let_go(fd)
    except OSError:
        return None
    finally:
        if proof is None:
            os.close(fd)


def _stamp(fd: int) -> Stamp:
    info = os.fstat(fd)
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


__all__ = ["Proof", "hinted_region"]
