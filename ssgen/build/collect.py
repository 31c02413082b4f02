"""Query stage of the build: run the ``[data]`` and route queries, expand them into pages.

Owns the order of queries against a source (globals first, then each route; per-page
queries of ``each`` routes go through ``Source.query_many`` so a remote source can batch
them), which pages of a partial rebuild are re-queried (a ``Scope``), and the built-in
404 page. Route expansion itself is pure and lives in routes.py.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import field
from datetime import datetime
from itertools import filterfalse
from typing import Any

from ssgen import shells
from ssgen.build import slices
from ssgen.build.clashes import Recorded, settle_clashes
from ssgen.build.doclists import DocLists
from ssgen.build.keyed import unkeyed_types
from ssgen.build.memo import kept
from ssgen.build.memo.each import EachPages, each_pages
from ssgen.build.memo.kept import Expansions
from ssgen.build.routepaths import left_since, list_paths, merged, places_of
from ssgen.config.load import Config, RouteConfig
from ssgen.errors import ConfigError, GroqError, OutputError
from ssgen.fastclass import dataclass
from ssgen.groq.analysis import derefs, scanned_types
from ssgen.groq.nodes import Query
from ssgen.groq.refkeyed import ref_keyed_types
from ssgen.manifest.schema import PageRecord
from ssgen.routes.page import PageResult, PageSpec
from ssgen.routes.paths import url_to_relpath
from ssgen.routes.reuse import path_set
from ssgen.routes.spec import (
    NEIGHBOUR_KEYS,
    PathClash,
    expand_route,
)
from ssgen.sources import QueryResult, Source

ReadsAny = Callable[[str, frozenset[str]], bool]
_PATH = operator.attrgetter("path")

NOT_FOUND_TEMPLATE = "404.html"
NOT_FOUND_PATH = "/404.html"
NOT_FOUND_ROUTE = "404"


@dataclass
class Scope:
    """The part of the site a build re-queries.

    ``routes``: routes whose main query runs again (list and single routes are then
    expanded in full). ``paths``: pages of ``each`` routes whose per-page query runs again
    (new pages always run). ``full_routes``: ``each`` routes re-queried page by page in
    full. ``forced``: pages rendered whatever their hashes say.
    """

    everything: bool = False
    routes: set[str] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)
    full_routes: set[str] = field(default_factory=set)
    forced: set[str] = field(default_factory=set)
    # Every recorded path: the manifest's view (``Manifest.page_paths``), not a copy.
    known: AbstractSet[str] = field(default_factory=set)
    # Routes whose unchanged pages must be planned too: a template of their chain or a
    # global their templates read changed (see ssgen.build.memo.kept).
    whole_routes: set[str] = field(default_factory=set)
    # Pages planned whatever the kept memo says (rendered only if they differ): those
    # written since the generation of expansions a snapshot carried (``kept.carry``).
    unsure: AbstractSet[str] = frozenset()
    # A route's recorded page paths (the manifest's), for a paginated ``each`` route's
    # book in a new process (``slices.Book.seed``); None: not known.
    recorded: Callable[[str], AbstractSet[str]] | None = None

    def wants_route(self, name: str) -> bool:
        """True when the route's main query must run."""
        return self.everything or name in self.routes

    def wants_page(self, route: str, path: str) -> bool:
        """True when a page's per-page query must run."""
        return (
            self.everything
            or route in self.full_routes
            or path in self.paths
            or path not in self.known
        )


