"""The manifest on PostgreSQL: a connection that speaks the manifest's SQLite dialect.

The manifest's SQL (store, schema, state, queue) is written once, for SQLite. Rather than a
second copy of it, ``PgConnection`` stands where ``Manifest`` expects a ``sqlite3``
connection and rewrites each statement once (cached) into PostgreSQL: ``?`` placeholders,
``INSERT OR REPLACE`` / ``OR IGNORE`` as ``ON CONFLICT`` (the primary key and columns
are read from the database's catalog, so a new column needs no change here),
``json_each`` as ``jsonb_array_elements_text``, ``PRAGMA`` as nothing. Connections come
from a ``psycopg_pool`` pool per URL. Errors become ``ManifestError``.

Fencing: a connection given a ``Fence`` checks, inside each top-level ``COMMIT``, that
the builder generation in ``ssgen_leader`` is still its own (the row is share-locked, so a
new builder's takeover waits for the commit and every later commit of the old one
fails). The schema and its versioned migrations are in ``ssgen.manifest.schema.pg``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from ssgen.errors import ManifestError
from ssgen.fastclass import dataclass

QUEUE_CHANNEL = "ssgen_queue"  # NOTIFY'd by each enqueue, LISTENed to by the builder
Catalog = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]  # table -> (key, columns)
_POOLS: dict[str, ConnectionPool[Any]] = {}
_POOLS_LOCK = threading.Lock()
_UPSERT = re.compile(
    r"^\s*INSERT OR (REPLACE|IGNORE) INTO ([\w.]+)\s*(\(([^)]*)\))?\s*(VALUES|SELECT)(.*)$",
    re.S | re.I)


class FencedOut(ManifestError):
    """A newer builder took over: this process may no longer commit build state."""


@dataclass(frozen=True)
class Fence:
    """The builder generation this connection's commits must still hold."""

    generation: int


def redact(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def pool(url: str) -> ConnectionPool[Any]:
    """The process's pool for ``url`` (opened on first use)."""
    with _POOLS_LOCK:
        found = _POOLS.get(url)
        if found is None:
            found = ConnectionPool(url, min_size=1, max_size=8, open=False,
                                   kwargs={"autocommit": True}, configure=_configure)
            try:
                found.open(wait=True, timeout=10)
            except psycopg.Error as exc:
                raise ManifestError(f"cannot connect to {redact(url)}: {exc}") from exc
            _POOLS[url] = found
        return found


def close_pools() -> None:
    """Close every pool (tests, and a process that is about to exit)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for each in pools:
        each.close()


def _configure(conn: psycopg.Connection[Any]) -> None:
    # A paused process must not keep a transaction (and its row locks) forever.
    conn.execute("SET idle_in_transaction_session_timeout = '60s'")


class _Cursor:
    """What the manifest uses of a ``sqlite3.Cursor``."""

    def __init__(self, rows: list[Any], lastrowid: int | None = None) -> None:
        self._rows = rows
        self.lastrowid = lastrowid

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return self._rows


class PgConnection:
    """A pooled PostgreSQL connection with the ``sqlite3.Connection`` surface the manifest uses."""

    def __init__(self, url: str, catalog: Callable[[PgConnection], Catalog],
                 fence: Fence | None = None) -> None:
        self.url = url
        self.fence = fence
        self._pool = pool(url)
        try:
            self._conn = self._pool.getconn(timeout=30)
        except psycopg.Error as exc:  # PoolTimeout is one too
            raise ManifestError(f"no connection to {redact(url)}: {exc}") from exc
        self._catalog_fn = catalog
        self._catalog: _Key | None = None
        self._depth = 0

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def close(self) -> None:
        """Give the connection back to the pool."""
        conn, self._conn = self._conn, None
        if conn is not None:
            self._pool.putconn(conn)

    def raw(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run PostgreSQL SQL as it is (``%s`` placeholders); the rows, if any."""
        try:
            cursor = self._conn.execute(sql, tuple(params))
            return cursor.fetchall() if cursor.description else []
        except psycopg.Error as exc:
            raise ManifestError(f"state database {redact(self.url)}: {exc}") from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        """Run one statement of the manifest's SQLite dialect."""
        verb = sql.lstrip()[:12].upper()
        if verb.startswith("PRAGMA"):
            return _Cursor([])
        if verb.startswith("BEGIN"):
            self._depth += 1
            return _Cursor(self.raw("BEGIN"))
        if verb.startswith(("COMMIT", "ROLLBACK")) and not verb.startswith("ROLLBACK TO"):
            return self._end(verb.startswith("COMMIT"))
        pg = _translate(sql, self.catalog())
        rows = self.raw(pg, params)
        if pg.endswith("RETURNING id"):  # a queued change: wake the builder at commit
            self.raw(f"NOTIFY {QUEUE_CHANNEL}")
        return _Cursor(rows, rows[0][0] if rows and pg.endswith("RETURNING id") else None)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        batch = [tuple(row) for row in rows]
        if not batch:
            return
        pg = _translate(sql, self.catalog())
        try:
            with self._conn.cursor() as cursor:
                cursor.executemany(pg, batch)
        except psycopg.Error as exc:
            raise ManifestError(f"state database {redact(self.url)}: {exc}") from exc

    def catalog(self) -> _Key:
        if self._catalog is None:
            self._catalog = _key(self._catalog_fn(self))
        return self._catalog

    def _end(self, commit: bool) -> _Cursor:
        self._depth = max(0, self._depth - 1)
        if not commit:
            return _Cursor(self.raw("ROLLBACK"))
        if self.fence is not None:
            rows = self.raw("SELECT generation FROM ssgen_leader WHERE id = 1 FOR SHARE")
            current = int(rows[0][0]) if rows else 0
            if current != self.fence.generation:
                self.raw("ROLLBACK")
                raise FencedOut(f"builder generation {self.fence.generation} was superseded "
                                f"by {current}: another replica builds now")
        return _Cursor(self.raw("COMMIT"))


_Key = tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]


