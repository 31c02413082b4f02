"""Reading many small files with several threads at once.

A cold page cache (a fresh CI runner, or files the kernel dropped) makes reading each
Markdown file a disk round trip: one after another, 16,000 files took 20-50 s on the
benchmark machine; with 16 reads in flight, 0.5-1 s. The threads spend their time in
``stat``/``open``/``read``, which release the GIL; each reads one contiguous slice of the
files. A warm page cache is better served by one thread: 16 threads taking turns at the
GIL cost 0.1-0.2 s per 4,000 files on two cores (the benchmark's files, just written, are
warm). So the files are read in order by the calling thread while a slice spends little
time blocked (``WARM_SECONDS`` a file), and the rest goes to the threads once one spends
more. Blocked, not elapsed: on a busy machine a slice often waits for a core, which threads
would not shorten. Blocked = elapsed - this thread's CPU time (``time.thread_time_ns``,
exact to the call) - its time waiting for a core (Linux's ``/proc/thread-self/schedstat``).
The file is read only around the slice after one that looked slow, which decides: a warm
read costs two clock reads a slice. Not the file's time on a core either: the kernel adds
the running slice to it only at a tick or a switch, so on a loaded machine a warm slice
often looked blocked by up to a tick (4 ms) and 16k warm stats went to the threads, at 3x
their CPU. Without the file (another OS), elapsed time less CPU time is the measure.

``map_split`` runs ``map_threaded`` on the second half of many items in a forked child at
the same time as on the first half here: a new process after a one-file edit stats 16k
input files (~45 ms CPU) while the machine's other core sits idle; the child sends its
results back with ``marshal`` (~1 ms for 8k stamps). Anything amiss in the child (an
item that raises, a result ``marshal`` cannot carry, a child that dies) and this process
computes that half itself, so errors are raised here, in ``items`` order. ``map_halves``
does the same for work done a half at a time (the stamps and then the parse cache's
verdicts on them: ``ssgen.sources.inputs.list_inputs``). ``later`` starts all of it in
a forked child while this process goes on with other work (a new ``ssgen build`` imports
its stages meanwhile: ``ssgen.sources.early``); when this process asks for it, it works
from the other end on what the child has not reached (two counters in shared memory say
where each is), so the two finish together whichever got the more time on a core.
"""

from __future__ import annotations

import contextlib
import marshal
import mmap
import os
import select
import signal
import struct
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from ssgen.forking import fork_answering

T = TypeVar("T")
R = TypeVar("R")

THREADS = 16
MIN_SLICE = 64  # fewer files than this per thread: not worth a thread
PROBE = 32  # files read in order between two looks at the clock
WARM_SECONDS = 0.0002  # a page-cache hit takes 5-30 us a file here, the disk milliseconds
SPLIT_MIN = 4096  # fewer items than this: not worth a fork (~1-2 ms)


def map_split(read: Callable[[T], R], items: Sequence[T], least: int | None = None) -> list[R]:
    """``map_threaded(read, items)``, its second half computed by a forked child meanwhile
    (``map_halves``); ``read``'s results must be values ``marshal`` carries to be taken
    from the child."""
    parts = map_halves(lambda part: map_threaded(read, part), items, _listed, least)
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


def map_halves(work: Callable[[Sequence[T]], R], items: Sequence[T],
               fits: Callable[[Any, int], bool], least: int | None = None) -> list[R]:
    """``[work(items)]``, or ``[work(first half), work(second half)]`` with the second
    half's computed by a forked child meanwhile (see above) when there are at least
    ``least`` items (default ``SPLIT_MIN``), two cores and no other thread (a fork copies
    no thread, but would copy the locks they hold). ``fits(answer, count)``: whether the
    child's answer for ``count`` items is one ``work`` gives (marshal carries lists as
    lists, tuples as tuples); one that is not, or none, and the half is computed here."""
    if len(items) < (SPLIT_MIN if least is None else least) or not hasattr(os, "fork") \
            or (os.cpu_count() or 1) < 2 or threading.active_count() > 1:
        return [work(items)]
    half = len(items) // 2
    forked = fork_answering(lambda fd: _answer(fd, work, items[half:]))
    if forked is None:
        return [work(items)]
    pid, read_fd = forked
    try:
        first = work(items[:half])
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        with os.fdopen(read_fd, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
    second = _taken(data, len(items) - half, fits)
    return [first, second if second is not None else work(items[half:])]


class Later(Generic[R]):
    """``work`` over ``items`` a chunk at a time, by a forked child from the first chunk
    on (``later``) and, once this process asks for the result, by this one too from the
    last chunk back: the two meet where the child has got to (see ``take``)."""

    def __init__(self, work: Callable[[Sequence[T]], R], chunks: list[Sequence[T]],
                 fits: Callable[[Any, int], bool], pid: int, read_fd: int,
                 marks: mmap.mmap) -> None:
        self._work: Callable[[int], R] = lambda at: work(chunks[at])
        self._sizes = [len(chunk) for chunk in chunks]
        self._fits, self._pid, self._fd, self._marks = fits, pid, read_fd, marks

    def take(self) -> list[R]:
        """Each chunk's ``work``, in order: the child's up to where it got (it stops at
        the first chunk this process took), those this process took from the end while
        the child had not answered, and any the child did not give (it died, raised or
        answered something else) computed here."""
        mine: dict[int, R] = {}
        while not select.select([self._fd], [], [], 0)[0]:
            at = _MARKS.unpack_from(self._marks)[1] - 1
            if at < _MARKS.unpack_from(self._marks)[0]:
                break  # the child did it, or is on it
            _MARK.pack_into(self._marks, _MARK.size, at)  # taken: the child stops before it
            mine[at] = self._work(at)
        with os.fdopen(self._fd, "rb") as pipe:
            data = pipe.read()
        os.waitpid(self._pid, 0)
        self._marks.close()
        theirs = _taken(data, len(self._sizes), self._chunks_fit) or []
        return [mine[at] if at in mine else theirs[at] if at < len(theirs) else self._work(at)
                for at in range(len(self._sizes))]

    def _chunks_fit(self, found: Any, count: int) -> bool:
        return type(found) is list and len(found) <= count and all(
            self._fits(part, size) for part, size in zip(found, self._sizes, strict=False))

    def cancel(self) -> None:
        """Stop the child; its answer is never taken."""
        with contextlib.suppress(OSError):
            os.kill(self._pid, signal.SIGKILL)
        os.close(self._fd)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self._pid, 0)
        self._marks.close()


