"""What an incremental build must redo: from a ``Change`` to the routes and pages to re-query.

Owns change detection for builds without an explicit change (documents diffed against the
hashes the manifest recorded, templates against their recorded hashes) and the scope of
a rebuild: the routes whose queries must run again, and for ``each`` routes the pages
whose per-page queries must run again. Whether a re-queried page is then re-rendered is
the planner's call (data and template hashes, see plan.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from ssgen.build.change import Change, DocChange, normalize_path
from ssgen.build.collect import NOT_FOUND_ROUTE, Scope, query_types
from ssgen.build.docstate import DocState
from ssgen.config.load import Config, RouteConfig
from ssgen.errors import RenderError
from ssgen.groq.analysis import derefs
from ssgen.groq.refkeyed import ref_keyed_types
from ssgen.manifest.store import Manifest
from ssgen.render.environment import Renderer

# Up to this many pages reached by tags are matched to their routes by their records.
_FEW = 256


def diff_documents(before: DocState, after: DocState) -> tuple[DocChange, ...]:
    """The documents created, updated or deleted between two states."""
    changes = [
        DocChange(doc_id, doc_type, "create" if doc_id not in before else "update")
        for doc_id, (doc_type, digest) in after.items()
        if before.get(doc_id, ("", ""))[1] != digest
    ]
    changes += [
        DocChange(doc_id, before[doc_id][0], "delete") for doc_id in before.keys() - after.keys()
    ]
    return tuple(changes)


def document_change(before: DocState, after: DocState) -> Change:
    """``diff_documents`` as a change, with the ``type:`` tag of the old type of each
    document whose ``_type`` changed: the pages of the routes that scan that type must
    be looked at again, and the document's ``doc:`` tag alone may not reach them (a page
    whose data did not change is not recorded again, so its tags can still name the
    document that gave that data before another one did)."""
    documents = diff_documents(before, after)
    left = frozenset(f"type:{old}" for doc in documents if doc.operation == "update"
                     and (old := before[doc.id][0]) != doc.type)
    return Change(documents=documents, tags=left)


def changed_templates(manifest: Manifest, renderer: Renderer) -> frozenset[str]:
    """Templates whose source differs from what the manifest recorded."""
    return frozenset(
        name
        for name, digest in manifest.templates().items()
        if renderer.template_hash(name) != digest
    )


def changed_globals(manifest: Manifest, hashes: dict[str, str]) -> frozenset[str]:
    """``[data]`` globals whose value hash differs from the recorded one."""
    before = manifest.globals()
    return frozenset(
        {name for name, digest in hashes.items() if before.get(name) != digest}
        | (before.keys() - hashes.keys())
    )


def scope_for(
    config: Config,
    manifest: Manifest,
    renderer: Renderer,
    change: Change,
    globals_changed: Iterable[str] = (),
    *,
    exact: bool = True,
    refs: frozenset[str] | None = frozenset(),
    ref_pages: bool = False,
) -> Scope:
    """The routes and pages a change reaches, through the manifest's tag index.

    ``exact``: the source's ``doc:`` ids are a full read trace (see ``pages.exact_ids``).
    ``ref_pages``: the source gives ``each`` pages ``ref:<id>`` tags for their scans
    keyed by ``references()`` (``collect.ref_tags``); ``refs``: the ids the changed
    documents referenced before or after the change (``reference_change``; None:
    unknown, and the routes of such scans of their types are re-queried in full).
    """
    if change.everything:
        return Scope(everything=True)
    scope = Scope(forced={normalize_path(p) for p in change.paths}, known=manifest.page_paths(),
                  recorded=manifest.pages_for_route)
    tags = change.doc_tags() | set(change.tags) | {f"template:{t}" for t in change.templates}
    if ref_pages:
        _ref_scope(config, scope, change, refs, tags)
    tags -= _route_wide(config, scope, tags, exact, ref_pages)
    hit = manifest.pages_for_tags(tags) | scope.forced
    hit |= _pages_using_globals(manifest, renderer, frozenset(globals_changed))
    # Left-out documents (no route) are found again by re-reading the source.
    failed = {f.path: f.route.split(",") for f in manifest.failures() if f.route}
    hit |= failed.keys()
    # A page that failed is rendered again (it fails again or recovers), and one that
    # never built has no record to reach: its route is re-queried to produce it. A path
    # several routes wanted re-queries them all, to see whether they still clash.
    scope.forced |= failed.keys()
    _add_pages(scope, manifest, hit, [route.name for route in config.routes])
    scope.routes |= {route for path, routes in failed.items()
                     if path not in scope.paths or len(routes) > 1 for route in routes}
    types = changed_types(change)
    for route in config.routes:
        if change.unknown_types and change.documents:
            scope.routes.add(route.name)
            continue
        route_types = _route_types(route, exact)
        if (route_types is None and change.documents) or (route_types and route_types & types):
            scope.routes.add(route.name)
    # A route of pages per item that has none has no record to carry the tags of what
    # its query dereferenced (an author read in its filter): only re-querying it finds
    # its first page (an index lookup a route). Its scans' types are followed above.
    scope.routes |= manifest.without_pages(
        route.name for route in config.routes
        if route.name not in scope.routes and (route.placeholders or route.each is not None)
        and _dereferencing(route))
    if config.feed is not None and config.feed.route in scope.routes:
        scope.full_routes.add(config.feed.route)
    return scope


def changed_types(change: Change) -> set[str | None]:
    """The types of the changed documents and of the change's ``type:`` tags (the old
    type of a retyped document, ``document_change``): a route whose queries scan one of
    them is re-queried, as the document may have left what it lists; its ``doc:`` tag
    alone does not reach a page that never read it (an ``each`` page whose own query
    reads another document than the item it exists for)."""
    return {doc.type for doc in change.documents} | {
        tag[5:] for tag in change.tags if tag.startswith("type:")}


def reference_change(source: object, manifest: Manifest,
                     change: Change) -> frozenset[str] | None:
    """The ids the changed documents reference now or referenced when the manifest
    recorded them (the version of the content hash it holds), by the source's
    ``references``; None when one of them is unknown."""
    ids = {doc.id for doc in change.documents}
    ids |= {doc_id.removeprefix("drafts.") for doc_id in ids}
    references = getattr(source, "references", None)
    if references is None:
        return None if ids else frozenset()
    recorded = manifest.documents(ids)
    found: set[str] = set()
    for doc_id in sorted(ids):
        now = references(doc_id)
        was = references(doc_id, recorded[doc_id][1]) if doc_id in recorded else frozenset()
        if now is None or was is None:
            return None
        found |= now | was
    return frozenset(found)


def _ref_scope(config: Config, scope: Scope, change: Change,
               refs: frozenset[str] | None, tags: set[str]) -> None:
    """``ref:<id>`` tags for the ids the changed documents reference, before or after;
    when those are unknown, the ``each`` routes whose scans keyed by ``references()``
    read a changed document's type (old or new) are re-queried in full instead."""
    if refs is not None:
        tags.update(f"ref:{ref}" for ref in refs)
        return
    types = changed_types(change)
    for route in config.routes:
        ref_types = _ref_types(route)
        if ref_types is not None and not ref_types:
            continue
        if ref_types is None or None in types or "*" in types or ref_types & types:
            scope.routes.add(route.name)
            scope.full_routes.add(route.name)


