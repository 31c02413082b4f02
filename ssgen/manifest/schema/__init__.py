"""The SQLite layout of ``.ssgen/manifest.sqlite`` and the checks made when opening it.

Owns the DDL, the schema version (``PRAGMA user_version``), the application id that marks
a file as an ssgen manifest, and ``prepare(conn)``, which either creates the schema in an
empty database or verifies an existing one, raising ``ManifestError`` for a file from
another schema version or a foreign SQLite file, plus the row records (``PageRecord``,
``FileRecord``, ``Failure``), their row conversions and the statements that write page rows
and their tag rows (``record_one``, ``record_bulk``). Bump ``SCHEMA_VERSION`` on any change
to a table: an older manifest is then rejected and the build starts fresh. An index alone is
additive (``CREATE INDEX IF NOT EXISTS`` on every open, as ``FILES_INDEX``): no bump, since a
manifest with or without it holds the same rows. PostgreSQL's tables: ``pg``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ssgen.errors import ManifestError
from ssgen.fastclass import dataclass

if TYPE_CHECKING:
    # Annotations only: a new build's early lock (``build/damage_ahead``) reads this
    # module's statements before it forks the parse, without loading sqlite3 (~3 ms).
    import sqlite3

SCHEMA_VERSION = 5
# What the page records' tags mean, recorded by each finished build (meta ``tag_scheme``);
# change it with the meaning: a manifest of another scheme is built on in full. ``ref-tags``:
# an ``each`` page's scans keyed by ``references()`` are tagged ``ref:<id>``, not by type.
TAG_SCHEME = "ref-tags"
APPLICATION_ID = 0x5353474E  # "SSGN"
FILE_KINDS = frozenset({"page", "static", "generated"})
CHUNK = 500  # bound parameters per IN (...) query

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

_DDL = """
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
_DDL += LINKS_DDL
_DDL += HISTORY_DDL
# Added in schema 5, and additive (no version bump: an older manifest gets it when opened):
# a build's extras stage reads the files that are not pages (a scan: 20 ms at 138k pages).
FILES_INDEX = "CREATE INDEX IF NOT EXISTS files_not_page ON files(kind) WHERE kind != 'page'"
_DDL += FILES_INDEX + ";"

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
        for statement in _DDL.split(";"):
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


@dataclass(frozen=True, slots=True)
class PageRecord:
    """One built page as the manifest remembers it."""

    path: str
    route: str
    params: dict[str, Any]
    template: str
    data_hash: str
    output_hash: str
    file: str


@dataclass(frozen=True, slots=True)
class FileRecord:
    """An output file ssgen wrote: its hash, why it exists, and its size and mtime (ns)
    when written (-1: unknown), so a later build can notice it was changed from outside."""

    relpath: str
    hash: str
    kind: str
    size: int = -1
    mtime_ns: int = -1


@dataclass(frozen=True, slots=True)
class Failure:
    """A page whose last render failed; its previous file was kept."""

    path: str
    route: str
    error: str


PAGE_SELECT = "SELECT path, route, params, template, data_hash, output_hash, file FROM pages"


def tx_statements(depth: int) -> tuple[str, str, tuple[str, ...]]:
    """(begin, commit, rollback statements) for a transaction nested ``depth`` deep."""
    if depth == 0:
        return "BEGIN IMMEDIATE", "COMMIT", ("ROLLBACK",)
    name = f"sp{depth}"
    return f"SAVEPOINT {name}", f"RELEASE {name}", (f"ROLLBACK TO {name}", f"RELEASE {name}")


def page_row(record: PageRecord, tags: Iterable[str]) -> tuple[str, ...]:
    """The ``pages`` row of a record (params and sorted tags as canonical JSON)."""
    params = dumps(record.params, f"params of page {record.path!r}")
    tag_list = sorted({str(tag) for tag in tags})
    return (
        record.path,
        record.route,
        params,
        record.template,
        record.data_hash,
        record.output_hash,
        record.file,
        dumps(tag_list, f"tags of page {record.path!r}"),
    )


def page_record(row: tuple[Any, ...]) -> PageRecord:
    """A record from a ``PAGE_SELECT`` row."""
    path, route, params, template, data_hash, output_hash, file = row
    decoded = loads(params, f"params of page {path!r}")
    return PageRecord(path, route, decoded, template, data_hash, output_hash, file)


def dumps(value: Any, what: str) -> str:
    """Canonical JSON text (sorted keys); ManifestError naming ``what`` if impossible."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError as exc:
        raise ManifestError(f"{what} is not JSON-serialisable: {exc}") from exc


def loads(text: str, what: str) -> Any:
    """Parse stored JSON; ManifestError naming ``what`` if it is damaged."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ManifestError(f"manifest is damaged: {what} is not valid JSON") from exc


