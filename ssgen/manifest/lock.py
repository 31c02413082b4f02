"""The build lock: one ssgen build per site at a time, via ``flock`` on ``.ssgen/build.lock``.

``BuildLock(site_dir, wait=True)`` is a context manager (or ``acquire()``/``release()``).
``wait=True`` blocks until the other build finishes, ``wait=False`` fails at once, and a
number waits at most that many seconds. A lock that cannot be had raises
``BuildLockBusy`` (an ``SsgenError``) naming the pid of the holder. The kernel drops the
lock when its holder exits, so a crashed build never leaves the site locked; the file
itself stays (deleting it would let two builds lock two different files).

``take_early(site_dir)``: a new ``ssgen build`` takes the lock before its modules load,
so that work started then (``ssgen.build.damage_ahead``) sees the output no other build
changes before this one; the first ``BuildLock.acquire`` of that site in this process
adopts it (``held_since_early`` tells whether it did), ``drop_early`` gives it up unused.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from ssgen.errors import SsgenError

_POLL_START = 0.01
# Locks taken by ``take_early``: their descriptors by lock file path, and those paths whose
# lock a ``BuildLock`` adopted.
_EARLY: dict[str, int] = {}
_ADOPTED: set[str] = set()
_POLL_MAX = 0.2


class BuildLockBusy(SsgenError):
    """Another build holds the site's lock; ``pid`` is its process id when known."""

    def __init__(self, message: str, pid: int | None) -> None:
        self.pid = pid
        super().__init__(message)


class BuildLock:
    """An exclusive, process-wide lock on one site's builds."""

    def __init__(self, site_dir: Path, wait: bool | float = True) -> None:
        self.path = Path(site_dir) / ".ssgen" / "build.lock"
        self.wait = wait
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, waiting as ``wait`` says; BuildLockBusy if it stays taken."""
        if self._fd is not None:
            raise SsgenError(f"build lock {self.path} is already held by this process")
        key = os.path.abspath(self.path)
        if key in _EARLY and key not in _ADOPTED:  # taken before the build's modules loaded
            _ADOPTED.add(key)
            self._fd = _EARLY[key]
            return
        fd = self._open()
        try:
            self._lock(fd)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (a no-op when not held)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        key = os.path.abspath(self.path)
        if _EARLY.get(key) == fd:
            del _EARLY[key]
            _ADOPTED.discard(key)
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> BuildLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise SsgenError(f"cannot open build lock {self.path}: {exc.strerror or exc}") from exc

    def _lock(self, fd: int) -> None:
        if self.wait is True:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return
        deadline = time.monotonic() + (0.0 if self.wait is False else float(self.wait))
        pause = _POLL_START
        while not _try_lock(fd):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._busy(fd)
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, _POLL_MAX)

    def _busy(self, fd: int) -> BuildLockBusy:
        pid = _read_pid(fd)
        who = f"pid {pid}" if pid is not None else "pid unknown"
        waited = "" if self.wait is False else f" after waiting {float(self.wait):g}s"
        return BuildLockBusy(
            f"another ssgen build is running on this site ({who}){waited}; wait for it or "
            f"stop it (the lock is {self.path} and is released when that process exits)",
            pid,
        )


def take_early(site_dir: Path) -> bool:
    """Take the site's build lock now, for this process's next ``BuildLock`` of it to
    adopt; False (nothing taken) when another process holds it or it cannot be opened."""
    lock = BuildLock(site_dir, wait=False)
    if os.path.abspath(lock.path) in _EARLY:
        return False
    try:
        lock.acquire()
    except SsgenError:
        return False
    assert lock._fd is not None
    _EARLY[os.path.abspath(lock.path)] = lock._fd
    return True


def held_since_early(site_dir: Path) -> bool:
    """Whether a ``BuildLock`` holds the site's lock that ``take_early`` took: no other
    build can have run since."""
    return os.path.abspath(BuildLock(site_dir).path) in _ADOPTED


def drop_early(site_dir: Path) -> None:
    """Give up the lock ``take_early`` took, unless a ``BuildLock`` adopted it."""
    lock = BuildLock(site_dir)
    key = os.path.abspath(lock.path)
    if key in _EARLY and key not in _ADOPTED:
        lock._fd = _EARLY[key]
        lock.release()


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
