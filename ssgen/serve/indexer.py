"""Serve's background search indexer: Pagefind off the build lock, after rounds settle.

Owns the thread that keeps ``public/pagefind/`` current while ``ssgen serve`` runs. The
rebuild worker's rounds leave the bundle as recorded (``ssgen.build.search.DEFERRED``), so
a webhook's pages are on disk without waiting for a whole-site Pagefind run (seconds at
10k pages: Pagefind cannot update an index). After a round the worker pokes this thread;
once pokes stop for ``settle`` seconds (or ``patience`` after the first), it indexes the
output as it is, outside the lock and at a lower CPU priority, and hands the bundle back
to the worker, whose next round writes and records it like any generated file.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ssgen.build.search import SearchIndex, index_off_lock
from ssgen.config.load import Config
from ssgen.errors import SsgenError
from ssgen.manifest.connect import open_state

log = logging.getLogger("ssgen.serve")


class SearchIndexer:
    """A thread that indexes after rounds settle and passes each new bundle to ``deliver``."""

    def __init__(self, config: Callable[[], Config], deliver: Callable[[SearchIndex], None],
                 *, settle: float = 1.0, patience: float = 30.0) -> None:
        self._config = config
        self._deliver = deliver
        self.settle = settle
        self.patience = patience
        self._poked = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        """Start the thread; it sleeps until the first poke."""
        self._thread = threading.Thread(target=self._run, name="ssgen-search", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the Pagefind run in progress, if any."""
        self._stop.set()
        self._poked.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def poke(self) -> None:
        """Pages may have changed: index once the rounds settle."""
        self._poked.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._poked.wait()
            self._settle()
            if self._stop.is_set():
                return
            config = self._config()
            if not config.search.enabled:
                continue
            try:
                index = self._index(config)
            except SsgenError as exc:  # the next round's poke tries again
                log.error("search index failed: %s", exc, extra={"event": "search_failed"})
                continue
            self.runs += 1
            if index is not None:
                self._deliver(index)

    def _settle(self) -> None:
        first = time.monotonic()
        self._poked.clear()
        while not self._stop.is_set() and time.monotonic() - first < self.patience:
            if not self._poked.wait(self.settle):
                return
            self._poked.clear()

    @staticmethod
    def _index(config: Config) -> SearchIndex | None:
        started = time.perf_counter()
        manifest = open_state(config.state_dir, config.state_url, fenced=False)
        try:
            index = index_off_lock(config, manifest)
        finally:
            manifest.close()
        if index is not None:
            log.info("search index ready", extra={
                "event": "search_indexed", "files": len(index.files or {}),
                "seconds": round(time.perf_counter() - started, 3)})
        return index