@cache
def _ref_types(route: RouteConfig) -> frozenset[str] | None:
    """The types of an ``each`` route's per-page scans keyed by ``references()``."""
    if route.each is None or route.query_ast is None:
        return frozenset()
    return ref_keyed_types(route.query_ast)


def _route_wide(config: Config, scope: Scope, tags: set[str], exact: bool,
                refs: bool = False) -> set[str]:
    """The tags among ``tags`` that every page of a route may carry whatever its
    content (``type:`` of the types its queries scan, ``route:<name>``, its tags without
    ``{field}``), with their routes added to ``scope`` instead of their pages looked up:
    a list, single or paginated route is expanded whole once re-queried (its pages then
    come from the expansion, narrowed by the query's delta: ``ssgen.routes.reuse``), and
    an ``each`` route's pages all run their per-page query again, as they would when
    every page carrying the tag were found. An edit's ``type:post`` reaches every post
    page: 100,000 rows read back from the manifest per round at 100,000 posts."""
    found: set[str] = set()
    filled = _filled_tags(tuple(config.routes))
    tags = {tag for tag in tags if filled.fullmatch(tag) is None}
    for route in config.routes:
        hit = tags & _wide_tags(route, exact, refs)
        types = _route_types(route, exact) if route.each is None \
            else _page_types(route, exact, refs)
        if "type:*" in tags and types is None:
            hit.add("type:*")
        if hit:
            found |= hit
            scope.routes.add(route.name)
            if route.each is not None:
                scope.full_routes.add(route.name)
    return found


