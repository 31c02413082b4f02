"""Exactly one builder per shared (PostgreSQL) state: an advisory lock plus a generation.

Owns ``BuilderLock(url, holder)``: ``try_acquire()`` takes the session-level advisory
lock on a dedicated connection and, holding it, bumps ``ssgen_leader.generation`` and
fences this process's manifests to the new value (``connect.set_fence``): a former
builder that was only paused finds its generation superseded and cannot commit.
``alive()`` is the heartbeat: the session sets ``idle_session_timeout``, so a builder
that stops beating (paused, partitioned) loses the session, and with it the lock, after
``timeout`` seconds; a killed one loses it at once (the socket closes). ``acquire(wait)``
blocks (``ssgen build`` with shared state). ``release()`` gives it up.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import psycopg

from ssgen.errors import ManifestError
from ssgen.manifest.connect import open_state, set_fence
from ssgen.manifest.pg import redact

BUILDER_LOCK = 0x5353_4702


class BuilderLock:
    """The shared state's builder lock, as held (or wanted) by this process."""

    def __init__(self, url: str, holder: str, timeout: float = 5.0) -> None:
        self.url, self.holder, self.timeout = url, holder, timeout
        self.generation: int | None = None
        self._conn: psycopg.Connection[Any] | None = None

    @property
    def held(self) -> bool:
        """True while this process is the builder (as of the last heartbeat)."""
        return self.generation is not None

    def try_acquire(self) -> bool:
        """Become the builder if nobody is; True when this process now is."""
        if self.held:
            return True
        try:
            conn = self._connect()
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (BUILDER_LOCK,)).fetchone()
            if not got or not got[0]:
                return False
            with conn.transaction():
                row = conn.execute(
                    "UPDATE ssgen_leader SET generation = generation + 1, holder = %s,"
                    " since = %s WHERE id = 1 RETURNING generation",
                    (self.holder, time.time())).fetchone()
                conn.execute("INSERT INTO meta VALUES ('builder', %s) ON CONFLICT (key)"
                             " DO UPDATE SET value = EXCLUDED.value", (self.holder,))
        except psycopg.Error as exc:
            self._drop()
            raise ManifestError(f"builder lock on {redact(self.url)}: {exc}") from exc
        assert row is not None  # schema.pg.prepare inserted the row
        self.generation = int(row[0])
        set_fence(self.generation)
        return True

    def acquire(self, wait: float | None = None, poll: float = 0.25) -> None:
        """Block until this process is the builder (ManifestError after ``wait`` s)."""
        deadline = None if wait is None else time.monotonic() + wait
        while not self.try_acquire():
            if deadline is not None and time.monotonic() > deadline:
                raise ManifestError(f"another builder holds {redact(self.url)}")
            time.sleep(poll)

    def alive(self) -> bool:
        """Heartbeat: False (and no longer the builder) once the session is gone."""
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            self._drop()
            return False

    def release(self) -> None:
        """Stop being the builder (the fence stays: late commits keep failing)."""
        if self._conn is not None and self.held:
            with contextlib.suppress(psycopg.Error):
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (BUILDER_LOCK,))
        self._drop()

    def _connect(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            open_state(Path("."), self.url, fenced=False).close()  # schema in place
            self._conn = psycopg.connect(self.url, autocommit=True)
            ms = int(self.timeout * 1000)
            self._conn.execute(f"SET idle_session_timeout = {ms}")
        return self._conn

    def _drop(self) -> None:
        conn, self._conn, self.generation = self._conn, None, None
        if conn is not None:
            conn.close()


__all__ = ["BUILDER_LOCK", "BuilderLock"]