@dataclass
class Collected:
    """The pages re-queried by a build and, per re-queried route, every path it has now.

    ``clashes``: paths that several pages want (none of them is in ``pages`` unless it
    won: see ``check_unique``); ``held``: those that no page won, whose recorded page
    and file stay as they are. ``records``: the manifest's records of the collected
    paths (incremental builds; the planner reuses them).
    """

    pages: list[PageSpec] = field(default_factory=list)
    route_paths: dict[str, AbstractSet[str]] = field(default_factory=dict)
    clashes: list[PathClash] = field(default_factory=list)
    held: set[str] = field(default_factory=set)
    records: Mapping[str, PageRecord] | None = None
    # Per route, its pages as the last recorded build planned them (not in ``pages``:
    # ``ssgen.build.memo.kept``), and every page of each list, single or paginated route.
    kept: dict[str, Sequence[PageSpec]] = field(default_factory=dict)
    specs: dict[str, list[PageSpec]] = field(default_factory=dict)
    # Per list route expanded from the one the last recorded build kept (``last``): the
    # paths that left it since (``ssgen.routes.reuse.left_paths``).
    left: dict[str, AbstractSet[str]] = field(default_factory=dict)


def query_globals(config: Config, source: Source, now: datetime) -> dict[str, Any]:
    """The results of the ``[data]`` queries, by name."""
    names = list(config.data_ast)
    requests: list[tuple[Query, dict[str, Any]]] = [(config.data_ast[name], {}) for name in names]
    results = _run(source, requests, now, "data")
    values = {name: result.value for name, result in zip(names, results, strict=True)}
    # Hashed whole (``changed_globals``, the plan) and read by every page's render: a
    # lazily resumed snapshot's unfilled items would hash as empty objects, a change that
    # is not one (a new process that fills none: every page of the global re-rendered).
    shells.fill_reachable(list(values.values()))
    return values


def collect_pages(
    config: Config,
    source: Source,
    data: dict[str, Any],
    now: datetime,
    scope: Scope | None = None,
    *,
    reads: ReadsAny | None = None,
    recorded: Recorded | None = None,
    last: Expansions | None = None,
    lists: DocLists | None = None,
) -> Collected:
    """The pages of the routes in ``scope`` (all when None) with their context and tags.

    ``reads(template, variables)``: whether a template chain reads any of these context
    variables (``Renderer.reads_any``); list pages get their neighbours only when their
    templates do. Without it, they always do. ``recorded(paths)``: the manifest's
    records of those paths, for a partial build to see the pages of routes it did not
    re-query that hold a path a re-queried page wants. ``last``: each route's pages as
    the last recorded build planned them; those this build expands again as the very
    same objects are left out of ``pages`` (``Collected.kept``). ``lists``: see doclists.
    """
    collected, exact, refs = Collected(), exact_ids(source), ref_tags(source)
    for route in config.routes:
        if scope is None or scope.wants_route(route.name):
            neighbours = reads is None or reads(route.template, NEIGHBOUR_KEYS)
            narrowed = lists.expand(route, source, config.site, data, now) \
                if lists and not neighbours else None
            pages, paths = narrowed or route_pages(config, route, source, data, now, scope,
                                                   exact=exact, neighbours=neighbours,
                                                   refs=refs)
            if lists and narrowed is None:
                lists.note(route, source, pages, now)
            collected.route_paths[route.name] = paths
            before = (last or {}).get(route.name)
            at = places_of(before)  # before ``merged`` takes them over
            if narrowed is None and (route.each is None or route.paginate):
                pager = slices.book(config, route)
                collected.specs[route.name] = pages if route.each is None or \
                    len(pages) == len(paths) else merged(
                        before, pages, paths, pager.ordered if pager is not None else None)
            left = left_since(config, route.name, (pages, paths), before,
                              collected.specs.get(route.name))
            if left is not None:
                collected.left[route.name] = left
            # Two pages with one path are settled together, whatever changed. An
            # ``each`` route re-queried for some items only has fewer pages than paths.
            if before is None or scope is None or route.name in scope.whole_routes \
                    or len(paths) < len(pages) or (len(paths) > len(pages) and len(
                        set(map(_PATH, pages))) < len(pages)):
                collected.pages.extend(pages)
                continue
            planned = (scope.forced | scope.unsure) & paths
            fresh, collected.kept[route.name] = kept.split(pages, before, planned, at)
            collected.pages.extend(fresh)
    if collected.kept and _new_file_blocked(config, collected.pages, scope):
        for held in collected.kept.values():
            collected.pages.extend(held)
        collected.kept.clear()
    # Always looked at (one page): adding or removing templates/404.html is no edit of a
    # recorded template, so no tag would reach it.
    if (config.templates_dir / NOT_FOUND_TEMPLATE).is_file():
        collected.pages.append(not_found_page(config, data))
        collected.route_paths[NOT_FOUND_ROUTE] = {NOT_FOUND_PATH}
    else:
        collected.route_paths[NOT_FOUND_ROUTE] = set()
    settled = settle_clashes(config, source, collected.pages, collected.route_paths,
                             fixed=fixed_routes(config), recorded=recorded)
    collected.pages, collected.clashes, collected.held, collected.records = settled
    return collected