@cache
def _filled_tags(routes: tuple[RouteConfig, ...]) -> re.Pattern[str]:
    """What a route's tag with a ``{field}`` can become (such a tag may equal a literal
    one: its pages must then be looked up)."""
    patterns = ["|".join(".*".join(map(re.escape, re.split(r"\{[^}]*\}", tag)))
                         for tag in route.tags if "{" in tag) for route in routes]
    return re.compile("|".join(p for p in patterns if p) or "(?!)", re.DOTALL)


@cache
def _wide_tags(route: RouteConfig, exact: bool, refs: bool) -> frozenset[str]:
    """The tags every page of ``route`` may carry (``type:*`` apart)."""
    types = _route_types(route, exact) if route.each is None \
        else _page_types(route, exact, refs)
    literal = {tag for tag in route.tags if "{" not in tag}
    return frozenset({f"route:{route.name}", *literal, *(f"type:{t}" for t in types or ())})


@cache
def _page_types(route: RouteConfig, exact: bool, refs: bool) -> frozenset[str] | None:
    """The ``type:`` tags of an ``each`` route's pages: its per-page query's (keyed)."""
    assert route.query_ast is not None
    return query_types(route.query_ast, exact=exact, keyed=True, refs=refs)


def _add_pages(scope: Scope, manifest: Manifest, paths: set[str], routes: list[str]) -> None:
    """The recorded pages among ``paths``, and their routes: by their records when they
    are few, else matched against each route's recorded paths rather than by decoding
    every page's record (a template's tag reaches every page of its routes: 16k
    records: ~0.1-0.2 s)."""
    left = set(paths)
    if len(left) <= _FEW:
        for path, record in manifest.pages_at(left).items():
            scope.routes.add(record.route)
            scope.paths.add(path)
        return
    for route in (*routes, NOT_FOUND_ROUTE):
        hit = left & manifest.pages_for_route(route)
        if hit:
            scope.routes.add(route)
            scope.paths |= hit
            left -= hit
    for path, record in manifest.pages_at(left).items():  # a route no longer configured
        scope.routes.add(record.route)
        scope.paths.add(path)


def _pages_using_globals(
    manifest: Manifest, renderer: Renderer, names: frozenset[str]
) -> set[str]:
    if not names:
        return set()
    users: dict[str, bool] = {}
    hit: set[str] = set()
    for record in manifest.pages():
        if record.template not in users:
            used = renderer.globals_used(record.template)
            users[record.template] = used is None or not used.isdisjoint(names)
        if users[record.template]:
            hit.add(record.path)
    return hit


def whole_routes(config: Config, renderer: Renderer, templates: frozenset[str],
                 globals_changed: frozenset[str]) -> set[str]:
    """Routes whose unchanged pages the planner would render again: a template of their
    chain changed, or a global their templates read (``Scope.whole_routes``)."""
    whole: set[str] = set()
    if not templates and not globals_changed:
        return whole
    for route in config.routes:
        try:
            chain = renderer.template_chain(route.template)
            used = renderer.globals_used(route.template) if globals_changed else frozenset()
        except RenderError:
            whole.add(route.name)
            continue
        if not templates.isdisjoint(chain) or used is None or not used.isdisjoint(
                globals_changed):
            whole.add(route.name)
    return whole


@cache
def _dereferencing(route: RouteConfig) -> bool:
    return any(query is not None and derefs(query) for query in (route.each_ast,
                                                                 route.query_ast))


@cache
def _route_types(route: RouteConfig, exact: bool) -> frozenset[str] | None:
    types: set[str] = set()
    for query in (route.each_ast, route.query_ast):
        if query is None:
            continue
        found = query_types(query, exact=exact)
        # What an ``each`` query dereferences (``author->active`` in its filter) is on
        # no page's record: any document may change which pages the route has.
        if found is None or (query is route.each_ast and derefs(query)):
            return None
        types |= found
    return frozenset(types)
