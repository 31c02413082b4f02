"""The manifest's path history: which document each page path served, for redirects
(mixed into ``Manifest``).

One row per path ever published by a page that belongs to a document (``HistoryRow``):
the route, the document whose page was last recorded there, the build sequence numbers
when that began and when it was last recorded, and whether a page is at the path now.
A path that loses its page keeps its row (``live`` 0): that is where a redirect or a
410 comes from. The invariant the build keeps: a live row's document owns the page at
its path (a page recorded without a document removes the row).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol

from ssgen.manifest.schema import chunks


class HistoryRow(NamedTuple):
    """One path of the history."""

    path: str
    route: str
    doc_id: str
    first_seen: int
    last_seen: int
    live: int


_SELECT = "SELECT path, route, doc_id, first_seen, last_seen, live FROM path_history"
# Rewrites a row only when its owner changed or it comes back to life, so re-recording an
# unchanged page costs a lookup.
_UPSERT = (
    "INSERT INTO path_history (path, route, doc_id, first_seen, last_seen, live)"
    " VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT(path) DO UPDATE SET route = excluded.route,"
    " doc_id = excluded.doc_id, first_seen = excluded.first_seen,"
    " last_seen = excluded.last_seen, live = 1"
    " WHERE (route, doc_id, live) != (excluded.route, excluded.doc_id, excluded.live)"
)


class _Store(Protocol):
    def _writing(self, what: str) -> AbstractContextManager[sqlite3.Connection]: ...

    def _rows(self, sql: str, params: Iterable[Any] = (), *, what: str) -> list[Any]: ...


class HistoryMixin:
    """Path history on ``Manifest``."""

    def note_paths(self: _Store, owned: Iterable[tuple[str, str, str]],
                   unowned: Iterable[str] = (), removed: Iterable[str] = (), *,
                   full: bool = False) -> None:
        """After pages were recorded: ``owned`` (path, route, doc id) pages, ``unowned``
        page paths (no document: their rows go), ``removed`` paths (rows stay, not live).
        ``full``: every row whose path has no recorded page is marked not live."""
        with self._writing("record path history") as conn:
            seq = int(conn.execute("SELECT coalesce(max(last_seen), 0) FROM path_history")
                      .fetchone()[0]) + 1
            conn.executemany(_UPSERT, [(p, r, d, seq, seq) for p, r, d in owned])
            conn.executemany("DELETE FROM path_history WHERE path = ?",
                             [(p,) for p in unowned])
            conn.executemany("UPDATE path_history SET live = 0 WHERE path = ? AND live = 1",
                             [(p,) for p in removed])
            if full:
                conn.execute("UPDATE path_history SET live = 0 WHERE live = 1 AND NOT EXISTS"
                             " (SELECT 1 FROM pages WHERE pages.path = path_history.path)")

    def has_history(self: _Store) -> bool:
        """Whether any path is recorded."""
        return bool(self._rows("SELECT 1 FROM path_history LIMIT 1", what="read path history"))

    def gone_paths(self: _Store) -> list[HistoryRow]:
        """The rows of paths that no longer have a page (redirect or 410 sources)."""
        return [HistoryRow(*row) for row in
                self._rows(f"{_SELECT} WHERE live = 0", what="read path history")]

    def live_paths_of(self: _Store, doc_ids: Iterable[str]) -> list[HistoryRow]:
        """The live rows of these documents (their current pages)."""
        found: list[HistoryRow] = []
        for chunk in chunks(sorted(set(doc_ids))):
            # Filtered on live here: on doc_id alone the lookup uses its index, not live's.
            sql = f"{_SELECT} WHERE doc_id IN ({','.join('?' * len(chunk))})"
            found += [HistoryRow(*row) for row in self._rows(sql, chunk,
                                                              what="read path history")
                      if row[5]]
        return found

    def history(self: _Store) -> list[HistoryRow]:
        """Every row, by path (to copy the history into another manifest)."""
        return [HistoryRow(*row) for row in
                self._rows(f"{_SELECT} ORDER BY path", what="read path history")]

    def set_history(self: _Store, rows: Iterable[HistoryRow]) -> None:
        """Replace the whole history with ``rows``."""
        with self._writing("replace path history") as conn:
            conn.execute("DELETE FROM path_history")
            conn.executemany("INSERT INTO path_history (path, route, doc_id, first_seen,"
                             " last_seen, live) VALUES (?, ?, ?, ?, ?, ?)",
                             [tuple(row) for row in rows])
