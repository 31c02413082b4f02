"""The SQLite layout of ``.ssgen/manifest.sqlite`` and the checks made when opening it.

Owns the DDL, the schema version (``PRAGMA user_version``), the tag scheme recorded in the
meta table, the application id that marks a file as an ssgen manifest, and
``prepare(conn)``, which either creates the schema in an empty database or verifies an
existing one, raising ``ManifestError`` for a file from another schema version or a
foreign SQLite file. Bump ``SCHEMA_VERSION`` on any change to a table: an older manifest is
then rejected and the build starts fresh. An index alone is additive (``CREATE INDEX IF
NOT EXISTS`` on every open, as ``FILES_INDEX``): no bump, since a manifest with or without
it holds the same rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ssgen.errors import ManifestError

if TYPE_CHECKING:
    # Annotations only: a new build's early lock (``build/damage_ahead``) reads this
    # package's statements before it forks the parse, without loading sqlite3 (~3 ms).
    import sqlite3

SCHEMA_VERSION = 5
# What the page records' tags mean, recorded by each finished build (meta ``tag_scheme``);
# change it with the meaning: a manifest of another scheme is built on in full. ``ref-tags``:
# an ``each`` page's scans keyed by ``references()`` are tagged ``ref:<id>``, not by type.
TAG_SCHEME = "ref-tags"
APPLICATION_ID = 0x5353474E  # "SSGN"

# Every path a document's page has had (schema 5, issue 17: redirects). One row per path:
# the document whose page was last recorded there; ``live`` while a page is at the path;
# first/last_seen are build sequence numbers (never clock times: outputs stay deterministic).
HISTORY_DDL = """
CREATE TABLE path_history (
    path TEXT PRIMARY KEY,
    route TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    live INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE INDEX path_history_doc ON path_history(doc_id);
CREATE INDEX path_history_live ON path_history(live);
CREATE INDEX path_history_seen ON path_history(last_seen);
"""

DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE pages (
    path TEXT PRIMARY KEY,
    route TEXT NOT NULL,
    params TEXT NOT NULL,
    template TEXT NOT NULL,
    data_hash TEXT NOT NULL,
    output_hash TEXT NOT NULL,
    file TEXT NOT NULL,
    tags TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX pages_route ON pages(route);
-- One b-tree keyed by tag (tag -> pages is a range scan), page -> tags is pages.tags
CREATE TABLE page_tags (
    tag TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (tag, path)
) WITHOUT ROWID;
CREATE TABLE templates (name TEXT PRIMARY KEY, hash TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE template_deps (
    template TEXT NOT NULL,
    dep TEXT NOT NULL,
    PRIMARY KEY (template, dep)
) WITHOUT ROWID;
CREATE INDEX template_deps_dep ON template_deps(dep);
CREATE TABLE globals (name TEXT PRIMARY KEY, hash TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE files (
    relpath TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('page', 'static', 'generated')),
    size INTEGER NOT NULL DEFAULT -1,
    mtime_ns INTEGER NOT NULL DEFAULT -1
) WITHOUT ROWID;
-- Output files a build is about to write, committed before the writes and cleared when
-- they are recorded: what a killed build wrote is still known to be ssgen's.
CREATE TABLE journal (relpath TEXT PRIMARY KEY, kind TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE failures (
    path TEXT PRIMARY KEY,
    route TEXT NOT NULL,
    error TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
);
CREATE INDEX queue_state ON queue(state, id);
CREATE TABLE deliveries (
    key TEXT PRIMARY KEY,
    queue_id INTEGER NOT NULL,
    created REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX deliveries_created ON deliveries(created);
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    hash TEXT NOT NULL
) WITHOUT ROWID;
"""
# Schema 4: sitemap lastmods and the link checker's state (also PostgreSQL migration 4).
LINKS_DDL = """
-- Each page's sitemap <lastmod> (from its data), kept for pages a build does not re-query
CREATE TABLE page_lastmod (path TEXT PRIMARY KEY, lastmod TEXT NOT NULL) WITHOUT ROWID;
-- Each checked HTML file: its fragment ids and its broken links (JSON lists)
CREATE TABLE link_files (
    relpath TEXT PRIMARY KEY,
    ids TEXT NOT NULL,
    broken TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX link_files_broken ON link_files(relpath) WHERE broken != '[]';
-- The link graph, by target: an internal URL path (decoded) -> the HTML files linking to it
CREATE TABLE link_edges (
    target TEXT NOT NULL,
    relpath TEXT NOT NULL,
    PRIMARY KEY (target, relpath)
) WITHOUT ROWID;
CREATE INDEX link_edges_relpath ON link_edges(relpath);
-- External URLs checked: status (0: no answer), error text, when (Unix seconds)
CREATE TABLE link_external (
    url TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    error TEXT NOT NULL,
    checked REAL NOT NULL
) WITHOUT ROWID;
"""
DDL += LINKS_DDL
DDL += HISTORY_DDL
# Added in schema 5, and additive (no version bump: an older manifest gets it when opened):
# a build's extras stage reads the files that are not pages (a scan: 20 ms at 138k pages).
FILES_INDEX = "CREATE INDEX IF NOT EXISTS files_not_page ON files(kind) WHERE kind != 'page'"
DDL += FILES_INDEX + ";"

TABLES = frozenset({
    "meta", "pages", "page_tags", "templates", "template_deps", "globals", "files",
    "failures", "queue", "deliveries", "documents", "journal", "page_lastmod",
    "link_files", "link_edges", "link_external", "path_history"})


def prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Configure ``conn`` and create or verify the schema; ManifestError if unusable."""
    conn.execute("PRAGMA busy_timeout = 30000")
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id == 0 and version == 0:
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            # A new file: made a manifest without waiting on fsync (8 of them, 10-40 ms).
            # An OS crash meanwhile can leave a file that fails to open: it is replaced.
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA journal_mode = WAL")
        _create(conn, path)
    else:
        _verify(conn, path, app_id, version)
        conn.execute(FILES_INDEX)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute(_BATCH_DDL)


# The pages of one bulk record_pages call: ``fresh`` marks pages whose tag set changed,
# so only those have their page_tags rows rewritten.
_BATCH_DDL = """
CREATE TEMP TABLE IF NOT EXISTS batch (
    path TEXT PRIMARY KEY,
    tags TEXT NOT NULL,
    fresh INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID
"""


def _create(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have created it between our check and the lock.
        if conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
            conn.execute("ROLLBACK")
            return
        if _table_names(conn):
            raise ManifestError(f"{path} is an SQLite file that is not an ssgen manifest")
        for statement in DDL.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _verify(conn: sqlite3.Connection, path: Path, app_id: int, version: int) -> None:
    if app_id != APPLICATION_ID:
        raise ManifestError(f"{path} is not an ssgen manifest (application id {app_id:#x})")
    if version != SCHEMA_VERSION:
        raise ManifestError(
            f"{path} has manifest schema version {version}; this ssgen uses {SCHEMA_VERSION}"
        )
    missing = TABLES - _table_names(conn)
    if missing:
        raise ManifestError(f"{path} is damaged: missing tables {', '.join(sorted(missing))}")


def _table_names(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows if not row[0].startswith("sqlite_")}
