"""An NDJSON file's change taken where a webhook says, proved on a thread meanwhile.

Owns ``hinted_region``: when serve's round names the one document it was told changed,
the kept source takes the file's differing ``Region`` to be that document's old line
(the file's new size says how long its new bytes are) and starts a ``Proof`` that the
bytes before and after it equal the kept bytes, while the round goes on with the line
it read. The webhook is never trusted alone: the proof compares the whole rest of the
file, exactly as ``reread.differing_region`` would, only with libc's ``memcmp`` through
ctypes, which lets go of the GIL, on a thread, so it runs beside the round's queries and
renders instead of before them (~90 ms at 100,000 posts, the compare being bound by
memory bandwidth). The round's caller waits for it before replying (``Proof.wait``),
comparing meanwhile the pieces the thread has not begun (the compare is cut into
pieces, ``_pieces``: at 100,000 posts the round reaches its wait before the proof
ends); when
it fails (another writer changed the file elsewhere too), the caller forgets the
kept bytes and builds again from the file read whole.

While the proof runs, the file is held under a read lease (``leased``: no writer can
open or truncate it, so the mapping cannot lose pages) and the kept bytes are an
exported buffer (a resize raises ``BufferError`` instead of freeing what the thread
reads); the caller maps the file (unpopulated: a few microseconds), the thread compares,
unmaps it and lets go of the lease itself. Each piece's compare lets go of the GIL, and
taking it back from a round's thread that runs Python waits up to the switch interval
(5 ms by default): while a proof runs, the interval is 0.5 ms (``_Switching``).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import sys
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import cast

from ssgen.sources.leased import let_go, take_lease
from ssgen.sources.ndjson.reread import Region, Stamp

_MAP_FAILED = (1 << 64) - 1  # (void *) -1 as ctypes returns it on a 64-bit build
_Map = Callable[[None, int, int, int, int, int], "int | None"]
_Calls = tuple[_Map, Callable[[int, int], int], Callable[[int, int, int], int]]
# The smallest piece a claim compares (~2 ms at memory speed): a round that waits for
# its proof compares the pieces the thread has not begun, in as fine a share as this.
_PIECE = 16 << 20
_SWITCH_S = 0.0005  # the switch interval while a proof runs (``_Switching``)


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
    """A thread proving that the file at ``fd`` (``size`` bytes, leased by the caller,
    mapped at ``address``) equals ``kept`` outside ``region``. ``wait`` gives the
    verdict, comparing what the thread has not yet begun itself; the thread unmaps the
    file, closes ``fd`` and lets go of its lease."""

    def __init__(self, fd: int, stamp: Stamp, kept: bytearray, region: Region,
                 calls: _Calls, address: int) -> None:
        self._fd, self._stamp, self._calls, self._address = fd, stamp, calls, address
        # Exported until the thread is done: the kept bytes cannot move under it.
        self._kept = (ctypes.c_char * max(len(kept), 1)).from_buffer(kept) if kept \
            else None
        self._kept_address = ctypes.addressof(self._kept) if self._kept is not None else 0
        self._pieces = _pieces(stamp[1], len(kept), region)
        # The thread claims pieces from the front, a waiter from the back.
        self._front, self._back, self._busy, self._failed = 0, len(self._pieces), 0, False
        self._claims = threading.Lock()
        self._compared = threading.Event()  # none left to claim, none being compared
        if not self._pieces:
            self._compared.set()
        self._verdict = False
        self._known = threading.Event()  # set once the verdict is, before the unmap
        self._thread = threading.Thread(target=self._run, name="ndjson-proof", daemon=True)
        _SWITCHING.lower()
        try:
            self._thread.start()
        except BaseException:
            _SWITCHING.restore()
            raise

    def wait(self) -> bool:
        """Whether the file equals the kept bytes outside the region: the pieces the
        thread has not claimed compared here (the caller would idle meanwhile), then the
        verdict waited for (the thread unmaps the file and lets go of its lease after
        it: ~10-30 ms at 100,000 posts that the round does not wait for)."""
        while self._share(front=False):
            pass
        self._known.wait()
        self._kept = None  # the export let go: the kept bytes may be patched now
        return self._verdict

    def _run(self) -> None:
        try:
            while self._share(front=True):
                pass
            self._compared.wait()
            self._verdict = not self._failed and _stamp(self._fd) == self._stamp
        except BaseException:  # any doubt is a failed proof: the caller reads whole
            self._verdict = False
        finally:
            self._known.set()
            _SWITCHING.restore()
            self._compared.wait()  # no waiter reads the mapping any more
            self._calls[1](self._address, self._stamp[1])
            let_go(self._fd)
            os.close(self._fd)

    def _share(self, *, front: bool) -> bool:
        """Claim the next piece (from the front or the back) and compare it; False
        when none was left or it differed."""
        with self._claims:
            if self._failed or self._front >= self._back:
                return False
            if front:
                piece, self._front = self._pieces[self._front], self._front + 1
            else:
                self._back -= 1
                piece = self._pieces[self._back]
            self._busy += 1
        equal = False
        try:
            equal = self._compare(piece)
        finally:
            with self._claims:
                self._busy -= 1
                self._failed = self._failed or not equal
                if (self._failed or self._front >= self._back) and not self._busy:
                    self._compared.set()
        return equal

    def _compare(self, piece: tuple[int, int, int]) -> bool:
        """Whether the file's bytes at ``piece``'s offset equal the kept bytes at its."""
        at, kept_at, size = piece
        return self._calls[2](self._address + at, self._kept_address + kept_at, size) == 0


def _pieces(size: int, kept_size: int, region: Region) -> list[tuple[int, int, int]]:
    """The bytes outside ``region`` of a file of ``size`` bytes and of the kept bytes,
    in pieces (file offset, kept offset, length), each half of what is left after the
    ones before it and at least ``_PIECE``: the thread's first ones are large, so it
    takes the GIL back few times while the round runs Python (under load each time is
    a wait for the scheduler as well), and a waiter's from the back are small."""
    spans = ((0, 0, region.prefix),
             (size - region.suffix, kept_size - region.suffix, region.suffix))
    pieces, left = [], region.prefix + region.suffix
    for at, kept_at, length in spans:
        done = 0
        while done < length:
            take = min(length - done, max(_PIECE, left // 2))
            pieces.append((at + done, kept_at + done, take))
            done, left = done + take, left - take
    return pieces


class _Switching:
    """The interpreter's switch interval lowered while any proof runs: the thread
    takes the GIL back after each piece, which a round's thread running Python holds
    for up to the interval (5 ms by default) once asked for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running, self._before = 0, 0.0

    def lower(self) -> None:
        with self._lock:
            if not self._running:
                self._before = sys.getswitchinterval()
                sys.setswitchinterval(min(self._before, _SWITCH_S))
            self._running += 1

    def restore(self) -> None:
        with self._lock:
            self._running -= 1
            if not self._running:
                sys.setswitchinterval(self._before)


_SWITCHING = _Switching()


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
            address = _map(fd, size, calls[0]) if len(middle) == size - suffix - start \
                else None
            if address is None:
                return None
            try:
                proof = Proof(fd, stamp, kept, Region(start, suffix, middle, size), calls,
                              address)
            finally:
                if proof is None:
                    calls[1](address, size)
            return Region(start, suffix, middle, size), proof
        finally:
            if proof is None:
                let_go(fd)
    except OSError:
        return None
    finally:
        if proof is None:
            os.close(fd)


def _map(fd: int, size: int, map_: _Map) -> int | None:
    """The leased file mapped whole, its pages left to the compare's faults (None: no
    mapping). Not populated here: the populate took ~30 ms of CPU at 100,000 posts (one
    page-table entry a 4 KB page, before the compare began), the compare's faults map
    the same pages 16 at a time for less (``/tmp/b25/cmp.py``: 73-76 ms of CPU for the
    map and compare of a 700 MB file against 85-88)."""
    address = map_(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
    return None if address is None or address == _MAP_FAILED else address


def _stamp(fd: int) -> Stamp:
    info = os.fstat(fd)
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


__all__ = ["Proof", "hinted_region"]
