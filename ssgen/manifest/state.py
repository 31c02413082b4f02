"""The manifest's record of build state: the documents a build saw, the output files
ssgen owns, the journal of files about to be written and the pages whose last build
failed (mixed into ``Manifest``).

The documents table is what an incremental build diffs a local source against; the
files table drives stale-file sweeps, deploys and the check for outside damage (each
file's size and mtime when written); the journal lets the build after a crash find the
files a killed build wrote; failures make the next build retry.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from operator import itemgetter
from typing import Any, Protocol

from ssgen.manifest import schema
from ssgen.manifest.schema import Failure, FileRecord, chunks

_FILE_SELECT = "SELECT relpath, hash, kind, size, mtime_ns FROM files"
# (relpath, hash, kind) or (relpath, hash, kind, size, mtime_ns)
FileEntry = tuple[str, str, str] | tuple[str, str, str, int, int]


class _Store(Protocol):
    """What the state tables need of the manifest they are mixed into."""

    def _writing(self, what: str) -> AbstractContextManager[sqlite3.Connection]: ...

    def _rows(self, sql: str, params: Iterable[Any] = (), *, what: str) -> list[Any]: ...

    def set_files(self, entries: Iterable[FileEntry]) -> None: ...

    def remove_files(self, relpaths: Iterable[str]) -> None: ...


class StateMixin:
    """Documents, owned files and failures on ``Manifest``."""

    @contextmanager
    def unsynced(self: _Store) -> Iterator[None]:
        """No fsync inside (SQLite's ``synchronous = OFF``; call it outside a transaction).

        For a full build's record stage, whose commit checkpoints megabytes of WAL: the
        checkpoint's fsyncs were ~70 ms of 16,000 pages. A killed process still leaves
        the manifest whole (SQLite: only an OS crash or power loss can then cost the
        last transactions or corrupt the file, which a full build rebuilds anyway)."""
        self._rows("PRAGMA synchronous = OFF", what="turn fsync off")
        try:
            yield
        finally:
            self._rows("PRAGMA synchronous = NORMAL", what="turn fsync on")

    def set_autocheckpoint(self: _Store, pages: int) -> None:
        """SQLite's ``wal_autocheckpoint`` for this connection: a commit that leaves the
        WAL over ``pages`` pages checkpoints it (0: never; PostgreSQL: nothing)."""
        self._rows(f"PRAGMA wal_autocheckpoint = {int(pages)}", what="configure checkpoints")

    def set_cache(self: _Store, kib: int) -> None:
        """SQLite's page cache for this connection, at most ``kib`` KiB (filled only as
        pages are read; PostgreSQL: nothing)."""
        self._rows(f"PRAGMA cache_size = -{int(kib)}", what="size the page cache")

    def has_pages(self: _Store) -> bool:
        """Whether any page is recorded (one row read, whatever the table's size)."""
        return bool(self._rows("SELECT 1 FROM pages LIMIT 1", what="read pages"))

    # -- documents (what the last build saw, for diffing a local source) ---------

    def documents(self: _Store, ids: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
        """Recorded document ``_id`` -> (``_type``, content hash): all, or those of ``ids``."""
        if ids is None:
            rows = self._rows("SELECT id, type, hash FROM documents", what="read documents")
            return {row[0]: (row[1], row[2]) for row in rows}
        found: dict[str, tuple[str, str]] = {}
        for chunk in chunks(sorted(set(ids))):
            sql = f"SELECT id, type, hash FROM documents WHERE id IN ({','.join('?' * len(chunk))})"
            for row in self._rows(sql, chunk, what="read documents"):
                found[row[0]] = (row[1], row[2])
        return found

    def set_documents(
        self: _Store,
        docs: Mapping[str, tuple[str, str]],
        removed: Iterable[str] = (),
        *,
        replace: bool = False,
    ) -> None:
        """Record id -> (type, hash), forget ``removed``; ``replace`` forgets all others first."""
        rows = [(doc_id, doc_type, digest) for doc_id, (doc_type, digest) in docs.items()]
        with self._writing("record documents") as conn:
            if replace:
                conn.execute("DELETE FROM documents")
            conn.executemany("DELETE FROM documents WHERE id = ?", [(i,) for i in removed])
            conn.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)", rows)

    # -- files and failures ----------------------------------------------------

    def set_file(self: _Store, relpath: str, hash: str, kind: str) -> None:
        """Record an output file ssgen owns (kind: page, static or generated)."""
        self.set_files([(relpath, hash, kind)])

    def set_files(self: _Store, entries: Iterable[FileEntry]) -> None:
        """Record many owned output files as (relpath, hash, kind) or (relpath, hash,
        kind, size, mtime_ns): the file's stat when written (-1 when not given)."""
        # In key order (stable: of two rows of one file the last still wins), the b-tree
        # fills page by page.
        rows = sorted([(*entry, -1, -1)[:5] for entry in entries], key=itemgetter(0))
        if not {row[2] for row in rows} <= schema.FILE_KINDS:
            raise ValueError(f"file kind must be one of {sorted(schema.FILE_KINDS)}")
        with self._writing("record files") as conn:
            conn.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", rows)

    def set_file_stats(self: _Store, entries: Iterable[tuple[str, int, int]]) -> None:
        """Update the recorded (size, mtime_ns) of owned files, as (relpath, size, mtime_ns)."""
        rows = [(size, mtime, rel) for rel, size, mtime in entries]
        with self._writing("record file stats") as conn:
            conn.executemany("UPDATE files SET size = ?, mtime_ns = ? WHERE relpath = ?", rows)

    def file_stats(self: _Store) -> list[tuple[str, int, int]]:
        """Every owned file's (relpath, size, mtime_ns) as recorded: what the damage check
        compares with each file's stat (no hash or kind strings made for 16k files)."""
        return self._rows("SELECT relpath, size, mtime_ns FROM files", what="read files")

    def file_rows(self: _Store) -> list[tuple[str, str, str, int, int]]:
        """Every owned file as a bare (relpath, hash, kind, size, mtime_ns) row (cheap at
        100k files: no record objects)."""
        return self._rows(f"{_FILE_SELECT}", what="read files")

    # -- the write journal -----------------------------------------------------

    def journal_add(self: _Store, entries: Iterable[tuple[str, str]]) -> None:
        """Note output files (relpath, kind) about to be written; commit before writing."""
        rows = sorted(entries, key=itemgetter(0))  # key order, as ``set_files``
        with self._writing("write journal") as conn:
            conn.executemany("INSERT OR IGNORE INTO journal VALUES (?, ?)", rows)

    def journal(self: _Store) -> dict[str, str]:
        """The files noted as about to be written and not recorded since: relpath -> kind."""
        return dict(self._rows("SELECT relpath, kind FROM journal", what="read journal"))

    def journal_clear(self: _Store, relpaths: Iterable[str] | None = None, *,
                      kind: str | None = None) -> None:
        """Forget journal entries: those of ``relpaths`` (recorded now), of one ``kind``,
        or all."""
        with self._writing("clear journal") as conn:
            if kind is not None:
                conn.execute("DELETE FROM journal WHERE kind = ?", (kind,))
            elif relpaths is None:
                conn.execute("DELETE FROM journal")
            else:
                conn.executemany("DELETE FROM journal WHERE relpath = ?",
                                 [(rel,) for rel in relpaths])

    def remove_file(self: _Store, relpath: str) -> None:
        """Forget an output file."""
        self.remove_files([relpath])

    def remove_files(self: _Store, relpaths: Iterable[str]) -> None:
        """Forget many output files."""
        rows = [(relpath,) for relpath in relpaths]
        with self._writing("remove files") as conn:
            conn.executemany("DELETE FROM files WHERE relpath = ?", rows)

    def files(self: _Store, kind: str | None = None, *,
              exclude: str | None = None) -> dict[str, FileRecord]:
        """Owned output files by relpath: all, of one ``kind``, or all but one kind."""
        sql = _FILE_SELECT
        params: tuple[str, ...] = ()
        if kind is not None:
            sql, params = f"{sql} WHERE kind = ?", (kind,)
        elif exclude is not None:
            sql, params = f"{sql} WHERE kind != ?", (exclude,)
        rows = self._rows(sql, params, what="read files")
        return {row[0]: FileRecord(*row) for row in rows}

    def files_starting(self: _Store, prefix: str) -> dict[str, FileRecord]:
        """Owned output files whose relpath starts with ``prefix`` (a non-empty folder
        prefix such as ``_img/``), by relpath: a range of the table's key, not a scan."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self._rows(f"{_FILE_SELECT} WHERE relpath >= ? AND relpath < ?", (prefix, end),
                          what="read files")
        return {row[0]: FileRecord(*row) for row in rows if row[0].startswith(prefix)}

    def files_at(self: _Store, relpaths: Iterable[str]) -> dict[str, FileRecord]:
        """The records of those of ``relpaths`` that are owned files, by relpath."""
        found: dict[str, FileRecord] = {}
        for chunk in chunks(sorted(set(relpaths))):
            marks = ",".join("?" * len(chunk))
            sql = f"{_FILE_SELECT} WHERE relpath IN ({marks})"
            for row in self._rows(sql, chunk, what="read files"):
                found[row[0]] = FileRecord(*row)
        return found

    def record_failure(self: _Store, path: str, route: str, error: str) -> None:
        """Remember that a page failed to build."""
        with self._writing("record failure") as conn:
            conn.execute("INSERT OR REPLACE INTO failures VALUES (?, ?, ?)", (path, route, error))

    def clear_failure(self: _Store, path: str) -> None:
        """Forget a page's failure (it built)."""
        with self._writing("clear failure") as conn:
            conn.execute("DELETE FROM failures WHERE path = ?", (path,))

    def failures(self: _Store) -> list[Failure]:
        """Pages whose last build failed, sorted by path."""
        sql = "SELECT path, route, error FROM failures ORDER BY path"
        return [Failure(*row) for row in self._rows(sql, what="read failures")]
