"""One route's query results -> its ``PageSpec``s with their tags (pure).

The three route modes of docs/configuration.md (list, single/paginated, ``each``) and
the tag rules the package docstring (``ssgen.routes.spec``) sets out.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any, cast

from ssgen.errors import ConfigError
from ssgen.groq.chunks import listed, sequence
from ssgen.routes.page import PageMaker, PageResult, PageSpec, RouteLike
from ssgen.routes.paginate import expand_document, expand_paginated
from ssgen.routes.patch import MOST, Entry, patch, recount
from ssgen.routes.patterns import (
    fill_pattern,
    kind_of,
    lookup,
    placeholders,
)
from ssgen.routes.reuse import (
    ListPages,
    RoutePaths,
    changed_span,
    keep_paths,
    list_pages,
    peek,
    same,
    spliced,
    take_paths,
)
from ssgen.routes.reuse import key as token_key
from ssgen.routes.spec.ids import find_ids
from ssgen.shells import filled, filled_all, ids_of

if TYPE_CHECKING:
    from ssgen.groq.maintained import Delta

# Past this many unattributed ids a route's first page alone carries them: every page
# carrying them all made the tag rows quadratic (200 items without `_id`: 40,600 rows).
UNATTRIBUTED_LIMIT = 32
# What a list route's page gets of its neighbours (when its templates read any of it).
NEIGHBOUR_KEYS = frozenset({"prev", "next", "prev_url", "next_url"})


def expand_route(
    route: RouteLike,
    result_value: Any,
    *,
    result_ids: Iterable[str],
    scanned_types: frozenset[str] | None,
    site: Any = None,
    data: Mapping[str, Any] | None = None,
    base_url: str = "",
    page_results: Sequence[PageResult | None] | None = None,
    page_scanned_types: frozenset[str] | None = frozenset(),
    page_ref_types: frozenset[str] | None = frozenset(),
    neighbours: bool = True,
    delta: Delta | None = None,
) -> list[PageSpec]:
    """Expand one route into pages.

    ``result_value``/``result_ids``/``scanned_types`` describe the route's ``query`` (or, for
    an ``each`` route, its ``each`` query); ``scanned_types`` None means any type. For an
    ``each`` route, ``page_results[i]`` is the per-page query result for ``result_value[i]``
    (see `each_params`) and ``page_scanned_types`` the per-page query's types;
    ``result_value`` may be a ``Chunks`` (``ssgen.groq.chunks``) where a list is expected;
    ``page_ref_types``: the types of its scans keyed by ``references()``, left out of
    ``page_scanned_types``: a page gets a ``ref:<id>`` tag per id its result's ``refs``
    name, or these types' tags when its result does not report them.
    ``base_url`` defaults to ``site.base_url``. ``neighbours``: a list route's pages get
    their neighbouring items (``NEIGHBOUR_KEYS``); False when no template reads them,
    so that a neighbour's edit does not change a page's data hash for nothing.
    ``delta``: how a kept source's maintained ``result_value`` differs from the last
    one (``ssgen.groq.maintained.delta``): a list route then looks at the pages it names.
    """
    base = base_url or str(getattr(site, "base_url", "") or "")
    ctx = PageMaker(route, site, data, base, _type_tags(scanned_types))
    if route.each is not None:
        if page_results is None:
            raise ConfigError(f"route {route.name!r}: an `each` route needs its per-page results")
        ctx.type_tags |= _type_tags(page_scanned_types)
        return _expand_each(ctx, each_params(route, result_value), page_results,
                            page_ref_types)
    ids = frozenset(result_ids)
    if placeholders(route.path):
        if route.paginate:
            if not route.paginate_by:
                raise ConfigError(f"route {route.name!r}: `paginate` on a path with {{field}} "
                                  "placeholders needs `paginate_by` (the array to split)")
            return _expand_list_paginated(ctx, listed(result_value), ids)
        return _expand_list(ctx, result_value, ids, neighbours, delta)
    if route.paginate:
        return expand_paginated(ctx, result_value, ids, route.paginate, delta)
    value = listed(result_value)  # the page's data: a JSON list
    return [ctx.page(route.path, value, ids, fields=value)]


def each_params(route: RouteLike, each_value: Any, *, first: int = 0) -> list[dict[str, Any]]:
    """The ``$params`` for each page of an ``each`` route: the items of its ``each`` result
    (``first``: the index of the first one in the whole result, for errors)."""
    if not isinstance(each_value, list):
        raise ConfigError(
            f"route {route.name!r}: `each` must return a list of objects, got {kind_of(each_value)}"
        )
    params: list[dict[str, Any]] = []
    for index, item in enumerate(each_value, first):
        if not isinstance(item, dict):
            raise ConfigError(
                f"route {route.name!r}: `each` item {index} is {kind_of(item)}, expected an object"
            )
        params.append(dict(item))
    return params


def _check_items(route: RouteLike, value: Any, delta: Delta | None = None,
                 checked: int | None = None) -> Sequence[dict[str, Any]]:
    """``value`` when it is a list of objects (else a ``ConfigError`` naming the route).
    ``checked``: the version of a maintained result found to be one before (the last
    expansion's): when ``delta`` is of ``value`` from that one, only the items it names
    new are looked at (the others are the very objects then checked)."""
    if not sequence(value):
        raise ConfigError(
            f"route {route.name!r}: path {route.path!r} has {{field}} placeholders, so its "
            f"query must return a list (one page per item), got {kind_of(value)}"
        )
    if checked is not None and delta is not None and delta.result is value \
            and checked in (delta.version, delta.base_version) \
            and len(delta.inserted) + len(delta.changed) <= MOST:
        named = [value[at] for doc_id in delta.inserted | delta.changed
                 if (at := delta.index(doc_id)) is not None] if checked != delta.version else []
        if all(map(isinstance, named, repeat(dict))):
            return value
    if not all(map(isinstance, value, repeat(dict))):
        index = next(i for i, item in enumerate(value) if not isinstance(item, dict))
        raise ConfigError(
            f"route {route.name!r}: item {index} of the query result is "
            f"{kind_of(value[index])}, expected an object with the path fields"
        )
    return cast("Sequence[dict[str, Any]]", value)


def _expand_list_paginated(ctx: PageMaker, value: Any, ids: frozenset[str]) -> list[PageSpec]:
    """A list route paginated per item (``paginate_by``): each item's pages, its first
    one tagged with the ids found in the item (plus, for the route's first item, the
    ids no item holds), as ``_expand_list`` tags an item's page."""
    route = ctx.route
    items = filled_all(_check_items(route, value))  # every item is read below
    unattributed = ids - set(ids_of(items))
    shared = unattributed if len(unattributed) <= UNATTRIBUTED_LIMIT else frozenset()
    pages: list[PageSpec] = []
    names = placeholders(route.path)
    for index, item in enumerate(items):
        base = fill_pattern(route.path, item, route=route.name)
        item_ids = frozenset(find_ids(item)) | (unattributed if index == 0 else shared)
        params = {name: lookup(item, name) for name in names}
        pages += expand_document(ctx, base, item, item_ids, fields=item, params=params)
    return pages


def _expand_list(ctx: PageMaker, value: Any, ids: frozenset[str],
                 neighbours: bool = True, delta: Delta | None = None) -> list[PageSpec]:
    route = ctx.route
    shown = peek(route.name, ctx.site)
    value = _check_items(route, value, delta, shown.marker if shown is not None else None)
    unattributed = _unattributed(ctx, value, ids, delta)
    shared = unattributed if len(unattributed) <= UNATTRIBUTED_LIMIT else frozenset()
    last, fresh = list_pages(ctx, (unattributed, shared, neighbours))
    if len(last.pages) != len(last.specs):  # not of this form: nothing to reuse
        last = ListPages(item_ids=last.item_ids)
    fresh.ids, fresh.unattributed = ids, unattributed
    # The items' stamps, when the delta is of this very result (a maintained query's).
    stamps = delta.stamps if delta is not None and delta.result is value \
        and len(delta.stamps) == len(value) else None
    fresh.marker = delta.version if delta is not None else None
    size = len(value)
    known = last.item_ids
    patched = patch(last, value, delta, lambda item: fill_pattern(
        route.path, filled(item), route=route.name), neighbours)
    was = take_paths(ctx, last)
    tokens = value if stamps is None else stamps
    if patched is not None:
        pages = _finish(ctx, (value, tokens), patched.lists, sorted(patched.places),
                        (unattributed, shared, neighbours), fresh, known)
        counts, left = recount(was.counts if was else None, patched.out, patched.came)
        keep_paths(ctx, RoutePaths(fresh, pages, counts, was.pages if was else None, left,
                                   sorted(patched.places) if patched.aligned else None))
        return pages
    # Only the span that differs from the last expansion (by stamp, else by identity)
    # and, when pages show their neighbours, one page either side of it is looked at.
    before = len(last.items)
    head, tail = changed_span(value, last.items) if stamps is None or last.stamps is None \
        or len(last.stamps) != before else changed_span(stamps, last.stamps, operator.ne)
    paths = spliced(route, value, last, (head, tail))
    low, high = (max(0, head - 1), min(size, size - tail + 1)) if neighbours \
        else (head, size - tail)
    if head == 0 and size:  # a new first page: it carries the unattributed ids
        high = max(high, 1)
    end = before - (size - high)
    lists = (last.specs[:low] + [None] * (high - low) + last.specs[end:],
             last.pages[:low] + [None] * (high - low) + last.pages[end:], paths)
    old = {token_key(entry[0]): entry for entry in last.specs[low:end]}
    pages = _finish(ctx, (value, tokens), lists, range(low, high),
                    (unattributed, shared, neighbours), fresh, known, old)
    keep_paths(ctx, RoutePaths(fresh, pages, None))
    return pages


def _finish(ctx: PageMaker, items: tuple[Sequence[Any], Sequence[Any]],
            lists: tuple[list[Any], list[Any], list[str]],
            places: Iterable[int], shares: tuple[frozenset[str], frozenset[str], bool],
            fresh: ListPages, known: dict[int, tuple[Any, frozenset[str]]],
            old: dict[int, Entry] | None = None) -> list[PageSpec]:
    """Look at the pages at ``places`` (the others are as last expanded): a page is made
    again unless its item, neighbours and first-page flag are the same (by their
    tokens: ``items`` is the result and its tokens, the items' stamps or the items).
    ``shares``: the unattributed ids, those every page gets, whether pages show their
    neighbours."""
    value, tokens = items
    specs, pages, paths = lists
    route, size = ctx.route, len(value)
    neighbours = shares[2]
    names = placeholders(route.path)
    for index in places:
        item, token = value[index], tokens[index]
        prev = tokens[index - 1] if index and neighbours else None
        after = tokens[index + 1] if index < size - 1 and neighbours else None
        entry = specs[index] if old is None else old.get(token_key(token))
        if entry is None or not same(entry[0], token) or not same(entry[1], prev) \
                or not same(entry[2], after) or entry[3] != (index == 0):
            shared = shares[0] if index == 0 else shares[1]
            filled_all(value[max(0, index - 1):index + 2])  # it and its neighbours: read
            item_ids = _item_ids(item, token, known)
            if shared:
                item_ids = item_ids | shared
            params = {name: lookup(item, name) for name in names}
            extra = _neighbours(value, paths, index) if neighbours else None
            spec = ctx.page(paths[index], item, item_ids, fields=item, params=params,
                            extra=extra)
            entry = (token, prev, after, index == 0, spec)
        specs[index], pages[index] = entry, entry[4]
    # Not copied: a route's result list is never changed once handed out.
    fresh.items, fresh.paths, fresh.specs, fresh.pages = value, paths, specs, pages
    fresh.stamps = tokens if tokens is not value else None
    fresh.item_ids = known if len(known) <= 2 * size + 64 else {
        at: found for at in map(token_key, tokens) if (found := known.get(at)) is not None}
    return pages  # a new list (the next expansion copies it before changing it)


def _unattributed(ctx: PageMaker, value: Sequence[Any], ids: frozenset[str],
                  delta: Delta | None) -> frozenset[str]:
    """The ids the query read that are no item's ``_id``: the last ones when the query
    read the same ids and its delta changed no item's ``_id`` (no set of every item's
    ``_id`` built again)."""
    last = peek(ctx.route.name, ctx.site)
    if last is not None and delta is not None and last.ids is ids \
            and delta.version == last.marker:
        return last.unattributed  # the same result as last time
    if last is not None and delta is not None and last.ids is ids \
            and last.marker is not None and delta.base_version == last.marker \
            and not delta.inserted and not delta.removed \
            and len(delta.changed | delta.moved) <= MOST and all(
                _same_id(delta, doc_id, value) for doc_id in delta.changed | delta.moved):
        return last.unattributed
    return ids - set(ids_of(value))


def _same_id(delta: Delta, doc_id: str, value: Sequence[Any]) -> bool:
    old, new = delta.old_index(doc_id), delta.index(doc_id)
    return old is not None and new is not None \
        and delta.base[old].get("_id") == value[new].get("_id")


def _item_ids(item: Any, token: Any,
              known: dict[int, tuple[Any, frozenset[str]]]) -> frozenset[str]:
    at = token_key(token)
    entry = known.get(at)
    if entry is None or not same(entry[0], token):
        entry = known[at] = (token, frozenset(find_ids(item)))
    return entry[1]


def _neighbours(items: Sequence[Any], paths: list[str], index: int) -> dict[str, Any]:
    """A list route page's ``prev``/``next`` items and URL paths, in the query's order."""
    last = index + 1 < len(items)
    return {
        "prev": items[index - 1] if index else None,
        "prev_url": paths[index - 1] if index else None,
        "next": items[index + 1] if last else None,
        "next_url": paths[index + 1] if last else None,
    }


def _expand_each(
    ctx: PageMaker, params: list[dict[str, Any]], results: Sequence[PageResult | None],
    ref_types: frozenset[str] | None = frozenset(),
) -> list[PageSpec]:
    route = ctx.route
    if len(results) != len(params):
        raise ConfigError(
            f"route {route.name!r}: {len(params)} `each` items but {len(results)} page results"
        )
    pages = []
    for item, result in zip(params, results, strict=True):
        if result is None or result.value is None:
            continue
        path = fill_pattern(route.path, item, route=route.name)
        # Its top level only: what it holds is filled where the page's data is hashed
        # or rendered, past the memos' identity checks (an author's thousands of posts).
        value = filled(result.value)
        fields = {**value, **item} if isinstance(value, dict) else item
        # The very trace object when the item holds no ids (an author's 2,000 posts: no
        # copy, and the page's memos compare it by identity).
        found = find_ids(item)
        ids = result.ids if not found and isinstance(result.ids, frozenset) \
            else frozenset(result.ids).union(found)
        more = _ref_tags(result.refs, ref_types)
        if route.paginate:
            nested = result.nested.get(route.paginate_by or "") if result.nested else None
            pages += expand_document(ctx, path, value, ids, fields=fields,
                                     params=item, delta=nested, more_tags=more)
            continue
        pages.append(ctx.page(path, value, ids, fields=fields, params=item,
                              more_tags=more))
    return pages


def _ref_tags(refs: frozenset[str] | None,
              types: frozenset[str] | None) -> frozenset[str]:
    """An ``each`` page's tags for its scans keyed by ``references()``: ``ref:<id>`` per
    id looked up; their types when the ids were not reported (none when it has none)."""
    if types is not None and not types:
        return frozenset()
    if refs is None:
        return frozenset(_type_tags(types))
    return frozenset(f"ref:{ref}" for ref in refs)


def _type_tags(types: frozenset[str] | None) -> set[str]:
    if types is None:
        return {"type:*"}
    return {f"type:{t}" for t in types}


__all__ = ["NEIGHBOUR_KEYS", "UNATTRIBUTED_LIMIT", "each_params", "expand_route"]
