"""The build manifest: the page -> tags graph and build state in ``.ssgen/manifest.sqlite``.

Owns every read and write of the manifest (the layout is in ``ssgen.manifest.schema``).
SQLite in WAL mode; every ``sqlite3`` error becomes a ``ManifestError`` so a caller can
warn, ``Manifest.reset`` and do a full build instead of trusting a broken graph.

API (all paths are page URL paths such as ``/blog/hello/``; relpaths are output files):

- ``Manifest.open(path)`` creates or opens (ManifestError: corrupt, other schema version,
  foreign SQLite file); ``Manifest.reset(path)`` deletes it and opens a fresh one;
  ``close()``; usable as a context manager.
- ``transaction()``: a context manager; everything inside commits together or rolls back
  on an exception. Nested use is a savepoint. Calls outside one commit on their own.
- Pages: ``record_page(path, route, params, template, data_hash, output_hash, tags, *,
  file=None)`` (replaces the page's tags; ``file`` defaults to ``url_to_file(path)``),
  ``record_pages([(PageRecord, tags), ...])`` (bulk), ``remove_page(path)``,
  ``remove_pages(paths)``, ``page(path) -> PageRecord | None``, ``pages()``,
  ``pages_at(paths)``, ``page_paths()``, ``page_files()``, ``page_count()``,
  ``pages_for_route(route)``.
- Tags: ``pages_for_tags(tags) -> set[str]`` (index on tag), ``tags_of(path)``,
  ``tags_starting(prefix)`` (every tag in use with that prefix).
- Templates: ``set_template(name, hash, deps)`` (replaces deps), ``templates()``
  (name -> hash), ``template_deps(name)``, ``templates_using(dep)``, ``remove_template``.
- Globals: ``set_global(name, hash)``, ``globals()``, ``remove_global(name)``.
- Documents: ``documents() -> {id: (type, hash)}``, ``set_documents(docs, removed=(),
  *, replace=False)``: the source state the last build saw, for change detection.
- Meta: ``get_meta(key) -> str | None``, ``set_meta(key, value)``.
- Files ssgen owns (for stale sweeps, deploy and the damage check): ``set_file(relpath,
  hash, kind)`` with kind ``page | static | generated``, ``set_files`` (optionally with
  size and mtime_ns), ``set_file_stats``, ``remove_file``, ``remove_files``,
  ``files(kind=None, *, exclude=None) -> dict[str, FileRecord]``, ``files_at(relpaths)``,
  ``files_starting(prefix)`` (a key range), ``file_rows()`` (bare tuples).
- Journal of files about to be written: ``journal_add([(relpath, kind)])``, ``journal()``,
  ``journal_clear(relpaths=None, *, kind=None)``.
- Sitemap lastmods, the link graph and external-link cache: see ``ssgen.manifest.links``.
- Failures: ``record_failure(path, route, error)``, ``clear_failure(path)``, ``failures()``.
- Path history (redirects): ``note_paths(owned, unowned, removed, *, full)``,
  ``gone_paths()``, ``live_paths_of(doc_ids)``, ``history()``, ``set_history(rows)``.
- Queue (serve's durable pending changes): ``enqueue(payload, *, key=None) -> int``
  (a repeated delivery ``key`` returns the first id and adds nothing), ``pending(limit=None)
  -> list[(id, payload)]`` oldest first, ``ack(ids)`` (deletes them).

One ``Manifest`` may be shared by threads (calls are serialised by a lock); separate
processes open their own and SQLite's locking orders their writes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any

from ssgen.errors import ManifestError
from ssgen.manifest import pages as page_cache
from ssgen.manifest import schema
from ssgen.manifest.history import HistoryMixin
from ssgen.manifest.links import LinksMixin
from ssgen.manifest.queue import QueueMixin
from ssgen.manifest.schema import (
    PAGE_SELECT,
    Failure,
    FileRecord,
    PageRecord,
    chunks,
    loads,
    page_record,
    page_row,
    tx_statements,
)
from ssgen.manifest.state import StateMixin
from ssgen.routes.paths import url_to_file

_SMALL_BATCH = 64
# The distinct tags in [?, ?): each step seeks the next one in the primary key.
_SKIP_SCAN = """WITH RECURSIVE t(tag) AS (
    SELECT min(tag) FROM page_tags WHERE tag >= ? AND tag < ?
    UNION ALL
    SELECT (SELECT min(tag) FROM page_tags WHERE tag > t.tag AND tag < ?) FROM t
    WHERE t.tag IS NOT NULL)
