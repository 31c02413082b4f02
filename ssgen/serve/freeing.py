"""Freeing the files a round's replaces displaced, on a thread of its own.

A round links each file its writes replace into ``.ssgen/displaced/`` (``ssgen.build.output``:
the replace is then a rename, 0.3 ms, not the 9-40 ms of freeing an 8 MB file's blocks on
this ext4 with ``discard``) and hands the links over here after its replies. Unlinking
them on the worker thread kept the next round waiting for them: a client that sends its
next webhook the moment the last reply came paid the frees anyway. ``Freer`` unlinks them
on a daemon thread; the links are named for this process's pid, so if it dies first the
next server sweeps them (``defer_frees``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ssgen.build.output.temps import unlink_quietly

log = logging.getLogger("ssgen.serve")


class Freer:
    """A thread that unlinks the paths it is handed, in the order given."""

    def __init__(self, unlink: Callable[[str], None] = unlink_quietly) -> None:
        self._unlink = unlink
        self._cond = threading.Condition()
        self._queue: list[str] = []
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def free(self, paths: list[str]) -> None:
        """Unlink ``paths`` on the thread (started on first use); returns at once."""
        if not paths:
            return
        with self._cond:
            self._queue.extend(paths)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ssgen-free",
                                                daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every path handed over so far is unlinked (False: timed out)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    @property
    def pending(self) -> int:
        """Paths handed over and not yet unlinked."""
        with self._cond:
            return len(self._queue) + self._busy

    def close(self, timeout: float | None = None) -> None:
        """Unlink what was handed over, then end the thread (``free`` starts another)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with self._cond:
            self._closed = False

    def _run(self) -> None:
        while True:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
                self._cond.wait_for(lambda: bool(self._queue) or self._closed)
                if not self._queue:
                    return
                batch, self._queue = self._queue, []
                self._busy = True
            for path in batch:
                try:
                    self._unlink(path)
                except Exception:  # a bug must not leave ``wait`` waiting forever
                    log.exception("could not free %s", path)