def _key(catalog: Catalog) -> _Key:
    return tuple(sorted((name, key, cols) for name, (key, cols) in catalog.items()))


@lru_cache(maxsize=2048)
def _translate(sql: str, catalog_key: _Key) -> str:
    catalog = {name: (key, cols) for name, key, cols in catalog_key}
    text = sql.replace("%", "%%").replace("?", "%s")
    text = text.replace("temp.batch", "pg_temp.batch").replace(" WITHOUT ROWID", "")
    text = text.replace("json_each(b.tags) j",
                        "jsonb_array_elements_text(b.tags::jsonb) AS j(value)")
    text = re.sub(r"\bWHERE b\.fresh\b(?!\s*[<>=])", "WHERE b.fresh <> 0", text)
    match = _UPSERT.match(text)
    if match:
        mode, table, _, columns, kind, rest = match.groups()
        head = f"INSERT INTO {table} {'(' + columns + ') ' if columns else ''}{kind}{rest}"
        if mode.upper() == "IGNORE":
            text = f"{head} ON CONFLICT DO NOTHING"
        else:
            key, all_columns = catalog[table.removeprefix("pg_temp.")]
            named = [c.strip() for c in columns.split(",")] if columns else list(all_columns)
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in named if c not in key)
            action = f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
            text = f"{head} ON CONFLICT ({', '.join(key)}) {action}"
    text = _qualify_update_where(text)
    if re.match(r"^\s*INSERT INTO queue\b", text):
        text += " RETURNING id"
    return text


def _qualify_update_where(text: str) -> str:
    """PostgreSQL reads a bare column in ``DO UPDATE ... WHERE`` as ambiguous (the table
    or ``excluded``): name the table."""
    insert = re.match(r"^\s*INSERT INTO (\w+)", text)
    where = re.search(r"\bWHERE \(([\w, ]+)\) != \(excluded\.", text)
    if not insert or "DO UPDATE" not in text or not where:
        return text
    table = insert.group(1)
    qualified = ", ".join(f"{table}.{c.strip()}" for c in where.group(1).split(","))
    return (text[:where.start()] + f"WHERE ({qualified}) IS DISTINCT FROM (excluded."
            + text[where.end():])


def translate(sql: str, catalog: Catalog) -> str:
    """``sql`` (the manifest's SQLite dialect) as PostgreSQL."""
    return _translate(sql, _key(catalog))


__all__ = ["QUEUE_CHANNEL", "Fence", "FencedOut", "PgConnection", "close_pools", "pool", "redact",
           "translate"]
