"""Serve's durable queue of pending changes, in the manifest database.

A change is stored (fsynced) before serve replies 202, and deleted once its rebuild is
done, so a crash or restart replays what was accepted. A delivery key (Sanity's
``idempotency-key``) remembered for a day makes a repeated delivery return the id of
the first one and add nothing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from ssgen.manifest.schema import dumps, loads

_DELIVERY_TTL = 24 * 3600.0


class _Store(Protocol):
    """What the queue needs of the manifest it is mixed into."""

    _lock: threading.RLock
    _depth: int

    def _writing(self, what: str) -> AbstractContextManager[sqlite3.Connection]: ...

    def _rows(self, sql: str, params: Iterable[Any] = (), *, what: str) -> list[Any]: ...

    def _execute(self, sql: str, params: Iterable[Any] = (), *, what: str) -> sqlite3.Cursor: ...

    def _durable(self) -> AbstractContextManager[None]: ...


class QueueMixin:
    """``enqueue``, ``pending`` and ``ack`` on ``Manifest``."""

    def enqueue(self: _Store, payload: Any, *, key: str | None = None) -> int:
        """Durably store a pending change; a known delivery ``key`` returns its first id."""
        data = dumps(payload, "queue payload")
        now = time.time()
        with self._durable(), self._writing("enqueue") as conn:
            if key is not None:
                row = conn.execute(
                    "SELECT queue_id FROM deliveries WHERE key = ?", (key,)
                ).fetchone()
                if row is not None:
                    return int(row[0])
            cursor = conn.execute(
                "INSERT INTO queue (created, payload) VALUES (?, ?)", (now, data)
            )
            queue_id = int(cursor.lastrowid or 0)
            if key is not None:
                conn.execute("DELETE FROM deliveries WHERE created < ?", (now - _DELIVERY_TTL,))
                conn.execute("INSERT INTO deliveries VALUES (?, ?, ?)", (key, queue_id, now))
            return queue_id

    def pending(self: _Store, limit: int | None = None) -> list[tuple[int, Any]]:
        """Changes not yet acknowledged, oldest first."""
        sql = "SELECT id, payload FROM queue WHERE state = 'pending' ORDER BY id"
        params: tuple[int, ...] = ()
        if limit is not None:
            sql, params = f"{sql} LIMIT ?", (limit,)
        rows = self._rows(sql, params, what="read queue")
        return [(row[0], loads(row[1], f"queue entry {row[0]}")) for row in rows]

    def queue_stats(self: _Store) -> tuple[int, float | None]:
        """(pending entries, creation time of the oldest or None) for metrics and status."""
        rows = self._rows("SELECT COUNT(*), MIN(created) FROM queue WHERE state = 'pending'",
                          what="read queue")
        count, oldest = rows[0]
        return int(count), None if oldest is None else float(oldest)

    def ack(self: _Store, ids: Iterable[int]) -> None:
        """Acknowledge (delete) processed queue entries."""
        rows = [(int(i),) for i in ids]
        with self._durable(), self._writing("ack queue") as conn:
            conn.executemany("DELETE FROM queue WHERE id = ?", rows)

    @contextmanager
    def _durable(self: _Store) -> Iterator[None]:
        """Full fsync for queue commits made outside a larger transaction."""
        with self._lock:
            if self._depth:
                yield
                return
            self._execute("PRAGMA synchronous = FULL", what="configure")
            try:
                yield
            finally:
                self._execute("PRAGMA synchronous = NORMAL", what="configure")
