"""The manifest's record of the site's links and sitemap dates (mixed into ``Manifest``).

- ``lastmods()`` / ``set_lastmods(changed, removed)``: each page's sitemap ``<lastmod>``,
  kept for the pages a build does not re-query.
- The link checker's state: per checked HTML file its fragment ids and broken links
  (``link_state``, ``set_link_files``, ``remove_link_files``, ``broken_links``), the link
  graph by target (``linking_to(targets)``: the files that link to any of them) and the
  cache of external URL checks (``external_results``, ``set_external_results``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ssgen.manifest.schema import chunks, dumps, loads

# relpath -> (ids, broken links, link targets)
LinkFile = tuple[list[str], list[Any], Iterable[str]]


class _Store(Protocol):
    def _writing(self, what: str) -> AbstractContextManager[sqlite3.Connection]: ...

    def _rows(self, sql: str, params: Iterable[Any] = (), *, what: str) -> list[Any]: ...


class LinksMixin:
    """Sitemap lastmods, the link graph and the external-link cache on ``Manifest``."""

    def lastmods(self: _Store) -> dict[str, str]:
        """Every page path -> its recorded sitemap lastmod (pages without one are absent)."""
        return dict(self._rows("SELECT path, lastmod FROM page_lastmod", what="read lastmods"))

    def set_lastmods(self: _Store, changed: Mapping[str, str], removed: Iterable[str]) -> None:
        """Record path -> lastmod for ``changed``; forget ``removed``."""
        with self._writing("record lastmods") as conn:
            conn.executemany("DELETE FROM page_lastmod WHERE path = ?", [(p,) for p in removed])
            conn.executemany("INSERT OR REPLACE INTO page_lastmod VALUES (?, ?)",
                             sorted(changed.items()))

    def link_ids(self: _Store, relpaths: Iterable[str]) -> dict[str, list[str]]:
        """The recorded fragment ids of those checked files the manifest knows."""
        found: dict[str, list[str]] = {}
        for chunk in chunks(sorted(set(relpaths))):
            sql = (f"SELECT relpath, ids FROM link_files WHERE relpath IN"
                   f" ({','.join('?' * len(chunk))})")
            for relpath, ids in self._rows(sql, chunk, what="read link state"):
                found[relpath] = loads(ids, f"ids of {relpath!r}")
        return found

    def linking_to(self: _Store, targets: Iterable[str]) -> set[str]:
        """The checked files with a link to any of ``targets`` (decoded URL paths)."""
        found: set[str] = set()
        for chunk in chunks(sorted(set(targets))):
            sql = (f"SELECT relpath FROM link_edges WHERE target IN"
                   f" ({','.join('?' * len(chunk))})")
            found.update(row[0] for row in self._rows(sql, chunk, what="read link graph"))
        return found

    def set_link_files(self: _Store, files: Mapping[str, LinkFile], *,
                       replace: bool = False) -> None:
        """Record each checked file's ids, broken links and link targets (its edges are
        replaced); ``replace`` forgets every other file first (a full check)."""
        with self._writing("record link state") as conn:
            if replace:
                conn.execute("DELETE FROM link_files")
                conn.execute("DELETE FROM link_edges")
            else:
                conn.executemany("DELETE FROM link_edges WHERE relpath = ?",
                                 [(rel,) for rel in files])
            conn.executemany("INSERT OR REPLACE INTO link_files VALUES (?, ?, ?)", [
                (rel, dumps(ids, rel), dumps(broken, rel))
                for rel, (ids, broken, _) in files.items()])
            conn.executemany("INSERT OR IGNORE INTO link_edges VALUES (?, ?)", [
                (target, rel) for rel, (_, _, targets) in files.items() for target in targets])

    def remove_link_files(self: _Store, relpaths: Iterable[str]) -> None:
        """Forget checked files that no longer exist."""
        rows = [(rel,) for rel in relpaths]
        with self._writing("remove link state") as conn:
            conn.executemany("DELETE FROM link_files WHERE relpath = ?", rows)
            conn.executemany("DELETE FROM link_edges WHERE relpath = ?", rows)

    def broken_links(self: _Store) -> dict[str, list[Any]]:
        """Every checked file with broken links -> its recorded broken links."""
        rows = self._rows("SELECT relpath, broken FROM link_files WHERE broken != '[]'",
                          what="read link state")
        return {rel: loads(broken, f"broken links of {rel!r}") for rel, broken in rows}

    def link_file_count(self: _Store) -> int:
        """How many HTML files the link state covers."""
        return int(self._rows("SELECT COUNT(*) FROM link_files", what="count links")[0][0])

    def external_results(self: _Store, urls: Iterable[str],
                         since: float) -> dict[str, tuple[int, str]]:
        """Cached url -> (status, error) of checks made at or after ``since``."""
        found: dict[str, tuple[int, str]] = {}
        for chunk in chunks(sorted(set(urls))):
            sql = (f"SELECT url, status, error FROM link_external WHERE checked >= ? AND url IN"
                   f" ({','.join('?' * len(chunk))})")
            for url, status, error in self._rows(sql, [since, *chunk], what="read links"):
                found[url] = (int(status), str(error))
        return found

    def set_external_results(self: _Store, results: Mapping[str, tuple[int, str]],
                             checked: float) -> None:
        """Cache url -> (status, error), checked at ``checked`` (Unix seconds)."""
        with self._writing("record external links") as conn:
            conn.executemany("INSERT OR REPLACE INTO link_external VALUES (?, ?, ?, ?)",
                             [(url, s, e, checked) for url, (s, e) in sorted(results.items())])


__all__ = ["LinkFile", "LinksMixin"]
