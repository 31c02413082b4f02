"""The sitemap of a page set that changes a little between builds (serve's rounds).

``SitemapMemo.files`` returns exactly ``sitemap_files`` of the pages' absolute URLs and
lastmods, keeping each page's URL and ``<url>`` row from the last call: a round that
changes no path and no lastmod returns the last files after two comparisons made in C,
one that retitles a post with a new ``_updatedAt`` rewrites one row and joins the rest.
Pure: the caller keeps the memo (one per output folder) and hands it the whole page set.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet

from ssgen.render.generated import absolute
from ssgen.render.sitemap import MAX_BYTES, files_of_rows, url_row


class SitemapMemo:
    """The last call's pages, their URLs and rows, and the files they made."""

    def __init__(self) -> None:
        self._settings: tuple[str, int, int] | None = None
        self._reset()

    def _reset(self) -> None:
        self._paths: frozenset[str] = frozenset()
        self._stamps: dict[str, str] = {}
        self._locs: dict[str, str] = {}  # page path -> absolute URL
        self._rows: dict[str, bytes] = {}  # page path -> its <url> row, as last stamped
        self._order: list[str] = []  # the page paths, by URL
        self._files: dict[str, bytes] = {}

    @property
    def warm(self) -> bool:
        """Whether it holds the files of an earlier call (a new process's does not)."""
        return bool(self._files)

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
            self._paths = frozenset(paths)
            for path in self._locs.keys() - self._paths:
                del self._locs[path]
                self._rows.pop(path, None)
            for path in self._paths - self._locs.keys():
                self._locs[path] = absolute(base_url, path)
            self._order = sorted(self._paths, key=self._locs.__getitem__)
        if not self._order:
            self._files = {}
            return {}
        rows = self._rows
        missing = [p for p in self._order if p not in rows]
        for path in missing:
            rows[path] = url_row(self._locs[path], lastmods.get(path))
        self._files = files_of_rows(
            [self._locs[p] for p in self._order], [rows[p] for p in self._order],
            [lastmods.get(p) for p in self._order], base_url,
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
