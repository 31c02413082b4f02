"""A re-queried route's path set and the paths that left it since the last recorded build.

Owns what lets the planner find a route's removed pages without diffing every recorded
page of the route (``ssgen.build.plan._removed``): the paths that left it, known when
the kept memo (``ssgen.build.memo.kept``) holds the very pages this process's last
recorded build of the route kept (that build recorded, and no build wrote pages since)
and the route's path set is the very object it had then (none left), or from a list
route's expansion (``ssgen.routes.reuse.left_paths``). Also the kept pages of an
``each`` route re-queried in part (``merged``). Anything else: not known (the full diff).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import cast

from ssgen.config.load import Config, RouteConfig
from ssgen.memos import site_memo
from ssgen.routes.page import PageSpec
from ssgen.routes.paginate import page_path_set
from ssgen.routes.reuse import left_paths

_PATH = operator.attrgetter("path")

# Per site, config and route: the pages the kept memo holds for the route after this
# process's last build of it (``Collected.specs``), and its path set then (immutable).
_SEEN: dict[tuple[str, str, str], tuple[list[PageSpec], frozenset[str]]] = site_memo()
_MOST = 256
# By the ``id`` of a list ``merged`` returned: the list, each page's place in it by path,
# and its path set (the next round's ``before`` is that very list, as the kept memo took it).
_PLACES: dict[int, tuple[list[PageSpec], dict[str, int], frozenset[str]]] = site_memo()


def list_paths(route: RouteConfig, pages: list[PageSpec]) -> AbstractSet[str]:
    """The paths of a list, single or paginated route's pages: for a paginated route
    without ``{field}``, the one set of its page count's paths (the same object while it
    has as many pages: ``left_since``)."""
    if route.paginate and not route.placeholders:
        return page_path_set(route.path, len(pages))
    return set(map(_PATH, pages))


def left_since(config: Config, route: str, made: tuple[list[PageSpec], AbstractSet[str]],
               before: list[PageSpec] | None,
               specs: list[PageSpec] | None) -> AbstractSet[str] | None:
    """The paths that left ``route`` since the last recorded build of it (None: not
    known). ``made``: its pages and path set now; ``before``: what the kept memo holds
    for it; ``specs``: what this build keeps for it (``Collected.specs``)."""
    pages, paths = made
    key = (str(config.site_dir), config.hash, route)
    seen = _SEEN.pop(key, None)
    if specs is not None and isinstance(paths, frozenset):
        _SEEN[key] = (specs, paths)
        while len(_SEEN) > _MOST:
            del _SEEN[next(iter(_SEEN))]
    if seen is not None and before is not None and seen[0] is before and seen[1] is paths:
        return frozenset()
    return left_paths(route, config.site, pages, before)


def merged(before: list[PageSpec] | None, pages: list[PageSpec],
           paths: AbstractSet[str],
           order: Callable[[], Sequence[str]] | None = None) -> list[PageSpec]:
    """The pages of an ``each`` route that a build re-queried in part, with the last
    kept pages of its other items (as recorded: not re-queried), in their places, so
    that the next round does not plan every page of the route again (``kept.split``
    matches by identity, at the same places when the lists are as long). A last page
    whose path left the route (``paths``: all of them now) is dropped: kept, it would
    match the very same spec when its item comes back to that path (a slug x -> y -> x,
    the spec memoised by value), and the page, removed meanwhile, would not be made.
    Pages with a path new to the route (an item grew a page, a new item) go where a
    whole expansion puts them, ``order()``: every page path in the route's order
    (``slices.Book.ordered``), when given (else at the end).

    The common round (the route's paths as when ``before`` was made, each page re-queried
    at a path of it) copies ``before`` and puts those pages at their places (``_PLACES``),
    instead of a pass of Python over every page (~20k author and category pages at
    100,000 posts: 17 ms a round)."""
    if not before:
        return []
    known = _PLACES.pop(id(before), None)
    # ``is`` first: ``==`` compares two frozensets whole even when identical (the
    # route's ~30,000 paths at 100k, every round); equal, the route's own set is kept.
    if known is not None and known[0] is before \
            and (known[2] is paths or known[2] == paths):
        at = list(map(known[1].get, map(_PATH, pages)))  # in C: ~5,000 pages at 100k
        if None not in at:
            return _placed((known[0], known[1], paths if type(paths) is frozenset
                            else known[2]), cast("list[int]", at), pages)
    made = {page.path: page for page in pages}
    kept = [made.pop(page.path, page) for page in before if page.path in paths]
    if not made:
        places = {page.path: at for at, page in enumerate(kept)}
        if len(places) == len(kept):  # one page a path: a page's place is its path's
            _remember(kept, places, frozenset(places))
        return kept
    if order is None:
        return kept + list(made.values())
    # Rare (an item's page count or the items changed), and then one pass: at the end,
    # a round that re-expands the whole route would find every page after it moved.
    made.update((page.path, page) for page in kept)
    placed = [made.pop(path) for path in order() if path in made]
    return placed + list(made.values())  # any the order did not name: at the end, as before


def _placed(known: tuple[list[PageSpec], dict[str, int], frozenset[str]], at: list[int],
            pages: list[PageSpec]) -> list[PageSpec]:
    """A copy of the list ``known`` holds with ``pages`` at the places ``at``."""
    kept = list(known[0])
    for place, page in zip(at, pages, strict=True):
        kept[place] = page
    _remember(kept, known[1], known[2])
    return kept


def places_of(pages: list[PageSpec] | None) -> dict[str, int] | None:
    """Each path's place in ``pages``, a list ``merged`` returned (None: not known)."""
    known = _PLACES.get(id(pages))
    return known[1] if known is not None and known[0] is pages else None


def _remember(kept: list[PageSpec], places: dict[str, int], paths: frozenset[str]) -> None:
    _PLACES[id(kept)] = (kept, places, paths)
    while len(_PLACES) > _MOST:
        del _PLACES[next(iter(_PLACES))]
