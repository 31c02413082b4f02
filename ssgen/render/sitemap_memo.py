"""The sitemap of a page set that changes a little between builds (serve's rounds).

``SitemapMemo.files`` returns exactly ``sitemap_files`` of the pages' absolute URLs and
lastmods, keeping each page's URL and ``<url>`` row from the last call: a round that
changes no path and no lastmod returns the last files after two comparisons made in C,
one that retitles a post with a new ``_updatedAt`` rewrites one row and joins the rest.
``SitemapMemo.changed`` takes the same answer from what changed since the last call
instead (the caller proves the rest the same): no comparison of the whole page set.
Pure: the caller keeps the memo (one per output folder) and hands it the page set.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet

from ssgen.render.generated import absolute
from ssgen.render.sitemap import MAX_BYTES, files_of_rows, url_row


class SitemapMemo:
    """The last call's pages, their URLs and rows (also as lists in URL order), and the
    files they made."""

    def __init__(self) -> None:
        self._settings: tuple[str, int, int] | None = None
        self._reset()

    def _reset(self) -> None:
        self._paths: set[str] = set()
        self._stamps: dict[str, str] = {}
        self._locs: dict[str, str] = {}  # page path -> absolute URL
        self._rows: dict[str, bytes] = {}  # page path -> its <url> row, as last stamped
        self._order: list[str] = []  # the page paths, by URL
        self._lists: tuple[list[str], list[bytes], list[str | None]] = ([], [], [])
        self._files: dict[str, bytes] = {}

    def forget(self) -> None:
        """Drop everything (the next call makes the files afresh)."""
        self._settings = None
        self._reset()

    @property
    def warm(self) -> bool:
        """Whether it holds the files of an earlier call (a new process's does not)."""
        return bool(self._files)

    def ready(self, base_url: str, max_urls: int, max_bytes: int = MAX_BYTES) -> bool:
        """Whether ``changed`` may be called: warm, with these settings."""
        return bool(self._files) and self._settings == (base_url, max_urls, max_bytes)

    def files(self, paths: AbstractSet[str], lastmods: Mapping[str, str], base_url: str,
              *, max_urls: int, max_bytes: int = MAX_BYTES) -> dict[str, bytes]:
        """``sitemap_files({absolute(base_url, p): lastmods.get(p) for p in paths}, ...)``."""
        settings = (base_url, max_urls, max_bytes)
        if settings != self._settings:
            self._reset()
            self._settings = settings
        same_paths = paths == self._paths
        same_stamps = lastmods == self._stamps
        if same_paths and same_stamps and self._files:
            return dict(self._files)
        if not same_stamps:
            self._forget_rows(lastmods)
        if not same_paths:
            self._paths = set(paths)
            for path in self._locs.keys() - self._paths:
                del self._locs[path]
                self._rows.pop(path, None)
            for path in self._paths - self._locs.keys():
                self._locs[path] = absolute(base_url, path)
            self._order = sorted(self._paths, key=self._locs.__getitem__)
        rows = self._rows
        for path in [p for p in self._order if p not in rows]:
            rows[path] = url_row(self._locs[path], lastmods.get(path))
        self._lists = ([self._locs[p] for p in self._order], [rows[p] for p in self._order],
                       [lastmods.get(p) for p in self._order])
        return self._made()

    def changed(self, entered: Iterable[str], left: Iterable[str],
                restamped: Iterable[str], lastmods: Mapping[str, str]) -> dict[str, bytes]:
        """``files`` of the last call's page set with the paths ``entered`` in it, those
        ``left`` out and the lastmods of ``restamped`` now as in ``lastmods``, every other
        page and lastmod as last given (the caller's proof: the memo is ``warm`` and the
        other paths' membership and lastmods did not change). O(change) but the join."""
        assert self._settings is not None and self._files
        base_url = self._settings[0]
        touched = False
        for path in left:
            if path in self._paths:
                self._drop(path)
                touched = True
        for path in restamped:
            stamp = lastmods.get(path)
            if self._stamps.get(path) != stamp:
                if stamp is None:
                    del self._stamps[path]
                else:
                    self._stamps[path] = stamp
                if path in self._paths:
                    self._restamp(path, stamp)
                    touched = True
        for path in entered:
            if path not in self._paths:
                self._add(path, absolute(base_url, path), self._stamps.get(path))
                touched = True
        return self._made() if touched else dict(self._files)

    def _place(self, path: str, loc: str) -> int:
        """Where ``path`` (of URL ``loc``) is, or goes, in the lists by URL."""
        at = bisect_left(self._lists[0], loc)
        if at < len(self._order) and self._lists[0][at] == loc and self._order[at] != path:
            at = self._order.index(path) if path in self._paths else at  # two paths, one URL
        return at

    def _drop(self, path: str) -> None:
        at = self._place(path, self._locs[path])
        locs, rows, stamps = self._lists
        del self._order[at], locs[at], rows[at], stamps[at]
        self._paths.discard(path)
        del self._locs[path]
        self._rows.pop(path, None)

    def _restamp(self, path: str, stamp: str | None) -> None:
        at = self._place(path, self._locs[path])
        row = self._rows[path] = url_row(self._locs[path], stamp)
        self._lists[1][at], self._lists[2][at] = row, stamp

    def _add(self, path: str, loc: str, stamp: str | None) -> None:
        at = self._place(path, loc)
        row = self._rows[path] = url_row(loc, stamp)
        locs, rows, stamps = self._lists
        self._order.insert(at, path)
        locs.insert(at, loc)
        rows.insert(at, row)
        stamps.insert(at, stamp)
        self._paths.add(path)
        self._locs[path] = loc

    def _made(self) -> dict[str, bytes]:
        if not self._order:
            self._files = {}
            return {}
        assert self._settings is not None
        base_url, max_urls, max_bytes = self._settings
        self._files = files_of_rows(*self._lists, base_url,
                                    max_urls=max_urls, max_bytes=max_bytes)
        return dict(self._files)

    def _forget_rows(self, lastmods: Mapping[str, str]) -> None:
        """Drop the rows whose lastmod differs from the one they were made with."""
        old = self._stamps
        stale = old.keys() ^ lastmods.keys()
        stale.update(path for path, stamp in lastmods.items() if old.get(path) != stamp)
        for path in stale:
            self._rows.pop(path, None)
        self._stamps = dict(lastmods)


__all__ = ["SitemapMemo"]
