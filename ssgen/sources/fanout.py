"""Work split across forked processes, the calling one included: chunks of a job that the
children inherit (no pickling of the inputs), results sent back as ``marshal`` frames.

Used by the build for rendering pages and for parsing Markdown files on every core. The
chunk numbers wait in a pipe that every process reads 4 bytes at a time (a pipe read is
atomic, so each chunk is taken once, by whoever is free: a slow chunk does not hold up the
others). The caller takes chunks too instead of waiting for its children, so ``jobs``
processes work, not ``jobs`` plus a parent that unpickles. Each result is a list of
marshal-able values (tuples of str, int, float, bytes, None, lists, dicts, frozensets).

A child that dies (killed, ``os._exit``) loses only the chunks it had taken: ``fan_out``
returns their numbers for the caller to report. An unexpected exception in a child is
raised again in the caller as ``ChildFailed`` with the child's traceback.
"""

from __future__ import annotations

import contextlib
import fcntl
import marshal
import os
import select
import signal
import struct
from collections.abc import Callable
from typing import Any

_INDEX = struct.Struct("<I")
_FRAME = struct.Struct("<iI")  # chunk number (-1: a failure's traceback), payload length
# The chunk numbers are written into the pipe before any process reads it: that write
# must fit in the pipe's buffer (64 KiB on Linux; half of it, to be safe).
MAX_CHUNKS = 8192
PIPE_SIZE = 1 << 20  # /proc/sys/fs/pipe-max-size's default; a smaller limit keeps 64 KiB


class ChildFailed(RuntimeError):
    """A forked worker raised an exception (its traceback is the message)."""


def chunk_size(total: int, preferred: int) -> int:
    """``preferred``, or larger when ``total`` items would need more than ``MAX_CHUNKS``."""
    return max(preferred, -(-total // MAX_CHUNKS))


def fan_out(count: int, run: Callable[[int], list[Any]], jobs: int,
            done: Callable[[int, list[Any]], None]) -> list[int]:
    """Run ``run(i)`` for every chunk ``i`` in ``range(count)`` in this process and in
    ``jobs - 1`` forked children; ``done(i, result)`` is called here for each, in the order
    they finish. Returns the chunks lost with a child that died, sorted."""
    return start(count, run, jobs).finish(done)


def start(count: int, run: Callable[[int], list[Any]], jobs: int) -> Started:
    """``fan_out`` in two steps: the children start on the chunks now, and this process
    joins them in ``finish`` (meanwhile it may do other work, such as importing what it
    needs next); ``cancel`` stops them when their results are no longer wanted."""
    if count > MAX_CHUNKS:
        raise ValueError(f"{count} chunks: at most {MAX_CHUNKS} (see chunk_size)")
    take, put = os.pipe()
    os.write(put, b"".join(_INDEX.pack(i) for i in range(count)))
    os.close(put)  # before forking: the children see end-of-file once the chunks are gone
    started = Started(count, run, take)
    try:
        for _ in range(max(0, min(jobs, count) - 1)):
            pid, fd = _spawn(take, run)
            started.children.append(pid)
            started.readers[fd] = bytearray()
    except BaseException:
        started.cancel()
        raise
    return started


class Started:
    """Chunks being run by forked children; see ``start``."""

    def __init__(self, count: int, run: Callable[[int], list[Any]], take: int) -> None:
        self.count, self.run, self.take = count, run, take
        self.children: list[int] = []
        self.readers: dict[int, bytearray] = {}  # a child's result pipe -> bytes not decoded
        self.closed = False

    def finish(self, done: Callable[[int, list[Any]], None]) -> list[int]:
        """Run the chunks no child took yet here, hand every result to ``done``; the
        chunks lost with a child that died, sorted."""
        finished: set[int] = set()
        completed = False
        try:
            while (index := _take(self.take)) is not None:
                done(index, self.run(index))
                finished.add(index)
                _drain(self.readers, done, finished, wait=False)
            while self.readers:
                _drain(self.readers, done, finished, wait=True)
            completed = True
        finally:
            self._close(stop=not completed)
        return sorted(set(range(self.count)) - finished)

    def cancel(self) -> None:
        """Stop the children and forget their results."""
        self._close(stop=True)

    def _close(self, *, stop: bool) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.take)
            _reap(self.children, self.readers, stop=stop)


def _take(fd: int) -> int | None:
    data = os.read(fd, _INDEX.size)
    return _INDEX.unpack(data)[0] if data else None


def _spawn(take: int, run: Callable[[int], list[Any]]) -> tuple[int, int]:
    results, send = os.pipe()
    # A child blocks whenever its pipe is full, and the caller empties it only between
    # its own chunks: with the default 64 KiB, one chunk of parsed Markdown (~150 KB)
    # held a child waiting for three of the caller's chunks (it did a third of the work).
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(send, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        code = 0
        try:
            os.close(results)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent reports Ctrl-C once
            _run_chunks(take, send, run)
        except BrokenPipeError:
            code = 1  # the parent is gone
        except BaseException:
            with contextlib.suppress(BaseException):
                import traceback  # only here: ~4 ms of every build's start otherwise

                _send(send, -1, traceback.format_exc().encode())
            code = 1
        os._exit(code)
    os.close(send)
    return pid, results


def _run_chunks(take: int, send: int, run: Callable[[int], list[Any]]) -> None:
    """A child's loop: run chunks until none is left, sending each result back.

    Results that do not fit in the pipe wait here while the next chunk runs: a caller
    busy elsewhere (``start`` then ``finish``: importing modules meanwhile) must not hold
    its children up once their pipes are full.
    """
    os.set_blocking(send, False)
    waiting = bytearray()
    try:
        while (index := _take(take)) is not None:
            payload = marshal.dumps(run(index))
            waiting += _FRAME.pack(index, len(payload))
            waiting += payload
            with contextlib.suppress(BlockingIOError):
                while waiting:
                    del waiting[:os.write(send, waiting)]
    finally:  # a frame may be half written: finish it before any other (a traceback's)
        os.set_blocking(send, True)
        view = memoryview(waiting)
        while view:
            view = view[os.write(send, view):]


def _send(fd: int, index: int, payload: bytes) -> None:
    view = memoryview(_FRAME.pack(index, len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def _drain(readers: dict[int, bytearray], done: Callable[[int, list[Any]], None],
           finished: set[int], *, wait: bool) -> None:
    """Read what the children sent (all of it until they close their pipes if ``wait``);
    hand each complete frame to ``done``."""
    ready, _, _ = select.select(list(readers), [], [], None if wait else 0)
    for fd in ready:
        data = os.read(fd, 1 << 20)
        if not data:
            os.close(fd)
            del readers[fd]
            continue
        buffer = readers[fd]
        buffer += data
        while len(buffer) >= _FRAME.size:
            index, size = _FRAME.unpack_from(buffer)
            if len(buffer) < _FRAME.size + size:
                break
            payload = bytes(buffer[_FRAME.size:_FRAME.size + size])
            del buffer[:_FRAME.size + size]
            if index < 0:
                raise ChildFailed(payload.decode(errors="replace"))
            done(index, marshal.loads(payload))
            finished.add(index)


def _reap(children: list[int], readers: dict[int, bytearray], *, stop: bool) -> None:
    """Wait for every child; on an early exit (an error, Ctrl-C) stop them first."""
    for fd in readers:
        os.close(fd)  # a child still writing gets EPIPE and exits
    readers.clear()
    for pid in children:
        if stop:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