def chunks(items: list[str]) -> Iterator[list[str]]:
    """``items`` in slices small enough for one query's bound parameters."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


DELETE_TAG = "DELETE FROM page_tags WHERE tag = ? AND path = ?"
INSERT_TAG = "INSERT OR IGNORE INTO page_tags (tag, path) VALUES (?, ?)"
# Rewrites a page row only when something in it changed, so re-recording an unchanged
# site costs lookups, not writes.
UPSERT_PAGE = (
    "INSERT INTO pages (path, route, params, template, data_hash, output_hash, file, tags)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET route = excluded.route,"
    " params = excluded.params, template = excluded.template, data_hash = excluded.data_hash,"
    " output_hash = excluded.output_hash, file = excluded.file, tags = excluded.tags"
    " WHERE (route, params, template, data_hash, output_hash, file, tags) != (excluded.route,"
    " excluded.params, excluded.template, excluded.data_hash, excluded.output_hash,"
    " excluded.file, excluded.tags)"
)


def record_one(conn: sqlite3.Connection, row: tuple[str, ...]) -> None:
    """Record one page, touching only the tag rows that changed."""
    path, new_json = row[0], row[7]
    old = conn.execute("SELECT tags FROM pages WHERE path = ?", (path,)).fetchone()
    if old is None or old[0] != new_json:
        old_tags = set(loads(old[0], f"tags of page {path!r}")) if old else set()
        new_tags = set(loads(new_json, f"tags of page {path!r}"))
        if old_tags - new_tags:
            conn.executemany(DELETE_TAG, [(tag, path) for tag in old_tags - new_tags])
        conn.executemany(INSERT_TAG, [(tag, path) for tag in new_tags - old_tags])
    conn.execute(UPSERT_PAGE, row)


def record_bulk(conn: sqlite3.Connection, rows: list[tuple[str, ...]], *,
                new: bool = False) -> None:
    """Record many pages; new tag rows are expanded inside SQLite (json_each), not in Python.
    ``new``: the caller knows that none of the paths is recorded yet."""
    # In key order, the b-tree fills page by page (in render order: -40% at 16k pages);
    # a stable sort, so that of two rows of one path the last still wins.
    rows = sorted(rows, key=itemgetter(0))
    if new:  # a batch of a full build that started from an empty table: no tags to diff
        conn.executemany(UPSERT_PAGE, rows)
        conn.execute("DELETE FROM temp.batch")
        conn.executemany("INSERT OR REPLACE INTO temp.batch (path, tags) VALUES (?, ?)",
                         [(row[0], row[7]) for row in rows])
        conn.execute("INSERT OR IGNORE INTO page_tags (tag, path) SELECT j.value, b.path"
                     " FROM temp.batch b, json_each(b.tags) j")
        conn.execute("DELETE FROM temp.batch")
        return
    if conn.execute("SELECT 1 FROM pages LIMIT 1").fetchone() is None:
        # A first build: no tag rows to compare or remove, all of them new.
        conn.executemany(UPSERT_PAGE, rows)
        conn.execute("INSERT OR IGNORE INTO page_tags (tag, path) SELECT j.value, b.path"
                     " FROM pages b, json_each(b.tags) j")
        return
    conn.execute("DELETE FROM temp.batch")
    conn.executemany(
        "INSERT OR REPLACE INTO temp.batch (path, tags) VALUES (?, ?)",
        [(row[0], row[7]) for row in rows],
    )
    conn.execute(
        "UPDATE temp.batch SET fresh = 0 WHERE EXISTS (SELECT 1 FROM pages p"
        " WHERE p.path = batch.path AND p.tags = batch.tags)"
    )
    stale = conn.execute(
        "SELECT p.path, p.tags, b.tags FROM temp.batch b JOIN pages p ON p.path = b.path"
        " WHERE b.fresh"
    ).fetchall()
    removed: list[tuple[str, str]] = []
    for path, old_json, new_json in stale:
        gone = set(loads(old_json, f"tags of page {path!r}")) - set(loads(new_json, path))
        removed.extend((tag, path) for tag in gone)
    conn.executemany(DELETE_TAG, removed)
    conn.executemany(UPSERT_PAGE, rows)
    conn.execute(
        "INSERT OR IGNORE INTO page_tags (tag, path) SELECT j.value, b.path"
        " FROM temp.batch b, json_each(b.tags) j WHERE b.fresh"
    )
    conn.execute("DELETE FROM temp.batch")
