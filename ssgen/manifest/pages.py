"""A process-wide copy of each manifest's page index, kept in step with writes, and the
page reads of ``Manifest`` that use it (mixed into ``Manifest``).

``page_paths()``, ``pages_for_route()`` and ``pages_at()`` read many page rows (10k
rows: several ms each, a few times per rebuild; a paginated route's rebuild asks for
the record of each of its pages), while serve's rebuilds change a handful. The copy is
valid for one generation of the pages table (meta ``pages_generation``, replaced by
every transaction that writes pages). A commit by this process applies its page writes
to the copy; one by another process leaves the copy on an old generation, and the next
read loads the table again.

The copy starts as every page's path and route (two columns: ~7 ms at 16k pages, where
all seven took ~30 ms); the other columns are read for the pages asked for
(``pages_at``), or for all of them the first time all are needed (``page_files``).
Those two columns may come from elsewhere (``offer``: a new ``ssgen build``'s output
check reads them in its child, ``ssgen.build.damage_ahead``); an offered copy is taken
only when it is of the generation the table has when first needed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Collection, Iterable, KeysView
from dataclasses import field
from typing import Any, Protocol

from ssgen.fastclass import dataclass
from ssgen.manifest.schema import PAGE_SELECT, PageRecord, chunks, page_record
from ssgen.memos import site_memo

GENERATION_KEY = "pages_generation"
Row = tuple[Any, ...]  # a ``PAGE_SELECT`` row: path, route, params (JSON), ... file
# In the covering index's order (no sort step): each route's paths sorted.
_ROUTES_SELECT = "SELECT path, route FROM pages ORDER BY route, path"
_ANY_PAGE_OF_ROUTE = "SELECT 1 FROM pages WHERE route = ? LIMIT 1"
# Rows read by one scan of the table when at least 1/WHOLE_SHARE of them are asked for
# (10k pages: the scan ~23 ms, the same rows by chunks of IN (...) ~80 ms).
WHOLE_SHARE = 4


@dataclass
class PageIndex:
    """Every recorded page's route, as of one generation of the pages table, and the
    full rows of the pages read so far (of all of them once ``complete``)."""

    generation: str
    routes: dict[str, str]  # path -> route, every recorded page
    rows: dict[str, Row] = field(default_factory=dict)
    complete: bool = False
    _by_route: dict[str, set[str]] | None = None  # made on first use
    _records: dict[str, PageRecord] = field(default_factory=dict)  # decoded on first use

    @classmethod
    def grouped(cls, generation: str, groups: Iterable[tuple[str, list[str]]]) -> PageIndex:
        """The index of each route's paths, given route by route in the table's order
        (``offer``), with ``by_route`` made from them (a set each, not a loop per path)."""
        routes: dict[str, str] = {}
        by_route: dict[str, set[str]] = {}
        for route, paths in groups:
            routes.update(dict.fromkeys(paths, route))
            by_route[route] = set(paths)
        return cls(generation, routes, _by_route=by_route)

    def by_route(self) -> dict[str, set[str]]:
        """Each route's recorded paths."""
        if self._by_route is None:
            found: dict[str, set[str]] = {}
            for path, route in self.routes.items():
                found.setdefault(route, set()).add(path)
            self._by_route = found
        return self._by_route

    def records(self, paths: Iterable[str],
                fetch: Callable[[list[str] | None], list[Row]]) -> dict[str, PageRecord]:
        """The records of those of ``paths`` that are recorded, by path; the rows not
        read yet are read with ``fetch`` (the table's rows of those paths; None: all of
        them, when many are missing)."""
        rows, decoded, routes = self.rows, self._records, self.routes
        if not self.complete:
            if not isinstance(paths, Collection):
                paths = list(paths)
            missing = [path for path in paths if path in routes and path not in rows]
            if missing and len(missing) * WHOLE_SHARE >= len(routes):
                self.fill(fetch(None))  # one scan: a third of the IN (...) lookups' time
                rows = self.rows
            elif missing:
                rows.update((row[0], row) for row in fetch(missing))
        found: dict[str, PageRecord] = {}
        for path in paths:
            record = decoded.get(path)
            if record is None:
                row = rows.get(path)
                if row is None:
                    continue
                record = decoded[path] = page_record(row)
            found[path] = record
        return found

    def fill(self, rows: list[Row]) -> None:
        """Take every page's row (the table's, of this generation)."""
        self.rows = {row[0]: row for row in rows}
        self.complete = True

    def apply(self, writes: list[tuple[str, Row | None]]) -> None:
        """``(path, row)`` recorded, or ``(path, None)`` removed, in order."""
        by_route = self._by_route
        for path, row in writes:
            old = self.routes.pop(path, None)
            self.rows.pop(path, None)
            self._records.pop(path, None)
            if old is not None and by_route is not None:
                by_route[old].discard(path)
            if row is not None:
                self.routes[path] = row[1]
                self.rows[path] = row
                if by_route is not None:
                    by_route.setdefault(row[1], set()).add(path)
@dataclass
class PageWrites:
    """The page writes of one open transaction of one ``Manifest``."""

    writes: list[tuple[str, Row | None]] = field(default_factory=list)
    rolled_back: bool = False  # a savepoint undid some: the writes list is not the truth

    @property
    def touched(self) -> bool:
        """Whether the transaction wrote (or tried to write) pages."""
        return bool(self.writes) or self.rolled_back