# The chunks the child has done (from the first), the first chunk this process took.
_MARKS = struct.Struct("<qq")
_MARK = struct.Struct("<q")  # one of them
LATER_CHUNK = 512  # items a chunk: ~1.5 ms of stats and verdicts


def later(work: Callable[[Sequence[T]], R], items: Sequence[T],
          fits: Callable[[Any, int], bool]) -> Later[R] | None:
    """``work`` over ``items`` started in a forked child, a ``LATER_CHUNK`` at a time, to
    be taken (``Later.take``, the chunks' results in order) once this process has done its
    own work; None where ``map_halves`` would not fork (fewer than ``SPLIT_MIN`` items,
    one core, another thread): the caller computes it itself."""
    if len(items) < SPLIT_MIN or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2 \
            or threading.active_count() > 1:
        return None
    chunks = [items[at:at + LATER_CHUNK] for at in range(0, len(items), LATER_CHUNK)]
    marks = mmap.mmap(-1, _MARKS.size)  # shared with the child (MAP_SHARED)
    _MARKS.pack_into(marks, 0, 0, len(chunks))
    forked = fork_answering(
        lambda fd: _answer(fd, lambda _: _from_the_first(work, chunks, marks), items))
    if forked is None:
        marks.close()
        return None
    return Later(work, chunks, fits, *forked, marks)


def _from_the_first(work: Callable[[Sequence[T]], R], chunks: list[Sequence[T]],
                    marks: mmap.mmap) -> list[R]:
    """The child's part of ``later``: chunks in order until one the parent took."""
    done: list[R] = []
    while len(done) < _MARKS.unpack_from(marks)[1]:
        done.append(work(chunks[len(done)]))
        _MARK.pack_into(marks, 0, len(done))
    return done


def _answer(fd: int, work: Callable[[Sequence[T]], R], items: Sequence[T]) -> None:
    try:
        answer: Any = work(items)  # marshal says whether it can carry it
        data = marshal.dumps(answer)
    except BaseException:  # the parent computes this half itself
        data = b""
    with os.fdopen(fd, "wb") as pipe:
        pipe.write(data)


def _taken(data: bytes, count: int, fits: Callable[[Any, int], bool]) -> Any:
    """The child's answer when it ``fits`` ``count`` items (None: compute it here)."""
    try:
        found = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    return found if fits(found, count) else None


def _listed(found: Any, count: int) -> bool:
    return type(found) is list and len(found) == count


def map_threaded(read: Callable[[T], R], items: Sequence[T], threads: int = THREADS) -> list[R]:
    """``[read(item) for item in items]``, computed by up to ``threads`` threads once
    reading in order is slow (see above); raises what the first failing item (in
    ``items`` order) raised, as the plain loop would."""
    done: list[R] = []
    limit = PROBE * WARM_SECONDS * 1e9
    clock, cpu = time.perf_counter_ns, time.thread_time_ns
    suspect = False  # the last slice looked slow: this one is timed with its waits too
    while len(done) < len(items):
        began, used = clock(), cpu()
        waited = _waiting_ns() if suspect else -1
        done += [read(item) for item in items[len(done) : len(done) + PROBE]]
        blocked = clock() - began - (cpu() - used)
        if waited >= 0:
            blocked -= max(0, _waiting_ns() - waited)
        if blocked <= limit:
            suspect = False
        elif suspect or _waiting_ns() < 0:  # slow twice, or no scheduler to ask
            break
        else:
            suspect = True
    return done + _threaded(read, items[len(done) :], threads)


def _waiting_ns() -> int:
    """This thread's nanoseconds waiting for a core so far (-1 without the file)."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as handle:
            return int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def _threaded(read: Callable[[T], R], items: Sequence[T], threads: int) -> list[R]:
    count = min(threads, len(items) // MIN_SLICE)
    if count <= 1:
        return [read(item) for item in items]
    size = -(-len(items) // count)
    parts: list[list[R]] = [[] for _ in range(count)]
    errors: list[BaseException | None] = [None] * count

    def work(index: int) -> None:
        try:
            for item in items[index * size : (index + 1) * size]:
                parts[index].append(read(item))
        except BaseException as exc:  # re-raised in order by the caller's thread
            errors[index] = exc

    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for error in errors:
        if error is not None:
            raise error
    return [result for part in parts for result in part]
