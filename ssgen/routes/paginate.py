"""Paginated routes -> one page per slice of the route's list (pure, memoised per route).

A paginated route is re-expanded whenever one of its documents changes, and it has a
page per ``paginate`` items: 500 pages for 10k posts at 20 a page. A kept source's
maintained result hands back the same item objects for unchanged documents, so this
module keeps each route's last expansion and hands back the same ``PageSpec`` for a
page whose items are the same objects and whose paginator and shared context are
equal: the planner then knows that page in O(1) (``plan.page_data_hash``), and a
one-post edit costs the pages it moved, not the route's length.

A route with ``{field}`` placeholders (``each``, or a list query) paginates per document
(``expand_document``): ``paginate_by`` names the array of each page's object that is
split, and each document's pages (``/authors/ada/``, ``/authors/ada/page/2/``) get the
object with that array replaced by their slice, plus the same ``paginator``. They are
memoised the same way, per document, with the rest of the object (the *shared* part)
compared too. Only the first page of a document carries the ids and ``type:`` tags its
query read: any change that reaches them re-queries the document and re-expands all of
its pages together.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ssgen.errors import ConfigError
from ssgen.fastclass import dataclass
from ssgen.groq.chunks import sequence
from ssgen.groq.values import same_json
from ssgen.memos import site_memo
from ssgen.routes.page import PageMaker, PageSpec
from ssgen.routes.patterns import item_name, kind_of, page_path

if TYPE_CHECKING:
    from ssgen.groq.maintained import Delta

# Above this many items named by a delta, the list is scanned instead.
MOST = 64


@dataclass
class _Expansion:
    """A paginated route's last expansion and what it was made from."""

    inputs: tuple[Any, ...]
    site: Any
    data: Any
    ids: frozenset[str]
    items: Sequence[Any]  # the route's list (never changed once handed out: not copied)
    pages: list[PageSpec]
    shared: Any = None  # per document: the object less its split array
    marker: Any = None  # the maintained result ``items`` are (its delta's ``result``)
    # That result's version and its items' stamps (``ssgen.stamp``):
    # the same as the marker's identity and the items', for a memo decoded apart.
    version: int | None = None
    stamps: Sequence[int] | None = None

    def reusable(self, inputs: tuple[Any, ...], site: Any, data: Any) -> bool:
        """Whether pages made then can stand for pages made now (same route settings,
        page count and total; equal site and globals)."""
        return (
            self.inputs == inputs
            and (self.site is site or self.site == site)
            and (self.data is data or same_json(self.data, data))
        )

    def changed(self, items: Sequence[Any], ids: frozenset[str], size: int,
                delta: Delta | None = None) -> set[int]:
        """Indexes of the pages whose items are not the same objects as then (none when
        ``items`` is the very list, from the query's delta when it is of the list this
        expansion was made from, else one pass in C over the list, then a jump to each
        changed item), and the first page when the ids the query read changed (they are
        its tags)."""
        pages = set() if self.ids is ids or self.ids == ids else {0}
        if items is self.marker or (delta is not None and delta.result is items
                                    and delta.version == self.version):
            return pages  # a kept list is never changed once handed out
        found = self._from_delta(size, delta)
        if found is not None:
            return pages | found
        if delta is not None and delta.result is items and self.stamps is not None \
                and len(delta.stamps) == len(items):
            return pages | self._scan(delta.stamps, size, self.stamps, operator.eq)
        return pages | self._scan(items, size, self.items, operator.is_)

    def _from_delta(self, size: int, delta: Delta | None) -> set[int] | None:
        """The pages of the items ``delta`` names changed or moved (a move: the pages
        between its old and new place); None: the delta is not of this expansion's list,
        or it inserted or removed items (the count, on every page, changed too)."""
        if delta is None or not (delta.base is self.marker or (
                self.version is not None and delta.base_version == self.version)) \
                or len(delta.touched) > MOST or delta.inserted or delta.removed:
            return None
        pages: set[int] = set()
        for doc_id in delta.changed | delta.moved:
            old, new = delta.old_index(doc_id), delta.index(doc_id)
            if old is None or new is None:
                return None
            pages.update(range(min(old, new) // size, max(old, new) // size + 1))
        return pages

    def _scan(self, items: Sequence[Any], size: int, then: Sequence[Any],
              same_as: Any) -> set[int]:
        """The pages holding an item that is not the object at its place then (the
        item's stamp not the stamp then: ``same_as`` ``operator.eq`` over stamps)."""
        pages: set[int] = set()
        same = list(map(same_as, items, then))
        if len(items) != len(then):
            same.extend([False] * abs(len(items) - len(then)))
        at = 0
        while True:
            try:
                at = same.index(False, at)
            except ValueError:
                return pages
            pages.add(at // size)
            at = (at // size + 1) * size


# (route name, path pattern, id of the site object: each entry holds it) -> its last
# expansion. Reuse also needs every input equal; a few sites are kept (a test process
# builds a site and its clean copy in turn), the oldest dropped.
_LAST: dict[tuple[str, str, int], _Expansion] = site_memo()
_KEEP = 1024  # routes and documents (an author's pages are one entry)


def export(site: Any) -> list[tuple[str, str, _Expansion]]:
    """The last expansions of ``site``'s paginated routes (see ``reuse.export``)."""
    return [(name, path, last) for (name, path, owner), last in _LAST.items()
            if owner == id(site)]


def adopt(site: Any, exported: list[tuple[str, str, _Expansion]]) -> None:
    """Take unpickled ``export``ed expansions for ``site`` (an equal object)."""
    for name, path, last in exported:
        if last.site == site:
            last.site = site
            _LAST[(name, path, id(site))] = last


def expand_paginated(ctx: PageMaker, value: Any, ids: frozenset[str], size: int,
                     delta: Delta | None = None) -> list[PageSpec]:
    """The pages of a paginated route: ``size`` items each, with a ``paginator``;
    ``delta``: how a maintained ``value`` differs from the last (``expand_route``)."""
    route = ctx.route
    if not sequence(value):
        raise ConfigError(
            f"route {route.name!r}: `paginate` needs a query that returns a list, "
            f"got {kind_of(value)}"
        )
    if not route.path.endswith("/"):
        raise ConfigError(f"route {route.name!r}: a paginated path must end with '/'")
    count = max(1, math.ceil(len(value) / size))
    urls = _page_urls(route.path, count)
    inputs = (route.template, tuple(route.tags), size, ctx.base_url, frozenset(ctx.type_tags),
              count, len(value))
    key = (route.name, route.path, id(ctx.site))
    last = _LAST.pop(key, None)
    if last is not None and not last.reusable(inputs, ctx.site, ctx.data):
        last = None
    # The pages of a paginated route are always re-queried together (one query), so the
    # documents it read only need to reach one of them: the first page carries them and
    # brings the whole route back into scope. Tagging every page would store
    # pages x documents rows (1.2M at 10k documents) for no extra precision.
    doc_tags = _doc_tags(ids)
    reused: list[PageSpec] = []  # the last build's pages, when they can stand for these
    changed: set[int] = set()
    if last is not None:
        reused, changed = last.pages, last.changed(value, ids, size, delta)
    pages: list[PageSpec] = reused.copy() if reused else []
    for index in sorted(changed) if reused else range(count):
        items = value[index * size : (index + 1) * size]
        page = _page(ctx, urls, index + 1, items, ids, doc_tags, len(value))
        if reused:
            pages[index] = page
        else:
            pages.append(page)
    _LAST[key] = _Expansion(inputs, ctx.site, ctx.data, ids, value, pages,
                            marker=delta.result if delta is not None else None,
                            version=delta.version if delta is not None else None,
                            stamps=_stamps_of(value, delta))
    while len(_LAST) > _KEEP:
        del _LAST[next(iter(_LAST))]
    return pages


def _page(ctx: PageMaker, urls: list[str], number: int, items: list[Any], ids: frozenset[str],
          doc_tags: frozenset[str], total: int) -> PageSpec:
    paginator = _paginator(urls, number, items, total)
    return ctx.page(
        urls[number - 1],
        items,
        ids if number == 1 else (),
        fields=None,
        params={"page": number},
        extra={"paginator": paginator},
        doc_tags=doc_tags if number == 1 else frozenset(),
    )


def expand_document(ctx: PageMaker, base: str, value: Any, ids: frozenset[str], *,
                    fields: Any, params: dict[str, Any],
                    delta: Delta | None = None,
                    more_tags: frozenset[str] = frozenset()) -> list[PageSpec]:
    """The pages of one document of a route paginated per document (see the module doc):
    ``base`` is its first page's path, ``value`` its object, ``ids`` what its query read;
    ``delta``: how the split array, a kept source's maintained nested list, differs from
    the one before its last change (``QueryResult.nested``): only the pages of the items
    it names are made again, without a scan of the array. ``more_tags``: the first page's
    tags beside its type tags (an ``each`` page's ``ref:`` tags)."""
    route = ctx.route
    size, by = route.paginate or 1, route.paginate_by or ""
    items = split_array(route.name, by, value, base)
    if delta is not None and delta.result is not items:
        delta = None  # not of this very list: its places may not be this list's
    shared = {key: part for key, part in value.items() if key != by}
    count = max(1, math.ceil(len(items) / size))
    urls = _page_urls(base, count)
    inputs = (route.template, tuple(route.tags), size, by, ctx.base_url,
              frozenset(ctx.type_tags), count, len(items), params, more_tags)
    key = (route.name, base, id(ctx.site))
    last = _LAST.pop(key, None)
    changed: set[int] = set(range(count))
    if last is not None and last.reusable(inputs, ctx.site, ctx.data) \
            and _same_shared(last.shared, shared):
        changed = last.changed(items, ids, size, delta)
    # The last pages, those changed made again (no Python step per unchanged page).
    pages: list[PageSpec] = last.pages.copy() if last is not None and len(changed) < count \
        else [None] * count  # type: ignore[list-item]
    for index in sorted(changed):
        part = list(items[index * size:(index + 1) * size])  # a list of chunks' too
        paginator = _paginator(urls, index + 1, part, len(items))
        first = index == 0
        pages[index] = ctx.page(
            urls[index], {**shared, by: part},
            ids if first else (), fields=fields, params=params,
            extra={"paginator": paginator}, doc_tags=None if first else frozenset(),
            types=first, more_tags=more_tags)
    # The marker is the very list: a later delta whose base it is starts from these pages
    # (a maintained list is never changed once handed out; this one is kept alive here,
    # and not copied when a delta says it is one: an author's 20,000 posts at 100k).
    kept = items if delta is not None else last.items if last is not None \
        and last.marker is items else list(items)
    _LAST[key] = _Expansion(inputs, ctx.site, ctx.data, ids, kept, pages, shared,
                            marker=items, version=delta.version if delta is not None else
                            last.version if last is not None and last.marker is items else None,
                            stamps=_stamps_of(items, delta) if delta is not None else
                            last.stamps if last is not None and last.marker is items else None)
    while len(_LAST) > _KEEP:
        del _LAST[next(iter(_LAST))]
    return pages


def _stamps_of(items: Sequence[Any], delta: Delta | None) -> Sequence[int] | None:
    """The stamps of ``items`` when ``delta`` is of that very list (None: not known)."""
    if delta is None or delta.result is not items or len(delta.stamps) != len(items):
        return None
    return delta.stamps


def split_array(route: str, by: str, value: Any, base: str) -> Sequence[Any]:
    """The array ``paginate_by`` names in a page's object (null: no items; a kept list:
    its ``Chunks``, whose slices are lists); a missing field or one that is not an array
    is a ConfigError naming the route and key."""
    where = f"route {route!r}: paginate_by = {by!r}"
    if not isinstance(value, dict):
        raise ConfigError(f"{where} needs each page's query to return an object, got "
                          f"{kind_of(value)} for {base!r}")
    if by not in value:
        raise ConfigError(f"{where}: the object of {base!r} ({item_name(value)}) has no "
                          f"field {by!r}: project it (e.g. {{..., \"{by}\": *[...]}})")
    items: Sequence[Any] | None = value[by]
    if items is None:
        return []
    if not sequence(items):
        raise ConfigError(f"{where}: field {by!r} of {base!r} ({item_name(value)}) is "
                          f"{kind_of(items)}, not an array")
    return items


def document_paths(route: str, by: str, size: int, base: str, value: Any) -> tuple[str, ...]:
    """The paths of one document's pages (none for a null object)."""
    if value is None:
        return ()
    count = max(1, math.ceil(len(split_array(route, by, value, base)) / size))
    return tuple(_page_urls(base, count))


def _same_shared(old: Any, new: dict[str, Any]) -> bool:
    return isinstance(old, dict) and old.keys() == new.keys() and all(
        old[key] is part or same_json(old[key], part) for key, part in new.items())


def _paginator(urls: list[str], number: int, items: list[Any], total: int) -> dict[str, Any]:
    count = len(urls)
    return {
        "items": items,
        "number": number,
        "pages": count,
        "total": total,
        "prev_url": urls[number - 2] if number > 1 else None,
        "next_url": urls[number] if number < count else None,
        "urls": urls,
    }


@lru_cache(maxsize=16)
def _doc_tags(ids: frozenset[str]) -> frozenset[str]:
    # A kept source hands back the same trace object while a list's documents are the
    # same ones: their 10k tags are not formatted again for every rebuild.
    return frozenset(f"doc:{i}" for i in ids)


@lru_cache(maxsize=64)
def page_path_set(path: str, count: int) -> frozenset[str]:
    """The paths of a paginated route's ``count`` pages (``expand_paginated``), as one
    object while kept (a caller may take an unchanged object for unchanged paths)."""
    return frozenset(_page_urls(path, count))


@lru_cache(maxsize=1024)
def _page_urls(path: str, count: int) -> list[str]:
    # One list per route and page count, shared by rebuilds.
    return [page_path(path, n) for n in range(1, count + 1)]
