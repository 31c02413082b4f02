"""The manifest's tables on PostgreSQL, created and migrated by version.

Owns ``prepare(conn)``: under an advisory lock (replicas start together), a new database
gets the manifest's DDL (``ssgen.manifest.schema``, rewritten for PostgreSQL) plus
``ssgen_leader`` (the builder generation that fences commits) and records the schema
version in ``ssgen_migrations``; an older one gets each ``MIGRATIONS`` step in order; a
newer one is refused. Also ``catalog(conn)``: each table's primary key and columns, which
the dialect layer (``ssgen.manifest.pg``) needs for ``INSERT OR REPLACE``.
"""

from __future__ import annotations

import time

from ssgen.errors import ManifestError
from ssgen.manifest import schema
from ssgen.manifest.pg import Catalog, PgConnection, redact

_SETUP_LOCK = 0x5353_4701  # advisory lock id held while creating or migrating
# Version N's entry takes a database from N - 1 to N. A change to schema.py's DDL that
# bumps SCHEMA_VERSION adds its step here (ALTER TABLE ...), so shared state survives it.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    3: (  # owned files' size and mtime (damage checks) and the write journal
        "ALTER TABLE files ADD COLUMN size BIGINT NOT NULL DEFAULT -1",
        "ALTER TABLE files ADD COLUMN mtime_ns BIGINT NOT NULL DEFAULT -1",
        "CREATE TABLE journal (relpath TEXT PRIMARY KEY, kind TEXT NOT NULL)",
    ),
}

_LEADER_DDL = (
    "CREATE TABLE IF NOT EXISTS ssgen_leader (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " generation BIGINT NOT NULL, holder TEXT NOT NULL, since DOUBLE PRECISION NOT NULL)",
    "INSERT INTO ssgen_leader VALUES (1, 0, '', 0) ON CONFLICT DO NOTHING",
)


def pg_ddl(ddl: str) -> list[str]:
    """SQLite DDL statements rewritten for PostgreSQL."""
    text = (ddl.replace(" WITHOUT ROWID", "")
            .replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
            .replace(" REAL ", " DOUBLE PRECISION ").replace(" INTEGER ", " BIGINT "))
    lines = [line for line in text.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


# Sitemap lastmods and the link checker's state (schema.LINKS_DDL, as SQLite creates it).
MIGRATIONS[4] = tuple(pg_ddl(schema.LINKS_DDL))
MIGRATIONS[5] = tuple(pg_ddl(schema.HISTORY_DDL))  # path history (redirects, issue 17)


def prepare(conn: PgConnection) -> None:
    """Create or migrate the schema, then this connection's temp table."""
    conn.raw("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK,))
    try:
        conn.raw("CREATE TABLE IF NOT EXISTS ssgen_migrations"
                 " (version INTEGER PRIMARY KEY, applied DOUBLE PRECISION NOT NULL)")
        rows = conn.raw("SELECT max(version) FROM ssgen_migrations")
        version = int(rows[0][0]) if rows and rows[0][0] is not None else 0
        if version == 0:
            _apply(conn, [*pg_ddl(schema.DDL), *_LEADER_DDL,
                          "INSERT INTO meta VALUES ('schema', %s)"], schema.SCHEMA_VERSION)
        elif version > schema.SCHEMA_VERSION:
            raise ManifestError(f"state database {redact(conn.url)} has schema version "
                                f"{version}; this ssgen uses {schema.SCHEMA_VERSION}")
        for step in range(version + 1 if version else schema.SCHEMA_VERSION + 1,
                          schema.SCHEMA_VERSION + 1):
            if step not in MIGRATIONS:
                raise ManifestError(f"no migration of {redact(conn.url)} to schema {step}")
            _apply(conn, list(MIGRATIONS[step]), step)
    finally:
        conn.raw("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
    conn.raw("CREATE TEMP TABLE IF NOT EXISTS batch (path TEXT PRIMARY KEY, tags TEXT NOT NULL,"
             " fresh INTEGER NOT NULL DEFAULT 1)")


def _apply(conn: PgConnection, statements: list[str], version: int) -> None:
    conn.raw("BEGIN")
    try:
        for statement in statements:
            conn.raw(statement, (str(version),) if "%s" in statement else ())
        conn.raw("UPDATE meta SET value = %s WHERE key = 'schema'", (str(version),))
        conn.raw("INSERT INTO ssgen_migrations VALUES (%s, %s)", (version, time.time()))
        conn.raw("COMMIT")
    except BaseException:
        conn.raw("ROLLBACK")
        raise


def catalog(conn: PgConnection) -> Catalog:
    """Each manifest table's (primary key columns, all columns), in column order."""
    rows = conn.raw(
        "SELECT c.relname, a.attname, a.attnum = ANY(i.indkey) FROM pg_class c"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        " LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary"
        " WHERE c.oid IN (SELECT to_regclass(t) FROM unnest(%s::text[]) t)"
        " ORDER BY c.relname, a.attnum", (sorted(schema.TABLES | {"batch"}),))
    found: dict[str, tuple[list[str], list[str]]] = {}
    for table, column, is_key in rows:
        key, columns = found.setdefault(table, ([], []))
        columns.append(column)
        if is_key:
            key.append(column)
    return {table: (tuple(key), tuple(cols)) for table, (key, cols) in found.items()}


__all__ = ["MIGRATIONS", "catalog", "pg_ddl", "prepare"]
