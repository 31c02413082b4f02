"""Paths that several pages want: which page (if any) is published, and whom to name.

Owns the build's side of ``routes.spec.check_unique``: in a partial build, the recorded
pages of routes that were not re-queried still hold their paths (``standing``), and a
clash names the documents behind its pages, even those whose ``_id`` a list route's
projection left out (found by running the query again with ``_id``, on local sources).
The rule itself (a path fixed in ssgen.toml wins; otherwise none is published and the
page keeps its last good version) is ``check_unique``'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, NamedTuple

from ssgen.config.load import Config, RouteConfig
from ssgen.errors import GroqError
from ssgen.groq import nodes as n
from ssgen.groq.dataset import Dataset
from ssgen.groq.nodes import Query
from ssgen.manifest.schema import PageRecord
from ssgen.routes.page import PageSpec
from ssgen.routes.patterns import lookup
from ssgen.routes.spec import Claimant, PathClash, check_unique
from ssgen.sources import Source

Recorded = Callable[[Iterable[str]], Mapping[str, PageRecord]]


class Settled(NamedTuple):
    """The pages to build, the clashes, the held paths (no page published) and the
    manifest records of the collected paths (None: not looked up, a full build)."""

    pages: list[PageSpec]
    clashes: list[PathClash]
    held: set[str]
    records: Mapping[str, PageRecord] | None


def settle_clashes(
    config: Config,
    source: Source,
    pages: list[PageSpec],
    route_paths: Mapping[str, AbstractSet[str]],
    *,
    fixed: AbstractSet[str],
    recorded: Recorded | None,
) -> Settled:
    """Take out of ``pages`` every page whose path another page wants.

    ``route_paths``: every path of each re-queried route; ``recorded(paths)``: the
    manifest's records of those paths (partial builds).
    """
    standing: dict[str, Claimant] = {}
    records = None
    if recorded is not None:
        records = recorded([page.path for page in pages])
        others = {page.path for page in pages
                  if (record := records.get(page.path)) is not None and record.route != page.route}
        mine = {(page.path, page.route) for page in pages if page.path in others}
        for path in others:
            record = records[path]
            paths = route_paths.get(record.route)
            if (path, record.route) not in mine and (paths is None or path in paths):
                standing[path] = Claimant(record.route, None, record.params,
                                          record.route in fixed)
    kept, clashes = check_unique(pages, fixed=fixed, standing=standing)
    named = [_name_documents(config, source, clash) for clash in clashes]
    held = {clash.path for clash in named if clash.winner is None}
    return Settled(kept, named, held, records)


def _name_documents(config: Config, source: Source, clash: PathClash) -> PathClash:
    """The clash with the ``_id`` of each claimant that a list route projected away, found
    by running its query again with ``_id`` added (local sources: the text is not sent)."""
    dataset = getattr(source, "dataset", None)
    if not isinstance(dataset, Dataset):  # a remote source: named by their fields only
        return clash
    routes = {route.name: route for route in config.routes}
    named: dict[int, Claimant] = {}
    items: dict[str, list[dict[str, Any]]] = {}
    for index, claimant in enumerate(clash.claimants):
        route = routes.get(claimant.route)
        if claimant.document is not None or claimant.fixed or not claimant.params \
                or route is None:
            continue
        taken = {c.document for c in (*clash.claimants, *named.values())}
        if route.name not in items:
            items[route.name] = _with_ids(route, dataset)
        for item in items[route.name]:
            if item.get("_id") not in taken and all(
                    lookup(item, name) == value for name, value in claimant.params.items()):
                named[index] = dataclasses.replace(claimant, document=item["_id"])
                break
    if not named:
        return clash
    claimants = tuple(named.get(i, c) for i, c in enumerate(clash.claimants))
    winner = None if clash.winner is None else claimants[clash.claimants.index(clash.winner)]
    return PathClash(clash.path, claimants, winner)


def _with_ids(route: RouteConfig, dataset: Dataset) -> list[dict[str, Any]]:
    """A list route's items with their ``_id`` (when its query ends in a projection)."""
    query = route.query_ast
    if query is None or route.each_ast is not None:
        return []
    root = query.root
    if not (isinstance(root, n.Map) and isinstance(root.expr, n.Projection)
            and isinstance(root.expr.expr, n.Object)):
        return []
    ident = n.ObjectAttributeValue("_id", n.AccessAttribute(None, "_id"))
    shape = n.Object((*root.expr.expr.attributes, ident))
    probe = Query(n.Map(root.base, n.Projection(root.expr.base, shape)), query.text)
    try:
        value = probe.evaluate(dataset)
    except GroqError:
        return []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
