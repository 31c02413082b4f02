"""A dataset writer's own account of which bytes it changed: ``<file>.changes`` beside it.

Owns the change log protocol. Proving a rewritten NDJSON file equal to the kept bytes
outside one document's line reads both whole (``ndjson.proof``: ~100-250 ms of memory
traffic for a 700 MB file, the floor of serve's round at 100,000 posts). A writer that
knows what it changed can say so instead: ``write`` replaces the file and appends a
record ``(before, after, prefix, suffix)``: the file whose stamp was ``before`` became the
file whose stamp is ``after``, equal to it in the first ``prefix`` and the last ``suffix``
bytes. A reader holding the bytes of ``before`` then reads only the middle
(``logged_region``); a file changed by anything else (a hand edit, another writer, a
rename) has a stamp no record names, and the reader compares as it did without a log.

Why a stamp (mtime_ns, size, inode, ctime_ns) names one content here although file times
are coarse (a tick: two writes in one tick with one size keep the stamp): ``write``
takes a write lease first (granted only while no other process has the file open; any
other open then waits until it is let go) and lets go of it only once the clock has
passed the file's ctime. So no other write can land in the tick of a logged ``after``,
nor between the writer's read of ``before`` and its own write. The kept bytes' stamp
starts a chain only when it is a logged ``after`` too, or was read over a tick after
its last write (``trusted``: the racy-git rule). ctime cannot be set from user space.
The log itself is the writer's word: a writer that logs a wrong range is not caught
(that is the protocol's trust, unlike a webhook's, which is always proved).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterable
from typing import NamedTuple

from ssgen.sources.leased import lease_safe

SUFFIX = ".changes"
_TAIL = 1 << 16  # bytes of the log read: the last few hundred records
_LIMIT = 1 << 20  # a log this long is cut to its last ``_TAIL`` bytes by the next write
LEASE_WAIT = 2.0  # seconds ``write`` waits for the other openers to close the file
# Linux's clock the kernel takes file times from (not in ``time``); leases, hence logged
# writes, are Linux's alone (``leased.lease_safe``).
_COARSE = getattr(time, "CLOCK_REALTIME_COARSE", 5)

Stamp = tuple[int, int, int, int]  # (mtime_ns, size, inode, ctime_ns), as ``reread``'s


class Record(NamedTuple):
    """One logged write: ``before``'s file became ``after``'s, equal in the first
    ``prefix`` and the last ``suffix`` bytes."""

    before: Stamp
    after: Stamp
    prefix: int
    suffix: int


def log_path(path: str) -> str:
    return path + SUFFIX


def write(path: str, data: bytes, prefix: int, suffix: int) -> bool:
    """Replace the existing file at ``path`` with ``data`` (truncated, written whole,
    fsync'd), which the caller says equals the file's present bytes in the first
    ``prefix`` and the last ``suffix`` bytes; logged when the write lease could be had
    (returns whether it was: unlogged, readers compare the file as without a log)."""
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        leased = _write_lease(fd)
        before = stamp_of(fd)
        os.ftruncate(fd, 0)
        view, done = memoryview(data), 0
        while done < len(view):
            done += os.pwrite(fd, view[done:], done)
        os.fsync(fd)
        if not leased or prefix < 0 or suffix < 0 \
                or prefix + suffix > min(before[1], len(data)):
            return False
        after = stamp_of(fd)
        _past(after[3])
        if stamp_of(fd) != after:  # cannot happen under the lease; not logged if it did
            return False
        _append(log_path(path), Record(before, after, prefix, suffix))
        return True
    finally:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        os.close(fd)


def logged_region(path: str, kept: Stamp, trusted: bool, stamp: Stamp
                  ) -> tuple[int, int] | None:
    """``(prefix, suffix)``: the file at ``path``, now ``stamp``, equals the bytes of its
    version ``kept`` in its first ``prefix`` and last ``suffix`` bytes, by the log's
    records chained from ``kept`` to ``stamp``; None when the log does not say so.
    ``trusted``: ``kept``'s bytes were read over a tick after its last write."""
    if kept == stamp:
        return None
    records = _records(log_path(path))
    if not trusted and all(record.after != kept for record in records):
        return None
    by_before = {record.before: record for record in records}
    now, prefix, suffix = kept, kept[1], kept[1]
    for _ in range(len(by_before)):
        record = by_before.get(now)
        if record is None:
            return None
        prefix, suffix = min(prefix, record.prefix), min(suffix, record.suffix)
        now = record.after
        if now == stamp:
            return prefix, suffix
    return None


def stamp_of(fd: int) -> Stamp:
    info = os.fstat(fd)
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


def stamp_of_path(path: str) -> Stamp:
    info = os.stat(path)
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


def _write_lease(fd: int) -> bool:
    """A write lease on the file open at ``fd``, waited for up to ``LEASE_WAIT``."""
    if not lease_safe(fd):
        return False
    deadline = time.monotonic() + LEASE_WAIT
    while True:
        try:
            fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
            return True
        except OSError:  # open elsewhere (a reader's proof), or leases off
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)


def _past(ctime_ns: int) -> None:
    """Wait until the clock file times are taken from has passed ``ctime_ns``."""
    while time.clock_gettime_ns(_COARSE) <= ctime_ns:
        time.sleep(0.001)


def _append(log: str, record: Record) -> None:
    line = json.dumps([list(record.before), list(record.after), record.prefix,
                       record.suffix]).encode() + b"\n"
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        if os.fstat(fd).st_size > _LIMIT:
            os.close(fd)
            fd = -1
            _cut(log)
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        os.write(fd, line)
    finally:
        if fd >= 0:
            os.close(fd)


def _cut(log: str) -> None:
    """The log replaced by its last ``_TAIL`` bytes (whole lines), atomically."""
    with open(log, "rb") as handle:
        handle.seek(max(0, os.fstat(handle.fileno()).st_size - _TAIL))
        tail = handle.read()
    tail = tail[tail.find(b"\n") + 1:]
    temp = f"{log}.{os.getpid()}.tmp"
    with open(temp, "wb") as handle:
        handle.write(tail)
    os.replace(temp, log)


def _records(log: str) -> list[Record]:
    """The log's last records, oldest first (a torn or foreign line is skipped)."""
    try:
        with open(log, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - _TAIL))
            tail = handle.read(_TAIL)
    except OSError:
        return []
    lines: Iterable[bytes] = tail.split(b"\n")[1 if size > _TAIL else 0:]
    records = []
    for line in lines:
        try:
            before, after, prefix, suffix = json.loads(line)
            record = Record(_as_stamp(before), _as_stamp(after), int(prefix), int(suffix))
        except (ValueError, TypeError):
            continue
        if record.prefix >= 0 and record.suffix >= 0 \
                and record.prefix + record.suffix <= min(record.before[1], record.after[1]):
            records.append(record)
    return records


def _as_stamp(value: object) -> Stamp:
    if not isinstance(value, list) or len(value) != 4 \
            or not all(type(part) is int for part in value):
        raise ValueError(value)
    return (value[0], value[1], value[2], value[3])


__all__ = ["Record", "log_path", "logged_region", "stamp_of", "stamp_of_path", "write"]