_INDEXES: dict[str, PageIndex] = site_memo()
# manifest key -> the copy read elsewhere, made when first needed (None: not usable)
_OFFERED: dict[str, Callable[[], PageIndex | None]] = site_memo()
_LOCK = threading.Lock()


def new_generation() -> str:
    """A generation id no other transaction has written."""
    return uuid.uuid4().hex


def cached(key: str, generation: str | None) -> PageIndex | None:
    """The copy for the manifest at ``key`` if it is of this ``generation``."""
    with _LOCK:
        index = _INDEXES.get(key)
    return index if index is not None and generation and index.generation == generation \
        else None


def offer(key: str, index: Callable[[], PageIndex | None] | None) -> None:
    """A copy of the paths and routes of the manifest at ``key`` read by another
    process, for the next read of the table to take if it is of the generation current
    then (``index`` is called at most once; None withdraws an offer)."""
    with _LOCK:
        if index is None:
            _OFFERED.pop(key, None)
        else:
            _OFFERED[key] = index


def store(key: str, index: PageIndex) -> None:
    """Keep ``index`` as the copy of the manifest at ``key``."""
    with _LOCK:
        _INDEXES[key] = index


def committed(key: str, before: str | None, after: str, writes: PageWrites) -> None:
    """After a commit that moved the pages table from generation ``before`` to ``after``:
    bring the copy along, or drop it when it was not of ``before`` or cannot follow."""
    with _LOCK:
        index = _INDEXES.get(key)
        if index is None:
            return
        if writes.rolled_back or not before or index.generation != before:
            del _INDEXES[key]
            return
        index.apply(writes.writes)
        index.generation = after


class _Store(Protocol):
    """What the page reads need of the manifest they are mixed into."""

    _lock: Any  # a threading.RLock: the manifest's calls are serialised by it
    _key: str
    _page_writes: PageWrites

    def _rows(self, sql: str, params: Iterable[Any] = (), *, what: str) -> list[Any]: ...

    def get_meta(self, key: str) -> str | None: ...


class PagesMixin:
    """``pages_at``, ``page_paths``, ``page_files``, ``page_count`` and
    ``pages_for_route`` on ``Manifest``."""

    def pages_at(self: _Store, paths: Iterable[str]) -> dict[str, PageRecord]:
        """The records of those of ``paths`` the manifest knows, by path (from this
        process's copy when it is current, else chunked lookups)."""
        with self._lock:  # a commit on another thread must not land between read and keep
            index = _cached_index(self)
            if index is not None:
                return index.records(paths, lambda missing: _fetch(self, missing))
            found: dict[str, PageRecord] = {}
            for row in _fetch(self, sorted(set(paths))):
                record = page_record(row)
                found[record.path] = record
            return found

    def page_paths(self: _Store) -> KeysView[str]:
        """Every recorded page's path: a view of this process's copy (a commit may change it)."""
        return _page_index(self).routes.keys()

    def page_files(self: _Store) -> dict[str, str]:
        """Every recorded page's output file -> its path."""
        with self._lock:
            index = _page_index(self)
            if not index.complete:
                index.fill(self._rows(PAGE_SELECT, what="read pages"))
            return {row[6]: path for path, row in index.rows.items()}

    def page_count(self: _Store) -> int:
        """How many pages are recorded."""
        return len(_page_index(self).routes)

    def without_pages(self: _Store, routes: Iterable[str]) -> set[str]:
        """Those of ``routes`` that have no recorded page (an index lookup each)."""
        return {route for route in routes
                if not self._rows(_ANY_PAGE_OF_ROUTE, (route,), what="read pages")}

    def pages_for_route(self: _Store, route: str) -> set[str]:
        """The paths of the pages a route produced."""
        with self._lock:
            return set(_page_index(self).by_route().get(route, ()))


def _page_index(manifest: _Store) -> PageIndex:
    """Every page's path and route: this process's copy when it is of the current
    generation (and this transaction wrote no pages yet), else read from the table."""
    with manifest._lock:
        generation = manifest.get_meta(GENERATION_KEY)
        touched = manifest._page_writes.touched
        index = None if touched else cached(manifest._key, generation)
        if index is not None:
            return index
        index = None if touched or not generation else _taken(manifest._key, generation)
        if index is None:
            routes = dict(manifest._rows(_ROUTES_SELECT, what="read pages"))
            index = PageIndex(generation or "", routes)
        if generation and not touched:
            store(manifest._key, index)
        return index


def _taken(key: str, generation: str) -> PageIndex | None:
    """The copy offered for ``key`` if it is of ``generation`` (the offer is used up)."""
    with _LOCK:
        offered = _OFFERED.pop(key, None)
    index = offered() if offered is not None else None
    return index if index is not None and index.generation == generation else None


def _cached_index(manifest: _Store) -> PageIndex | None:
    """This process's copy, only when it is current (never read the table for it)."""
    with manifest._lock:
        if manifest._page_writes.touched:
            return None
        return cached(manifest._key, manifest.get_meta(GENERATION_KEY))


def _fetch(manifest: _Store, paths: list[str] | None) -> list[Row]:
    """The table's rows of ``paths`` (those recorded; None: every row)."""
    if paths is None:
        return manifest._rows(PAGE_SELECT, what="read pages")
    found: list[Row] = []
    for chunk in chunks(paths):
        marks = ",".join("?" * len(chunk))
        found += manifest._rows(f"{PAGE_SELECT} WHERE path IN ({marks})", chunk,
                                what="read pages")
    return found
