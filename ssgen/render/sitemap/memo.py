"""The sitemap of a page set that changes a little between builds (serve's rounds).

``SitemapMemo.files`` returns exactly ``sitemap_files`` of the pages' absolute URLs and
lastmods, keeping each page's URL and ``<url>`` row from the last call: a round that
changes no path and no lastmod returns the last files after two comparisons made in C,
one that retitles a post with a new ``_updatedAt`` rewrites one row and joins the rest.
``SitemapMemo.changed`` takes the same answer from what changed since the last call
instead (the caller proves the rest the same): no comparison of the whole page set.
Past one file (an index of ``sitemap-N.xml``, each ``max_urls`` URLs), ``changed`` joins
again only the files whose rows changed or moved and hands the others back as the very
``bytes`` objects of the last call (the caller's writer skips those by identity): a
retitle at 138k URLs joins one file of 50k rows, not three.
Pure: the caller keeps the memo (one per output folder) and hands it the page set.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet

from ssgen.render.sitemap import (
    INDEX,
    MAX_BYTES,
    absolute,
    files_of_rows,
    limits,
    part_name,
    parts_index,
    url_row,
    urlset,
)

# One file past an index: its bytes, and the newest lastmod of its rows (or None).
_Part = tuple[bytes, str | None]


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
        # The files past an index when each holds ``max_urls`` rows (the last: the rest),
        # else None (one file, or files cut by size): ``_made_since`` needs it.
        self._parts: list[_Part] | None = None

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
        if paths == self._paths and lastmods == self._stamps and self._files:
            return dict(self._files)
        self._take(paths, lastmods)
        return self._made()

    def prepare(self, paths: AbstractSet[str], lastmods: Mapping[str, str], base_url: str,
                *, max_urls: int, max_bytes: int = MAX_BYTES) -> None:
        """The URLs and rows ``files`` of these arguments would make, made now and the
        files left unjoined (a build's render runs beside: ``ssgen.build.extras.ahead``);
        the memo stays not ``warm``. Nothing on a warm memo, whose rows are its files'."""
        if self._files:
            return
        settings = (base_url, max_urls, max_bytes)
        if settings != self._settings:
            self._reset()
            self._settings = settings
        self._take(paths, lastmods)

    def _take(self, paths: AbstractSet[str], lastmods: Mapping[str, str]) -> None:
        """The rows and lists of ``paths`` with ``lastmods``, reusing the kept ones."""
        base_url = self._settings[0] if self._settings else ""
        same_paths = paths == self._paths
        if lastmods != self._stamps:
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

    def changed(self, entered: Iterable[str], left: Iterable[str],
                restamped: Iterable[str], lastmods: Mapping[str, str]) -> dict[str, bytes]:
        """``files`` of the last call's page set with the paths ``entered`` in it, those
        ``left`` out and the lastmods of ``restamped`` now as in ``lastmods``, every other
        page and lastmod as last given (the caller's proof: the memo is ``warm`` and the
        other paths' membership and lastmods did not change). O(change) but the join."""
        assert self._settings is not None and self._files
        base_url = self._settings[0]
        moves = []  # where rows were dropped or added (the rows before the first stay put)
        stamped = []
        for path in left:
            if path in self._paths:
                moves.append(self._drop(path))
        for path in restamped:
            stamp = lastmods.get(path)
            if self._stamps.get(path) != stamp:
                if stamp is None:
                    del self._stamps[path]
                else:
                    self._stamps[path] = stamp
                if path in self._paths:
                    self._restamp(path, stamp)
                    stamped.append(path)
        for path in entered:
            if path not in self._paths:
                moves.append(self._add(path, absolute(base_url, path), self._stamps.get(path)))
        if not moves and not stamped:
            return dict(self._files)
        # Where the restamped rows are now (an add or drop after a restamp moves them).
        redone = {self._place(path, self._locs[path]) for path in stamped
                  if path in self._paths}
        return self._made_since(min(moves, default=None), redone)

    def _place(self, path: str, loc: str) -> int:
        """Where ``path`` (of URL ``loc``) is, or goes, in the lists by URL."""
        at = bisect_left(self._lists[0], loc)
        if at < len(self._order) and self._lists[0][at] == loc and self._order[at] != path:
            at = self._order.index(path) if path in self._paths else at  # two paths, one URL
        return at

    def _drop(self, path: str) -> int:
        at = self._place(path, self._locs[path])
        locs, rows, stamps = self._lists
        del self._order[at], locs[at], rows[at], stamps[at]
        self._paths.discard(path)
        del self._locs[path]
        self._rows.pop(path, None)
        return at

    def _restamp(self, path: str, stamp: str | None) -> None:
        at = self._place(path, self._locs[path])
        row = self._rows[path] = url_row(self._locs[path], stamp)
        self._lists[1][at], self._lists[2][at] = row, stamp

    def _add(self, path: str, loc: str, stamp: str | None) -> int:
        at = self._place(path, loc)
        row = self._rows[path] = url_row(loc, stamp)
        locs, rows, stamps = self._lists
        self._order.insert(at, path)
        locs.insert(at, loc)
        rows.insert(at, row)
        stamps.insert(at, stamp)
        self._paths.add(path)
        self._locs[path] = loc
        return at

    def _made(self) -> dict[str, bytes]:
        """The files of the rows, all joined afresh."""
        self._parts = None
        if not self._order:
            self._files = {}
            return {}
        assert self._settings is not None
        base_url, max_urls, max_bytes = self._settings
        limit, room = limits(max_urls, max_bytes)
        rows = self._lists[1]
        if len(rows) > limit:
            parts = [self._part(k, limit, room) for k in range(-(-len(rows) // limit))]
            if None not in parts:
                return self._index(parts)  # type: ignore[arg-type]
        self._files = files_of_rows(*self._lists, base_url,
                                    max_urls=max_urls, max_bytes=max_bytes)
        return dict(self._files)

    def _made_since(self, moved: int | None, redone: AbstractSet[int]) -> dict[str, bytes]:
        """The files after a change that moved no row before place ``moved`` (None: none
        moved) and changed the rows at the places ``redone`` in place: the last call's
        files of the other rows are kept (the same objects) while every file holds
        ``max_urls`` rows."""
        assert self._settings is not None
        limit, room = limits(*self._settings[1:])
        last, count = self._parts, -(-len(self._order) // limit)
        if last is None or count < 2:
            return self._made()
        redo = {at // limit for at in redone}
        if moved is not None:
            redo.update(range(moved // limit, count))
        parts = [self._part(k, limit, room) if k in redo or k >= len(last) else last[k]
                 for k in range(count)]
        if None in parts:  # a file past ``max_bytes``: cut by size, as a fresh join does
            return self._made()
        return self._index(parts)  # type: ignore[arg-type]

    def _part(self, k: int, limit: int, room: int) -> _Part | None:
        """The ``k``-th file of ``limit`` rows, or None if its rows pass ``room`` bytes."""
        _, rows, stamps = self._lists
        chunk = rows[k * limit:(k + 1) * limit]
        if sum(map(len, chunk)) > room:
            return None
        return urlset(chunk), max(filter(None, stamps[k * limit:(k + 1) * limit]), default=None)

    def _index(self, parts: list[_Part]) -> dict[str, bytes]:
        assert self._settings is not None
        self._parts = parts
        self._files = {part_name(number): data for number, (data, _) in enumerate(parts, 1)}
        self._files[INDEX] = parts_index([newest for _, newest in parts], self._settings[0])
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