def _new_file_blocked(config: Config, pages: list[PageSpec], scope: Scope | None) -> bool:
    """Whether a new page's file is a folder on disk: a kept page may live under it and
    must then be looked at, as a full build would (``ssgen.build.clash``)."""
    known: AbstractSet[str] = scope.known if scope is not None else set()
    root = str(config.output_dir)
    for page in pages:
        if page.path not in known:
            try:
                file = url_to_relpath(page.path, page.route)
            except OutputError:
                continue
            if os.path.isdir(os.path.join(root, file)):
                return True
    return False


def fixed_routes(config: Config) -> frozenset[str]:
    """Routes whose page paths come from ssgen.toml alone (no ``{field}`` from content)."""
    return frozenset({NOT_FOUND_ROUTE} | {
        route.name for route in config.routes if not route.placeholders and route.each is None})


def route_pages(
    config: Config,
    route: RouteConfig,
    source: Source,
    data: dict[str, Any],
    now: datetime,
    scope: Scope | None = None,
    *,
    exact: bool = True,
    neighbours: bool = True,
    refs: bool = False,
) -> tuple[list[PageSpec], AbstractSet[str]]:
    """The (re-queried) pages of one route, and the paths of all its pages (``refs``:
    the source reports the ids its ``references()`` lookups took, ``ref_tags``)."""
    main_ast = route.each_ast if route.each_ast is not None else route.query_ast
    assert main_ast is not None  # config guarantees a query
    main = _run(source, [(main_ast, {})], now, f"routes.{route.name}",
                route.each_ast is None)[0]  # a list route's: a sequence, not copied
    common: dict[str, Any] = {
        "result_ids": main.ids,
        # An `each` query's types are the route's concern (scope_for re-runs it), not each
        # page's: tagging every page with them would re-query the whole route on any edit.
        "scanned_types": (
            query_types(main_ast, exact=exact) if route.each_ast is None else frozenset()
        ),
        "site": config.site,
        "data": data,
    }
    if route.each_ast is None:
        pages = expand_route(route, main.value, **common, neighbours=neighbours,
                             delta=main.delta)
        return pages, path_set(route.name, config.site, pages) or list_paths(route, pages)
    assert route.query_ast is not None
    each = each_pages(config, route, main.value)
    params, paths, pager = each.params, each.paths, slices.book(config, route)
    if pager is not None and scope is not None and scope.recorded is not None \
            and not pager.pages and route.name not in scope.full_routes:
        pager.seed(paths, scope.recorded(route.name))
    chosen = list(map(params.__getitem__, wanted := _wanted(route, each, scope, pager)))
    results = _run(source, [(route.query_ast, p) for p in chosen], now, f"routes.{route.name}",
                   bool(route.paginate_by))  # a kept list to split: its chunks, no copy
    pages = expand_route(
        route,
        chosen,
        **common,
        page_results=[PageResult(r.value, r.ids, r.nested, r.refs) for r in results],
        page_scanned_types=query_types(route.query_ast, exact=exact, keyed=True, refs=refs),
        page_ref_types=ref_keyed_types(route.query_ast) if refs and exact else frozenset(),
    )
    if pager is not None:
        return pages, pager.update(paths, wanted, [result.value for result in results])
    empty = {paths[i] for i, r in zip(wanted, results, strict=True) if r.value is None}
    if each.twins:  # a path is gone only when none of the items that give it has a page
        empty -= {paths[i] for i, r in zip(wanted, results, strict=True) if r.value is not None}
    return pages, each.path_set - empty if empty else each.path_set



