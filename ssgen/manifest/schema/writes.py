"""The statements that write page rows and their tag rows.

Owns ``record_one`` (one page, touching only the tag rows that changed), ``record_bulk``
(many pages, new tag rows expanded inside SQLite by ``json_each``), the upsert that leaves
an unchanged row unwritten, and ``tx_statements`` (begin / commit / rollback of a
transaction or a savepoint nested inside one).
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING

from ssgen.manifest.schema.records import loads

if TYPE_CHECKING:
    # Annotations only: a new build's early lock (``build/damage_ahead``) reads this
    # package's statements before it forks the parse, without loading sqlite3 (~3 ms).
    import sqlite3


def tx_statements(depth: int) -> tuple[str, str, tuple[str, ...]]:
    """(begin, commit, rollback statements) for a transaction nested ``depth`` deep."""
    if depth == 0:
        return "BEGIN IMMEDIATE", "COMMIT", ("ROLLBACK",)
    name = f"sp{depth}"
    return f"SAVEPOINT {name}", f"RELEASE {name}", (f"ROLLBACK TO {name}", f"RELEASE {name}")



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


def record_one(conn: sqlite3.Connection, row: tuple[str, ...]) -> bool:
    """Record one page, touching only the tag rows that changed; whether any did."""
    path, new_json = row[0], row[7]
    old = conn.execute("SELECT tags FROM pages WHERE path = ?", (path,)).fetchone()
    retagged = old is None or old[0] != new_json
    if retagged:
        old_tags = set(loads(old[0], f"tags of page {path!r}")) if old else set()
        new_tags = set(loads(new_json, f"tags of page {path!r}"))
        if old_tags - new_tags:
            conn.executemany(DELETE_TAG, [(tag, path) for tag in old_tags - new_tags])
        conn.executemany(INSERT_TAG, [(tag, path) for tag in new_tags - old_tags])
    conn.execute(UPSERT_PAGE, row)
    return retagged


def record_bulk(conn: sqlite3.Connection, rows: list[tuple[str, ...]], *,
                new: bool = False) -> bool:
    """Record many pages; new tag rows are expanded inside SQLite (json_each), not in Python.
    ``new``: the caller knows that none of the paths is recorded yet. Whether any page's
    tag rows may have changed."""
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
        return bool(rows)
    if conn.execute("SELECT 1 FROM pages LIMIT 1").fetchone() is None:
        # A first build: no tag rows to compare or remove, all of them new.
        conn.executemany(UPSERT_PAGE, rows)
        conn.execute("INSERT OR IGNORE INTO page_tags (tag, path) SELECT j.value, b.path"
                     " FROM pages b, json_each(b.tags) j")
        return bool(rows)
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
    retagged = conn.execute("SELECT 1 FROM temp.batch WHERE fresh <> 0 LIMIT 1").fetchone()
    conn.execute("DELETE FROM temp.batch")
    return retagged is not None