SELECT tag FROM t WHERE tag IS NOT NULL"""
class Manifest(QueueMixin, StateMixin, LinksMixin, HistoryMixin, page_cache.PagesMixin):
    """An open manifest database. Create with ``Manifest.open`` or ``Manifest.reset``."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.RLock()
        self._depth = 0
        self._key = os.path.realpath(path)
        self._page_writes = page_cache.PageWrites()
        # ``tags_starting``'s answers while no connection changed a page's tag rows:
        # SQLite's ``data_version`` at the time (another connection's commit moves it);
        # this one's own tag writes and rollbacks forget them.
        self._prefixed: dict[str, frozenset[str]] = {}
        self._prefixed_at: int | None = None

    # -- lifecycle -------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> Manifest:
        """Open (creating if needed) the manifest at ``path``; ManifestError if unusable."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise ManifestError(f"cannot open manifest {path}: {exc}") from exc
        try:
            schema.prepare(conn, path)
        except ManifestError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise ManifestError(f"manifest {path} is corrupt or unreadable: {exc}") from exc
        return cls(conn, path)

    @classmethod
    def reset(cls, path: Path) -> Manifest:
        """Delete the manifest at ``path`` (and its WAL files) and open a fresh one."""
        path = Path(path)
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(f"{path}{suffix}")
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise ManifestError(f"cannot delete manifest {path}{suffix}: {exc}") from exc
        return cls.open(path)

    def close(self, *, synced: bool = True) -> None:
        """Close the database connection. ``synced=False``: the last checkpoint (SQLite
        copies the WAL into the database on close) without fsync, as ``unsynced``."""
        if not synced:
            self._rows("PRAGMA synchronous = OFF", what="turn fsync off")
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Manifest]:
        """Commit everything done inside together; roll all of it back on an exception."""
        with self._lock:
            depth = self._depth
            begin, commit, rollback = tx_statements(depth)
            self._execute(begin, what="begin transaction")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth = depth
                self._prefixed = {}
                self._page_writes.rolled_back = True
                for statement in rollback:
                    self._execute(statement, what="roll back")
                if depth == 0:
                    self._page_writes = page_cache.PageWrites()
                raise
            self._depth = depth
            if depth == 0 and self._page_writes.touched:
                self._commit_pages(commit)
            else:
                self._execute(commit, what="commit")

    def _commit_pages(self, commit: str) -> None:
        """Commit a transaction that wrote pages under a new generation of the table,
        then bring this process's copy of the path -> route map along."""
        writes, self._page_writes = self._page_writes, page_cache.PageWrites()
        before = self.get_meta(page_cache.GENERATION_KEY)
        after = page_cache.new_generation()
        self._execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                      (page_cache.GENERATION_KEY, after), what="write meta")
        self._execute(commit, what="commit")
        page_cache.committed(self._key, before, after, writes)

    @contextmanager
    def _writing(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._lock, self._guard(what):
            if self._depth:
                yield self._conn
            else:
                with self.transaction():
                    yield self._conn

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise ManifestError(f"manifest {self.path}: {what} failed: {exc}") from exc

    def _execute(self, sql: str, params: Iterable[Any] = (), *, what: str) -> sqlite3.Cursor:
        with self._lock, self._guard(what):
            return self._conn.execute(sql, tuple(params))

    def _rows(self, sql: str, params: Iterable[Any] = (), *, what: str) -> list[Any]:
        with self._lock, self._guard(what):
            return self._conn.execute(sql, tuple(params)).fetchall()

    # -- pages and tags --------------------------------------------------------

    def record_page(
        self,
        path: str,
        route: str,
        params: dict[str, Any],
        template: str,
        data_hash: str,
        output_hash: str,
        tags: Iterable[str],
        *,
        file: str | None = None,
    ) -> None:
        """Record a built page and replace its tags."""
        if file is None:
            file = str(url_to_file(path, route))
        record = PageRecord(path, route, params, template, data_hash, output_hash, file)
        self.record_pages([(record, tags)])

    def record_pages(self, entries: Iterable[tuple[PageRecord, Iterable[str]]]) -> None:
        """Record many pages (and replace their tags) in one transaction."""
        self.record_rows([page_row(record, tags) for record, tags in entries])

    def record_rows(self, rows: list[tuple[str, ...]], *, new: bool = False) -> None:
        """``record_pages`` of ``page_row`` rows; ``new``: none of them is recorded yet."""
        with self._writing("record pages") as conn:
            self._page_writes.writes.extend((row[0], row[:7]) for row in rows)
            if len(rows) <= _SMALL_BATCH and not new:
                retagged = [schema.record_one(conn, row) for row in rows]
                if any(retagged):
                    self._prefixed = {}
            elif schema.record_bulk(conn, rows, new=new):
                self._prefixed = {}

    def remove_page(self, path: str) -> None:
        """Forget a page and its tags (its file is the caller's to delete)."""
        self.remove_pages([path])

    def remove_pages(self, paths: Iterable[str]) -> None:
        """Forget many pages and their tags."""
        with self._writing("remove pages") as conn:
            for path in paths:
                self._page_writes.writes.append((path, None))
                old = conn.execute("SELECT tags FROM pages WHERE path = ?", (path,)).fetchone()
                if old is None:
                    continue
                tags = loads(old[0], f"tags of page {path!r}")
                self._prefixed = {}
                conn.executemany(schema.DELETE_TAG, [(tag, path) for tag in tags])
                conn.execute("DELETE FROM pages WHERE path = ?", (path,))

    def page(self, path: str) -> PageRecord | None:
        """The record of one page, or None."""
        rows = self._rows(f"{PAGE_SELECT} WHERE path = ?", (path,), what="read page")
        return page_record(rows[0]) if rows else None

    def pages(self) -> list[PageRecord]:
        """Every recorded page, sorted by path."""
        rows = self._rows(f"{PAGE_SELECT} ORDER BY path", what="read pages")
        return [page_record(row) for row in rows]

    def pages_for_tags(self, tags: Iterable[str]) -> set[str]:
        """The paths of every page that depends on at least one of ``tags``."""
        found: set[str] = set()
        for chunk in chunks(sorted(set(tags))):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT path FROM page_tags WHERE tag IN ({marks})"
            found.update(map(itemgetter(0), self._rows(sql, chunk, what="read tags")))
        return found

    def tags_starting(self, prefix: str) -> set[str]:
        """Every tag some page has that starts with ``prefix``: one index seek per distinct
        tag (a skip scan), not a read of every page's row (10k pages share 176 image
        tags in 147k rows at 10k posts: 1 ms instead of 17 to 150). Answered again from
        memory while no page's tag rows changed (12 ms of a serve round at 100k posts,
        whose scan read index pages the machine had let go of)."""
        with self._lock:
            version = self._data_version()
            if version is not None and version == self._prefixed_at \
                    and (kept := self._prefixed.get(prefix)) is not None:
                return set(kept)
            end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            found = {row[0] for row in self._rows(_SKIP_SCAN, (prefix, end, end),
                                                  what="read tags")}
            if version is not None:
                if version != self._prefixed_at:
                    self._prefixed, self._prefixed_at = {}, version
                self._prefixed[prefix] = frozenset(found)
            return found

    def _data_version(self) -> int | None:
        """SQLite's count of the other connections' commits to the file (None for a
        PostgreSQL manifest: no such count, so nothing is kept)."""
        if not isinstance(self._conn, sqlite3.Connection):
            return None
        version: int = self._rows("PRAGMA data_version", what="read data version")[0][0]
        return version

    def tags_of(self, path: str) -> set[str]:
        """The tags a page depends on."""
        rows = self._rows("SELECT tags FROM pages WHERE path = ?", (path,), what="read tags")
        return set(loads(rows[0][0], f"tags of page {path!r}")) if rows else set()

    # -- templates, globals, meta ----------------------------------------------

    def set_template(self, name: str, hash: str, deps: Iterable[str]) -> None:
        """Record a template's hash and replace the set of templates it uses."""
        dep_rows = [(name, dep) for dep in sorted(set(deps))]
        with self._writing("record template") as conn:
            conn.execute("INSERT OR REPLACE INTO templates VALUES (?, ?)", (name, hash))
            conn.execute("DELETE FROM template_deps WHERE template = ?", (name,))
            conn.executemany("INSERT INTO template_deps VALUES (?, ?)", dep_rows)

    def remove_template(self, name: str) -> None:
        """Forget a template and its dependency edges."""
        with self._writing("remove template") as conn:
            conn.execute("DELETE FROM templates WHERE name = ?", (name,))
            conn.execute("DELETE FROM template_deps WHERE template = ?", (name,))

    def templates(self) -> dict[str, str]:
        """Every recorded template name -> hash."""
        return dict(self._rows("SELECT name, hash FROM templates", what="read templates"))

    def template_deps(self, name: str) -> tuple[str, ...]:
        """What a template was recorded as using (extends/includes/imports), sorted."""
        sql = "SELECT dep FROM template_deps WHERE template = ? ORDER BY dep"
        return tuple(row[0] for row in self._rows(sql, (name,), what="read templates"))

    def templates_using(self, dep: str) -> set[str]:
        """The templates whose recorded deps include ``dep``."""
        sql = "SELECT template FROM template_deps WHERE dep = ?"
        return {row[0] for row in self._rows(sql, (dep,), what="read templates")}

    def set_global(self, name: str, hash: str) -> None:
        """Record the hash of a global data query's result."""
        with self._writing("record global") as conn:
            conn.execute("INSERT OR REPLACE INTO globals VALUES (?, ?)", (name, hash))

    def remove_global(self, name: str) -> None:
        """Forget a global."""
        with self._writing("remove global") as conn:
            conn.execute("DELETE FROM globals WHERE name = ?", (name,))

    def globals(self) -> dict[str, str]:
        """Every recorded global name -> hash."""
        return dict(self._rows("SELECT name, hash FROM globals", what="read globals"))

    def get_meta(self, key: str) -> str | None:
        """A meta value (``ssgen_version``, ``config_hash``, ``schema``...), or None."""
        rows = self._rows("SELECT value FROM meta WHERE key = ?", (key,), what="read meta")
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a meta value."""
        with self._writing("write meta") as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def counts(self) -> dict[str, int]:
        """Row counts per table (for ``ssgen inspect``)."""
        return {
            table: int(self._rows(f"SELECT COUNT(*) FROM {table}", what="count")[0][0])
            for table in sorted(schema.TABLES)
        }


__all__ = ["Failure", "FileRecord", "Manifest", "ManifestError", "PageRecord"]
