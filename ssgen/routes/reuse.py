"""The pages of a one-page-per-item route, kept from the last expansion when unchanged.

A kept source's maintained query hands back the very same item objects for unchanged
documents (never mutated), so after a one-post edit 9,999 of 10,000 post pages would be
rebuilt exactly as they were. ``ListPages`` keeps, position by position, each page spec
with the item and neighbours it came from; only the span of the list that is not the
very same objects (``changed_span``, a scan in C) and one page either side of it are
looked at, the rest is spliced in as it was. A spec is reused while its item, its
neighbours, its position class (first or not: the first page carries the unattributed
ids) and everything the route's pages share (site, globals, URL base, type tags, shared
ids) are the same.

With a maintained result, "the same item" is the same stamp (``ssgen.stamp``: renewed
whenever the query makes the item a new object), not the same object: the specs record
their item's and neighbours' stamps (their tokens), the expansion the result's version
(``marker``), so that a memo decoded apart from the items still matches them. Without
stamps (a source that maintains nothing) the tokens are the items themselves, compared
by identity.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import field
from itertools import compress, count
from typing import Any

from ssgen.fastclass import dataclass
from ssgen.memos import site_memo
from ssgen.routes.page import PageMaker, PageSpec, RouteLike
from ssgen.routes.patterns import fill_pattern
from ssgen.shells import filled_all

_PLAIN = (str, int, float, bool, type(None))


@dataclass
class ListPages:
    """One route's last expansion: its items (the result list, never changed), their
    paths and their specs (each with the item, neighbours and first-page flag it was
    made from), by position."""

    shared: tuple[Any, ...] = ()
    items: Sequence[Any] = field(default_factory=list)  # a list or a ``Chunks``
    paths: list[str] = field(default_factory=list)
    # (item's token, previous item's, next item's, first page?, spec) by position.
    specs: list[tuple[Any, Any, Any, bool, PageSpec]] = field(default_factory=list)
    # The ids found in each item (by ``key`` of its token; each entry holds its token):
    # a one-document edit walks one item, its body included, not every item. Kept when
    # the rest resets.
    item_ids: dict[int, tuple[Any, frozenset[str]]] = field(default_factory=dict)
    # The specs alone, by position; the version of the maintained result the items are
    # (its delta's ``version``: ``ssgen.routes.patch``), the query's ids and the
    # unattributed ones.
    pages: list[PageSpec] = field(default_factory=list)
    marker: int | None = None
    ids: frozenset[str] | None = None
    unattributed: frozenset[str] = frozenset()
    stamps: Sequence[int] | None = None  # the items' stamps (None: tokens are the items)


def key(token: Any) -> int:
    """A token's key in ``item_ids``: a stamp itself (an int), else the item's identity
    (its entry holds the item, so the id stays its own; ids and stamps never collide:
    stamps are above 2**64)."""
    return token if type(token) is int else id(token)


def same(token: Any, other: Any) -> bool:
    """Whether two tokens stand for the same item: equal stamps, or the very object."""
    return token is other or (type(token) is int and token == other)

# (route name, id of the site object) -> its last pages; each entry holds the site object
# (``shared[0]``), so the id is not reused while it is kept. A few sites at most (a test
# process builds a site and its clean copy in turn): the oldest is dropped.
_LAST: dict[tuple[str, int], ListPages] = site_memo()
_SITES = 8


def list_pages(ctx: PageMaker, extras: tuple[Any, ...]) -> tuple[ListPages, ListPages]:
    """The route's last pages (empty when what its pages share changed) and a new record.

    ``ctx.data`` is replaced by the last build's globals object when equal by identity of
    its values, so that kept specs and new ones show the same object.
    """
    key = (ctx.route.name, id(ctx.site))
    last = _LAST.pop(key, None)
    if last is not None and last.shared and _same_globals(last.shared[1], ctx.data):
        ctx.data = last.shared[1]
    shared = (ctx.site, ctx.data, ctx.base_url, frozenset(ctx.type_tags), *extras)
    if last is None or not _same(last.shared, shared):
        last = ListPages(item_ids=last.item_ids if last is not None else {})
    fresh = _LAST[key] = ListPages(shared)
    while len(_LAST) > _SITES * 8:
        del _LAST[next(iter(_LAST))]
    return last, fresh


@dataclass
class RoutePaths:
    """A list route's last expansion (``made``), the pages it handed out and each of its
    paths' count (None: not counted yet), kept along by its query's deltas
    (``ssgen.routes.patch.recount``); ``left``: the paths that left the route since the
    expansion that handed out ``before`` (None: not known)."""

    made: ListPages
    pages: list[PageSpec]
    counts: dict[str, int] | None
    before: list[PageSpec] | None = None
    left: set[str] | None = None
    # The places the expansion looked at (sorted) when every other page of ``pages`` is
    # the page ``before`` holds at that place (None: not known).
    places: list[int] | None = None


# The same key -> its paths. Not exported: a new process counts when asked.
_PATHS: dict[tuple[str, int], RoutePaths] = site_memo()


def keep_paths(ctx: PageMaker, paths: RoutePaths) -> None:
    """Note the paths of the route's expansion just made."""
    _PATHS[(ctx.route.name, id(ctx.site))] = paths
    while len(_PATHS) > _SITES * 8:
        del _PATHS[next(iter(_PATHS))]