def _wanted(route: RouteConfig, each: EachPages, scope: Scope | None,
            pager: slices.Book | None) -> list[int]:
    """Indexes of the pages whose per-page query runs: all, or those the scope names
    plus those the manifest does not know yet, plus all items that share a path (so
    that the clash is seen, whichever of them changed), plus ``Book.wanted``."""
    if scope is None or scope.everything or route.name in scope.full_routes:
        return list(range(len(each.paths)))
    position = each.position
    picked = {position[path] for path in position.keys() & scope.paths}  # the smaller set
    # One lookup per item (``scope.known`` is a view: ``-`` would walk every path of it).
    picked.update(map(position.__getitem__, filterfalse(scope.known.__contains__,
                                                        each.path_set)))
    picked.update(each.twins)
    if pager is not None:
        picked |= pager.wanted(each.paths, position, scope.paths)
    return sorted(picked)


def exact_ids(source: Source) -> bool:
    """Does the source report every document a query read (not just those in the result)?"""
    return bool(getattr(source, "exact_ids", True))


def ref_tags(source: Source) -> bool:
    """Does the source report, with each result, the ids its ``references()`` lookups
    took (``QueryResult.refs``) and, for a change, the ids its documents referenced
    before and after it (``refs_since``)? Then a per-page query's scans keyed by
    ``references()`` give its page ``ref:<id>`` tags instead of their whole type."""
    return exact_ids(source) and bool(getattr(type(source), "ref_tags", False))


def query_types(query: Query, *, exact: bool, keyed: bool = False,
                refs: bool = False) -> frozenset[str] | None:
    """The ``type:`` dependencies of a query's pages (None: any type).

    ``exact``: the source reports every document a query read (the local engine traces
    them). A source that only knows the ids in the result cannot see a dereferenced
    document whose ``_id`` was projected away, so any ``->`` makes the query depend on
    every type; and a keyed lookup may have dropped its own ``_id``, so it keeps its type.
    ``refs``: see ``ref_tags`` (with ``keyed``).
    """
    key = f"page types:{exact}:{keyed}:{refs}"  # a pure function of the query: once per process
    if key not in query.compiled:
        query.compiled[key] = (None if derefs(query) else scanned_types(query)) if not exact \
            else unkeyed_types(query, refs=refs) if keyed else scanned_types(query)
    found: frozenset[str] | None = query.compiled[key]
    return found


def not_found_page(config: Config, data: dict[str, Any]) -> PageSpec:
    """The built-in ``/404.html`` page, rendered from ``templates/404.html``."""
    context = {
        "site": config.site,
        "data": data,
        "page": {},
        "route": NOT_FOUND_ROUTE,
        "path": NOT_FOUND_PATH,
        "url": config.site.base_url.rstrip("/") + NOT_FOUND_PATH,
    }
    tags = frozenset({f"route:{NOT_FOUND_ROUTE}", *(f"global:{name}" for name in data)})
    return PageSpec(NOT_FOUND_PATH, NOT_FOUND_ROUTE, NOT_FOUND_TEMPLATE, context, tags)


def _run(source: Source, requests: list[tuple[Query, dict[str, Any]]], now: datetime,
         key: str, sequences: bool = False) -> list[QueryResult]:
    try:
        return source.query_many(requests, now=now, sequences=sequences)
    except GroqError as exc:
        raise ConfigError(f"{key}: query failed: {exc}") from exc
