"""A new manifest is written without waiting on fsync, then used with WAL and NORMAL
sync; a foreign SQLite file is left as it was (never switched to WAL)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ssgen.errors import ManifestError
from ssgen.manifest.schema import SCHEMA_VERSION
from ssgen.manifest.store import Manifest


def _pragmas(conn: sqlite3.Connection) -> tuple[str, int]:
    return (conn.execute("PRAGMA journal_mode").fetchone()[0],
            conn.execute("PRAGMA synchronous").fetchone()[0])


@pytest.mark.parametrize("existing", ["none", "empty file"])
def test_a_new_manifest_is_wal_with_normal_sync(tmp_path: Path, existing: str) -> None:
    path = tmp_path / ".ssgen" / "manifest.sqlite"
    if existing == "empty file":
        path.parent.mkdir()
        path.write_bytes(b"")
    manifest = Manifest.open(path)
    try:
        assert _pragmas(manifest._conn) == ("wal", 1)  # NORMAL again after the creation
        assert manifest.get_meta("schema") == str(SCHEMA_VERSION)
    finally:
        manifest.close()
    again = Manifest.open(path)  # what the creation left opens as a manifest
    try:
        assert _pragmas(again._conn) == ("wal", 1)
    finally:
        again.close()


@pytest.mark.parametrize("user_version", [0, 7])
def test_a_foreign_sqlite_file_keeps_its_journal(tmp_path: Path, user_version: int) -> None:
    path = tmp_path / "notes.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute(f"PRAGMA user_version = {user_version}")
    conn.commit()
    conn.close()
    with pytest.raises(ManifestError):
        Manifest.open(path)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("notes",)]
    finally:
        conn.close()
