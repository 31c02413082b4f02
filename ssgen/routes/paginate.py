"""Paginated routes -> one page per slice of the route's list (pure, memoised per route).

A paginated route is re-expanded whenever one of its documents changes, and it has a
page per ``paginate`` items: 500 pages for 10k posts at 20 a page. A kept source's
maintained result hands back the same item objects for unchanged documents, so this
module keeps each route's last expansion and hands back the same ``PageSpec`` for a
page whose items are the same objects and whose paginator and shared context are
equal: the planner then knows that page in O(1) (``plan.page_data_hash``), and a
one-post edit costs the pages it moved, not the route's length.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ssgen.errors import ConfigError
from ssgen.groq.values import same_json
from ssgen.routes.page import PageMaker, PageSpec
from ssgen.routes.patterns import kind_of, page_path


@dataclass
class _Expansion:
    """A paginated route's last expansion and what it was made from."""

    inputs: tuple[Any, ...]
    site: Any
    data: Any
    ids: frozenset[str]
    items: list[Any]  # the route's list as it was (a copy: a kept result changes in place)
    pages: list[PageSpec]

    def reusable(self, inputs: tuple[Any, ...], site: Any, data: Any) -> bool:
        """Whether pages made then can stand for pages made now (same route settings,
        page count and total; equal site and globals)."""
        return (
            self.inputs == inputs
            and (self.site is site or self.site == site)
            and (self.data is data or same_json(self.data, data))
        )

    def changed(self, items: list[Any], ids: frozenset[str], size: int) -> set[int]:
        """Indexes of the pages whose items are not the same objects as then (one pass
        in C over the list, then a jump to each changed item), and the first page when
        the ids the query read changed (they are its tags)."""
        same = list(map(operator.is_, items, self.items))
        pages = set() if self.ids is ids or self.ids == ids else {0}
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
_LAST: dict[tuple[str, str, int], _Expansion] = {}
_KEEP = 64


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


def expand_paginated(ctx: PageMaker, value: Any, ids: frozenset[str], size: int) -> list[PageSpec]:
    """The pages of a paginated route: ``size`` items each, with a ``paginator``."""
    route = ctx.route
    if not isinstance(value, list):
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
        reused, changed = last.pages, last.changed(value, ids, size)
    pages = []
    for index in range(count):
        if reused and index not in changed:
            pages.append(reused[index])
            continue
        items = value[index * size : (index + 1) * size]
        pages.append(_page(ctx, urls, index + 1, items, ids, doc_tags, len(value)))
    _LAST[key] = _Expansion(inputs, ctx.site, ctx.data, ids, list(value), pages)
    while len(_LAST) > _KEEP:
        del _LAST[next(iter(_LAST))]
    return pages


def _page(ctx: PageMaker, urls: list[str], number: int, items: list[Any], ids: frozenset[str],
          doc_tags: frozenset[str], total: int) -> PageSpec:
    count = len(urls)
    paginator = {
        "items": items,
        "number": number,
        "pages": count,
        "total": total,
        "prev_url": urls[number - 2] if number > 1 else None,
        "next_url": urls[number] if number < count else None,
        "urls": urls,
    }
    return ctx.page(
        urls[number - 1],
        items,
        ids if number == 1 else (),
        fields=None,
        params={"page": number},
        extra={"paginator": paginator},
        doc_tags=doc_tags if number == 1 else frozenset(),
    )


@lru_cache(maxsize=16)
def _doc_tags(ids: frozenset[str]) -> frozenset[str]:
    # A kept source hands back the same trace object while a list's documents are the
    # same ones: their 10k tags are not formatted again for every rebuild.
    return frozenset(f"doc:{i}" for i in ids)


@lru_cache(maxsize=64)
def _page_urls(path: str, count: int) -> list[str]:
    # One list per route and page count, shared by rebuilds.
    return [page_path(path, n) for n in range(1, count + 1)]
