"""Paginated ``each`` routes: which items a build re-queries, and every page path they have.

An ``each`` route with ``paginate_by`` (docs/configuration.md) gives each item several
pages (``/authors/ada/``, ``/authors/ada/page/2/``, ...); how many depends on the item's
per-page query. A build that re-queries only some items still needs every page path of
the route (the planner removes the recorded pages that are not among them), so a
``Book`` keeps, per route, each item's page paths as last expanded in this process.
An item with none kept (a new item) is re-queried, and so is the item of any later page
(``.../page/3/``) that a tag, a webhook path or a failure reaches. Only an item's first
page carries the tags of what its query read (``routes.paginate``). A new process starts
its book from the pages the manifest recorded for the route (``seed``): an item the
change does not reach has the pages the last recorded build gave it.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import field
from typing import Any

from ssgen.config.load import Config, RouteConfig
from ssgen.fastclass import dataclass
from ssgen.memos import site_memo
from ssgen.routes.paginate import document_paths
from ssgen.routes.patterns import page_path


@dataclass
class Book:
    """One route's items' page paths: base path -> its pages, and page -> base."""

    route: RouteConfig
    pages: dict[str, tuple[str, ...]] = field(default_factory=dict)
    base_of: dict[str, str] = field(default_factory=dict)
    # Every page path of the items last updated (``update``'s answer while no item's
    # pages and no item changed: not a union of every page per round).
    every: tuple[list[str], frozenset[str]] | None = None

    def wanted(self, bases: Sequence[str], position: dict[str, int],
               paths: AbstractSet[str]) -> set[int]:
        """Indexes of the items to re-query besides those whose first page ``paths``
        names: those with no pages kept, and those with a later page in ``paths``."""
        picked = {index for index, base in enumerate(bases) if base not in self.pages}
        later = paths & self.base_of.keys() if len(paths) < len(self.base_of) \
            else self.base_of.keys() & paths
        picked.update(position[base] for path in later
                      if (base := self.base_of[path]) in position)
        return picked

    def seed(self, bases: Sequence[str], recorded: AbstractSet[str]) -> None:
        """An empty book's pages from the route's ``recorded`` paths: each item whose
        first page is recorded gets it and its recorded ``page/2/``, ``page/3/``... in
        a row (the others stay unknown, so they are re-queried)."""
        if self.pages or not recorded:
            return
        for base in bases:
            if base in recorded and base not in self.pages:
                paths = [base]
                while (path := page_path(base, len(paths) + 1)) in recorded:
                    paths.append(path)
                self.pages[base] = tuple(paths)
                self.base_of.update(dict.fromkeys(paths, base))

    def update(self, bases: Sequence[str], wanted: Sequence[int],
               values: Sequence[Any]) -> frozenset[str]:
        """Record the re-queried items' pages; every page path of the route now."""
        route, fresh = self.route, dict[str, tuple[str, ...]]()
        for index, value in zip(wanted, values, strict=True):
            base = bases[index]
            paths = document_paths(route.name, route.paginate_by or "", route.paginate or 1,
                                   base, value)
            # Two items with one path: both are re-queried (a clash), each has its pages.
            fresh[base] = tuple(dict.fromkeys(fresh.get(base, ()) + paths))
        current = set(bases)
        every = self.every
        for base in [*fresh, *(self.pages.keys() - current)]:
            if fresh.get(base) != self.pages.get(base):  # most items keep their pages
                every = None
                for path in self.pages.pop(base, ()):
                    self.base_of.pop(path, None)
        for base, paths in fresh.items():
            if base not in self.pages:
                self.pages[base] = paths
                self.base_of.update(dict.fromkeys(paths, base))
        if every is None or every[0] != bases:
            every = self.every = (list(bases), frozenset().union(
                *(self.pages.get(base, ()) for base in current)))
        return every[1]


    def ordered(self) -> list[str]:
        """Every page path of the items last updated, in the items' order and each
        item's pages in theirs: the order of a whole expansion of the route."""
        if self.every is None:
            return []
        return list(dict.fromkeys(
            path for base in self.every[0] for path in self.pages.get(base, ())))


# (site folder, config hash, route name) -> its book. A few sites at most per process.
_BOOKS: dict[tuple[str, str, str], Book] = site_memo()
_SITES = 64


def book(config: Config, route: RouteConfig) -> Book | None:
    """The route's book when it is paginated (None otherwise)."""
    if not route.paginate:
        return None
    key = (str(config.site_dir), config.hash, route.name)
    found = _BOOKS.get(key)
    if found is None:
        found = _BOOKS[key] = Book(route)
        while len(_BOOKS) > _SITES:
            del _BOOKS[next(iter(_BOOKS))]
    return found


def forget() -> None:
    """Drop every book (what a new process starts from)."""
    _BOOKS.clear()