def take_paths(ctx: PageMaker, last: ListPages) -> RoutePaths | None:
    """The paths of the route's expansion ``last`` (None: not known), to change in place
    (no one else holds them once taken)."""
    found = _PATHS.pop((ctx.route.name, id(ctx.site)), None)
    return found if found is not None and found.made is last else None


def path_set(route: str, site: Any, pages: list[PageSpec]) -> AbstractSet[str] | None:
    """Every path of ``pages`` when they are what the route's last expansion handed out:
    a view of its path counts (the next expansion of the route changes it), counted now
    if not kept. None: they are not."""
    found = _PATHS.get((route, id(site)))
    if found is None or found.pages is not pages:
        return None
    if found.counts is None:
        found.counts = Counter(found.made.paths)
    return found.counts.keys()


def left_paths(route: str, site: Any, pages: list[PageSpec],
               before: list[PageSpec] | None) -> AbstractSet[str] | None:
    """The paths that left the route between the expansion that handed out ``before`` and
    the one that handed out ``pages`` (None: not known)."""
    found = _PATHS.get((route, id(site)))
    if found is None or found.pages is not pages or before is None \
            or found.before is not before:
        return None
    return found.left


def looked_at(pages: list[PageSpec], before: list[PageSpec]) -> list[int] | None:
    """The places of ``pages`` that may hold another page than ``before`` holds there
    (sorted; every other place holds the very same spec), when ``pages`` is what a
    route's last expansion handed out, made from ``before`` by its query's delta; None:
    not known."""
    for found in _PATHS.values():  # a few routes of a few sites
        if found.pages is pages:
            return found.places if found.before is before else None
    return None


def peek(route: str, site: Any) -> ListPages | None:
    """The route's last pages, left in place (``list_pages`` takes them)."""
    return _LAST.get((route, id(site)))


def export(site: Any) -> list[tuple[str, ListPages]]:
    """The last pages of ``site``'s routes, to pickle with the source their items came
    from (``ssgen.build.memo.carry``): a memo of pure functions of those items, valid for
    as long as they are the same objects."""
    return [(name, pages) for (name, owner), pages in _LAST.items() if owner == id(site)]


def adopt(site: Any, exported: list[tuple[str, ListPages]]) -> None:
    """Take unpickled ``export``ed pages for ``site`` (an equal object, this process's)."""
    for name, pages in exported:
        if pages.shared and pages.shared[0] == site:
            pages.shared = (site, *pages.shared[1:])
            pages.item_ids = {key(entry[0]): entry for entry in pages.item_ids.values()}
            _LAST[(name, id(site))] = pages


def _same_globals(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    if old is None or new is None:
        return old is new
    return old.keys() == new.keys() and all(_same_value(old[k], new[k]) for k in new)


def _same_value(old: Any, new: Any) -> bool:
    # A maintained list result comes back as a new list of the very same items.
    return old is new or (type(old) is list and type(new) is list and len(old) == len(new)
                          and all(map(operator.is_, old, new)))


def _same(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    return len(old) == len(new) and all(
        a is b or ((type(a) in _PLAIN or type(a) is frozenset) and type(a) is type(b) and a == b)
        for a, b in zip(old, new, strict=True))


def changed_span(items: Sequence[Any], old: Sequence[Any],
                 differ: Any = operator.is_not) -> tuple[int, int]:
    """The lengths of the common prefix and suffix of two lists, by identity (scanned in
    C; ``differ``: ``operator.ne`` for two lists of stamps), not overlapping in the
    shorter list."""
    shortest = min(len(items), len(old))
    head = next(compress(count(), map(differ, items, old)), shortest)
    tail = next(compress(count(), map(differ, reversed(items), reversed(old))),
                shortest - head)
    return head, min(tail, shortest - head)


def spliced(route: RouteLike, items: Sequence[Any], last: ListPages,
            span: tuple[int, int]) -> list[str]:
    """The items' paths: the last ones outside the changed span, filled in inside it."""
    head, tail = span
    middle = [fill_pattern(route.path, item, route=route.name)
              for item in filled_all(items[head:len(items) - tail])]
    return last.paths[:head] + middle + last.paths[len(last.paths) - tail:]
