"""The pages of a one-page-per-item route, kept from the last expansion when unchanged.

A kept source's maintained query hands back the very same item objects for unchanged
documents (never mutated), so after a one-post edit 9,999 of 10,000 post pages would be
rebuilt exactly as they were. ``ListPages`` keeps each page spec with the item and
neighbours it came from; a spec is reused while its item, its neighbours, its position
class (first or not: the first page carries the unattributed ids) and everything the
route's pages share (site, globals, URL base, type tags, shared ids) are the same.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ssgen.routes.page import PageMaker, PageSpec, RouteLike
from ssgen.routes.patterns import fill_pattern

_PLAIN = (str, int, float, bool, type(None))


@dataclass
class ListPages:
    """One route's last pages by item identity (each entry holds its item and neighbours)."""

    shared: tuple[Any, ...] = ()
    specs: dict[int, tuple[Any, Any, Any, bool, PageSpec]] = field(default_factory=dict)
    paths: dict[int, tuple[Any, str]] = field(default_factory=dict)
    # The ids found in each item (by identity; each entry holds its item): a one-document
    # edit walks one item, its body included, not every item. Kept when the rest resets.
    item_ids: dict[int, tuple[Any, frozenset[str]]] = field(default_factory=dict)


# (route name, id of the site object) -> its last pages; each entry holds the site object
# (``shared[0]``), so the id is not reused while it is kept. A few sites at most (a test
# process builds a site and its clean copy in turn): the oldest is dropped.
_LAST: dict[tuple[str, int], ListPages] = {}
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


def path_of(route: RouteLike, item: Any, last: ListPages, fresh: ListPages) -> str:
    """The item's page path, as last time when it is the same item."""
    known = last.paths.get(id(item))
    if known is None or known[0] is not item:
        known = (item, fill_pattern(route.path, item, route=route.name))
    fresh.paths[id(item)] = known
    return known[1]
