"""Where a site's state lives, and opening it: ``.ssgen/manifest.sqlite`` by default, or
the PostgreSQL database of ``[state] url`` / ``SSGEN_STATE_URL`` shared by replicas.

Owns ``open_state(state_dir, url, *, reset_broken)``, the one place that chooses the
manifest's database (the build, serve, deploy and status open the same one), and the
process's builder fence: while this process is the builder (``set_fence``), every
PostgreSQL manifest it opens commits only as long as its generation is current.

Also when SQLite checkpoints the WAL. By default the commit that takes the WAL past 1,000
pages copies it into the database and fsyncs both, so every few rounds a serve round paid
a checkpoint before its replies. SQLite manifests opened inside ``checkpoints_deferred``
never checkpoint on their own; their process calls ``checkpoint`` when it can wait (serve:
after a round's replies, when idle). PostgreSQL has no such thing: both do nothing there.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from ssgen.errors import ManifestError
from ssgen.manifest.store import Manifest

_FENCE: list[int] = []  # the builder generation this process holds (empty: none)
# Threads inside ``checkpoints_deferred`` (by ident): their SQLite manifests never
# checkpoint on their own.
_DEFERRING: set[int] = set()


def sqlite_path(state_dir: Path) -> Path:
    """The SQLite manifest file in a site's state folder."""
    return Path(state_dir) / "manifest.sqlite"


def set_fence(generation: int | None) -> None:
    """Fence this process's manifests to ``generation`` (None: stop fencing)."""
    _FENCE[:] = [] if generation is None else [generation]


def fence_held() -> bool:
    """Whether this process is (or was last) the builder of a shared state."""
    return bool(_FENCE)


def state_exists(state_dir: Path, url: str | None) -> bool:
    """Whether a build recorded state there already (a first build is full)."""
    if url is None:
        return sqlite_path(state_dir).exists()
    with open_state(state_dir, url) as manifest:
        return manifest.get_meta("ssgen_version") is not None


def open_state(state_dir: Path, url: str | None = None, *, reset_broken: bool = False,
               fenced: bool = True) -> Manifest:
    """The site's manifest. SQLite: with ``reset_broken`` an unreadable file is replaced
    (the next build is then full), else its ManifestError propagates. PostgreSQL: the
    schema is created or migrated; ``fenced`` applies this process's builder fence."""
    if url is not None:
        return _open_pg(url, fenced)
    path = sqlite_path(state_dir)
    try:
        manifest = Manifest.open(path)
    except ManifestError as exc:
        if not reset_broken:
            raise
        import logging  # only here: ~2 ms of every build's start otherwise

        logging.getLogger("ssgen.manifest").warning(
            "%s; starting with a new manifest", exc, extra={"event": "manifest_reset"})
        manifest = Manifest.reset(path)
    if threading.get_ident() in _DEFERRING:
        manifest.set_autocheckpoint(0)
    return manifest


@contextmanager
def checkpoints_deferred() -> Iterator[None]:
    """SQLite manifests this thread opens inside never checkpoint the WAL on their own
    (the caller checkpoints later: ``checkpoint``)."""
    me = threading.get_ident()
    outer = me in _DEFERRING
    _DEFERRING.add(me)
    try:
        yield
    finally:
        if not outer:
            _DEFERRING.discard(me)


def wal_bytes(state_dir: Path, url: str | None) -> int:
    """The size of the SQLite manifest's WAL file (0: none, or PostgreSQL)."""
    if url is not None:
        return 0
    try:
        return os.stat(f"{sqlite_path(state_dir)}-wal").st_size
    except OSError:
        return 0


def checkpoint(state_dir: Path, url: str | None) -> bool:
    """Copy the SQLite manifest's WAL into the database, on a connection of its own and
    without waiting for readers or writers (PASSIVE); False when it could not."""
    path = sqlite_path(state_dir)
    if url is not None or not path.exists():
        return False
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        return False
    try:
        busy, _frames, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return not busy
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def _open_pg(url: str, fenced: bool) -> Manifest:
    from ssgen.manifest import pg
    from ssgen.manifest.schema import pg as pg_schema

    fence = pg.Fence(_FENCE[0]) if fenced and _FENCE else None
    conn = pg.PgConnection(url, pg_schema.catalog, fence)
    try:
        pg_schema.prepare(conn)
    except BaseException:
        conn.close()
        raise
    # PgConnection has the sqlite3.Connection surface the manifest uses (see pg.py).
    return Manifest(cast(sqlite3.Connection, conn), Path(pg.redact(url)))


__all__ = ["checkpoint", "checkpoints_deferred", "fence_held", "open_state", "set_fence",
           "sqlite_path", "state_exists", "wal_bytes"]
