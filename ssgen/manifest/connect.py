"""Where a site's state lives, and opening it: ``.ssgen/manifest.sqlite`` by default, or
the PostgreSQL database of ``[state] url`` / ``SSGEN_STATE_URL`` shared by replicas.

Owns ``open_state(state_dir, url, *, reset_broken)``, the one place that chooses the
manifest's database (the build, serve, deploy and status open the same one), and the
process's builder fence: while this process is the builder (``set_fence``), every
PostgreSQL manifest it opens commits only as long as its generation is current.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import cast

from ssgen.errors import ManifestError
from ssgen.manifest.store import Manifest

_FENCE: list[int] = []  # the builder generation this process holds (empty: none)


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
        return Manifest.open(path)
    except ManifestError as exc:
        if not reset_broken:
            raise
        import logging  # only here: ~2 ms of every build's start otherwise

        logging.getLogger("ssgen.manifest").warning(
            "%s; starting with a new manifest", exc, extra={"event": "manifest_reset"})
        return Manifest.reset(path)


def _open_pg(url: str, fenced: bool) -> Manifest:
    from ssgen.manifest import pg, pg_schema

    fence = pg.Fence(_FENCE[0]) if fenced and _FENCE else None
    conn = pg.PgConnection(url, pg_schema.catalog, fence)
    try:
        pg_schema.prepare(conn)
    except BaseException:
        conn.close()
        raise
    # PgConnection has the sqlite3.Connection surface the manifest uses (see pg.py).
    return Manifest(cast(sqlite3.Connection, conn), Path(pg.redact(url)))


__all__ = ["fence_held", "open_state", "set_fence", "sqlite_path", "state_exists"]
