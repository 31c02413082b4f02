"""Which replica builds: serve's side of the shared state's builder lock.

Owns ``Leadership``: every replica accepts webhooks into the shared queue; the worker of
each asks ``turn()`` before a round, and only the holder of the builder lock
(``ssgen.manifest.builder``) gets True. A replica that has just become the builder first
recovers its output: its local folder may be behind the shared manifest (another replica
built since), so it queues a change of everything (every recorded page is rendered again,
files whose bytes are right are left alone) and owes a full deploy, which diffs the bucket.
A heartbeat thread keeps the lock's session alive; when it is lost the replica stops
building (its late commits are fenced) and competes again. ``still()`` guards deploys.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

import psycopg

from ssgen.build.change import Change
from ssgen.errors import SsgenError
from ssgen.manifest.builder import BuilderLock
from ssgen.manifest.connect import open_state
from ssgen.manifest.pg import QUEUE_CHANNEL

log = logging.getLogger("ssgen.serve")


class Leadership:
    """The builder lock of one replica, polled by its rebuild worker."""

    def __init__(self, url: str, *, poll: float = 0.25, timeout: float = 5.0,
                 holder: str | None = None) -> None:
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.lock = BuilderLock(url, self.holder, timeout=timeout)
        self.poll = poll
        self.elections = 0
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._beater: threading.Thread | None = None

    def turn(self, worker: Any, stop: threading.Event) -> bool:
        """True when this replica may run a round now; else waits a poll interval."""
        with self._guard:
            held = self.lock.held and self.lock.alive()
            if not held:
                try:
                    held = self.lock.try_acquire()
                except SsgenError as exc:
                    log.warning("builder lock: %s", exc, extra={"event": "leader_error"})
                    held = False
                if held:
                    self._elected(worker)
        worker.metrics.leader.set(1 if held else 0)
        if not held:
            stop.wait(self.poll)
        return held

    def still(self) -> bool:
        """True while the lock's session is alive (checked before each deploy)."""
        with self._guard:
            return self.lock.held and self.lock.alive()

    def _elected(self, worker: Any) -> None:
        self.elections += 1
        log.info("this replica is the builder (generation %s)", self.lock.generation,
                 extra={"event": "elected", "generation": self.lock.generation,
                        "holder": self.holder})
        # Every recorded page is forced: its data may be unchanged since the manifest saw
        # it, while this replica's file of it is from before the other builder's rounds.
        config = worker.config
        with open_state(config.state_dir, config.state_url, fenced=False) as manifest:
            pages = frozenset(manifest.page_paths())
        reasons = ("elected builder: recover output",)
        recover = Change(paths=pages, reasons=reasons) if pages else Change(
            everything=True, reasons=reasons)  # nothing recorded yet: a full build
        worker.submit(recover,
                      meta={"trace": f"elected-{self.lock.generation}"})
        if getattr(worker.config, "deploy", None) is not None:
            worker._deploy.owe_all()
        if self._beater is None:
            self._beater = threading.Thread(target=self._beat, args=(worker,),
                                            name="ssgen-leader", daemon=True)
            self._beater.start()

    def _beat(self, worker: Any) -> None:
        """Heartbeat, and wake the worker for changes other replicas queued (at once on
        their NOTIFY, else at the next poll)."""
        listener = self._listen()
        while not self._stop.is_set():
            if not self._notified(listener):
                listener = self._listen()
            with self._guard:
                if not self.lock.held:
                    continue
                if not self.lock.alive():
                    worker.metrics.leader.set(0)
                    log.error("lost the builder lock; another replica may build now",
                              extra={"event": "leader_lost", "holder": self.holder})
                    continue
            try:
                depth, _ = worker.metrics.queue_stats()
            except SsgenError:
                continue
            if depth:
                worker.wake()

    def _listen(self) -> psycopg.Connection[Any] | None:
        try:
            conn = psycopg.connect(self.lock.url, autocommit=True)
            conn.execute(f"LISTEN {QUEUE_CHANNEL}")
            return conn
        except psycopg.Error:
            return None

    def _notified(self, listener: psycopg.Connection[Any] | None) -> bool:
        """Wait up to a poll interval for a NOTIFY; False when the listener is broken."""
        if listener is None:
            self._stop.wait(self.poll)
            return False
        try:
            for _ in listener.notifies(timeout=self.poll, stop_after=1):
                pass
            return True
        except psycopg.Error:
            listener.close()
            return False

    def close(self) -> None:
        """Stop the heartbeat and give the lock up (on shutdown)."""
        self._stop.set()
        with self._guard:
            self.lock.release()


__all__ = ["Leadership"]
