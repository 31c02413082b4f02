"""Routes -> pages: expand one route's query results into `PageSpec`s with their tags (pure).

Owns the three route modes of docs/configuration.md (list, single/paginated, ``each``),
per-page dependency tags, the duplicate-path check (``check_unique``: which page of a
clash is published, if any) and the stable hash of a page's data
(path patterns are ``patterns``'s, page values ``page``'s).

Tag rules (see DESIGN.md, "Tag"):

- ``route:<name>`` on every page, plus the route's own ``tags`` with ``{field}`` filled
  from the item (list and ``each`` modes) or from the result object (single mode).
- ``type:<t>`` for each type the route's queries scan, ``type:*`` when a query may scan
  any type. List routes give these to every page too, so any change of those types
  re-queries the route; the build then diffs each page's data hash.
- ``doc:<_id>`` for the documents a page depends on:
  single and paginated pages get every id the query read. A list route's page gets the
  ids found anywhere in its item (every ``_id`` key, at any depth) plus the
  *unattributed* ids: ids the query read that are not the top-level ``_id`` of any item
  (dereferenced documents whose ``_id`` was projected away, items whose ``_id`` was
  dropped). That is conservative: it can only add tags, never miss one. When there are
  more than ``UNATTRIBUTED_LIMIT`` of them (items projected without ``_id``: every item
  document is unattributed), they go to the route's first page only, to keep the tag
  count linear; the route's union of tags still holds every id, and the planner
  re-queries a whole route and diffs page data hashes. Keep ``_id`` in list-route
  projections for precise per-page tags. ``each`` pages
  get the ids their own query read plus the ``_id``s in their ``each`` item.
- ``global:<name>`` for every ``[data]`` query: in this version every page depends on
  every global (no template analysis).
- ``template:<file>`` tags are added by the build from ``Renderer.template_chain``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import PurePath
from typing import Any

import orjson

from ssgen.errors import ConfigError
from ssgen.routes.page import PageMaker, PageResult, PageSpec, RouteLike
from ssgen.routes.paginate import expand_paginated
from ssgen.routes.patterns import (
    fill_pattern,
    kind_of,
    lookup,
    placeholders,
)
from ssgen.routes.reuse import changed_span, list_pages, spliced

UNATTRIBUTED_LIMIT = 256
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
    neighbours: bool = True,
) -> list[PageSpec]:
    """Expand one route into pages.

    ``result_value``/``result_ids``/``scanned_types`` describe the route's ``query`` (or, for
    an ``each`` route, its ``each`` query); ``scanned_types`` None means any type. For an
    ``each`` route, ``page_results[i]`` is the per-page query result for ``result_value[i]``
    (see `each_params`) and ``page_scanned_types`` the per-page query's types.
    ``base_url`` defaults to ``site.base_url``. ``neighbours``: a list route's pages get
    their neighbouring items (``NEIGHBOUR_KEYS``); False when no template reads them,
    so that a neighbour's edit does not change a page's data hash for nothing.
    """
    base = base_url or str(getattr(site, "base_url", "") or "")
    ctx = PageMaker(route, site, data, base, _type_tags(scanned_types))
    if route.each is not None:
        if page_results is None:
            raise ConfigError(f"route {route.name!r}: an `each` route needs its per-page results")
        ctx.type_tags |= _type_tags(page_scanned_types)
        return _expand_each(ctx, each_params(route, result_value), page_results)
    ids = frozenset(result_ids)
    if placeholders(route.path):
        if route.paginate:
            raise ConfigError(
                f"route {route.name!r}: `paginate` needs a path without {{field}} placeholders"
            )
        return _expand_list(ctx, result_value, ids, neighbours)
    if route.paginate:
        return expand_paginated(ctx, result_value, ids, route.paginate)
    return [ctx.page(route.path, result_value, ids, fields=result_value)]


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


# A key "_id" with a string value in orjson's compact output follows "{" or ",": inside
# a JSON string every '"' is escaped, so neither '{"' nor ',"' occurs in string text.
_ID_OPEN = b'"_id":"'
_KEY_BEFORE = frozenset(b"{,")


def find_ids(value: Any) -> set[str]:
    """Every string ``_id`` anywhere in a JSON value (dereferenced documents included).

    Searched in the value's JSON encoding (C speed: a post item's Portable Text body is
    thousands of nodes); a value orjson cannot encode is walked instead."""
    try:
        encoded = orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return walk_ids(value)
    found: set[str] = set()
    at = encoded.find(_ID_OPEN)
    while at >= 0:
        if encoded[at - 1] in _KEY_BEFORE:
            end = encoded.find(b'"', at + len(_ID_OPEN))
            while _escaped(encoded, end):
                end = encoded.find(b'"', end + 1)
            found.add(orjson.loads(encoded[at + len(_ID_OPEN) - 1:end + 1]))
        at = encoded.find(_ID_OPEN, at + 1)
    return found


def _escaped(encoded: bytes, quote: int) -> bool:
    """Whether the '"' at ``quote`` is escaped (an odd run of backslashes before it)."""
    run = 0
    while encoded[quote - 1 - run] == 0x5C:
        run += 1
    return run % 2 == 1


def walk_ids(value: Any) -> set[str]:
    """``find_ids`` by walking the value."""
    found: set[str] = set()
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ident = current.get("_id")
            if isinstance(ident, str):
                found.add(ident)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found


@dataclass(frozen=True)
class Claimant:
    """A page that wants a path: its route, the document it shows when known, its path
    fields, and whether its path is fixed in ssgen.toml (no ``{field}`` from content)."""

    route: str
    document: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    fixed: bool = False

    def describe(self) -> str:
        """``document 'p1' (route 'post')``, or the route (and path fields) without one."""
        if self.document is not None:
            return f"document {self.document!r} (route {self.route!r})"
        if self.params and not self.fixed:
            fields = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
            return f"the route {self.route!r} page with {fields}"
        return f"route {self.route!r}"


@dataclass(frozen=True)
class PathClash:
    """Pages that want one path. ``winner``: the one page whose path is fixed in
    ssgen.toml, published as usual; None: none is published and the file already there
    (the page's last good version) is kept, so the outcome never depends on order."""

    path: str
    claimants: tuple[Claimant, ...]
    winner: Claimant | None = None

    @property
    def routes(self) -> str:
        """The claimants' route names, comma-separated (how the manifest records them)."""
        return ",".join(dict.fromkeys(claimant.route for claimant in self.claimants))

    def message(self) -> str:
        """What clashed and how to fix the content."""
        losers = [c for c in self.claimants if c is not self.winner]
        names = _join([c.describe() for c in losers])
        if self.winner is not None:
            return (f"{names} {'has' if len(losers) == 1 else 'have'} the path {self.path!r} "
                    f"of {self.winner.describe()}: give {_them(losers)} another slug "
                    f"(the route keeps its page; {_them(losers)} {_be(losers)} not published)")
        some, none = ("one", "neither") if len(losers) == 2 else ("all but one", "none")
        return (f"{names} have the same path {self.path!r}: give {some} of them another "
                f"slug (until then {none} of them is published, and the page keeps its last "
                "good version)")


def check_unique(
    pages: Iterable[PageSpec],
    *,
    fixed: AbstractSet[str] = frozenset(),
    standing: Mapping[str, Claimant] | None = None,
) -> tuple[list[PageSpec], list[PathClash]]:
    """The pages whose path no other page wants, and each clash (two pages, one file).

    ``fixed``: routes whose paths come from ssgen.toml alone; such a page wins its path
    from pages whose paths come from documents, and two of them clash as a config
    mistake (`ConfigError`). ``standing``: path -> the page that holds it outside
    ``pages`` (a recorded page of a route this build did not re-query).
    """
    pages = pages if isinstance(pages, list) else list(pages)
    seen: dict[str, PageSpec] = {}
    shared: set[str] = set()
    for page in pages:
        key = _path_key(page.path)
        if seen.setdefault(key, page) is not page:
            shared.add(key)
    held = {_path_key(path): claimant for path, claimant in (standing or {}).items()}
    shared.update(held.keys() & seen.keys())
    if not shared:
        return pages, []
    kept: list[PageSpec] = []
    groups: dict[str, list[PageSpec]] = {}
    for page in pages:
        key = _path_key(page.path)
        if key in shared:
            groups.setdefault(key, []).append(page)
        else:
            kept.append(page)
    clashes: list[PathClash] = []
    for key, group in groups.items():
        other = held.get(key)
        claims = [(page, _claimant(page, fixed)) for page in group]
        claimants = tuple(c for _, c in claims) + ((other,) if other is not None else ())
        winner = _winner(group[0].path, claimants)
        clashes.append(PathClash(group[0].path, claimants, winner))
        kept.extend(page for page, claimant in claims if claimant is winner)
    return kept, clashes


def _path_key(path: str) -> str:
    """The file a page path is written to (``/a/index.html`` and ``/a/`` are one)."""
    return path[: -len("index.html")] if path.endswith("/index.html") else path


def _claimant(page: PageSpec, fixed: AbstractSet[str]) -> Claimant:
    shown = page.context.get("page")
    document = shown.get("_id") if isinstance(shown, dict) else None
    if not isinstance(document, str):
        document = page.params.get("_id")
    return Claimant(page.route, document if isinstance(document, str) else None,
                    page.params, page.route in fixed)


def _winner(path: str, claimants: tuple[Claimant, ...]) -> Claimant | None:
    configured = [c for c in claimants if c.fixed]
    if len(configured) > 1:
        raise ConfigError(
            f"two pages have the path {path!r}: {_join([c.describe() for c in configured])}; "
            "make their path patterns distinct"
        )
    return configured[0] if configured else None


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _them(items: list[Claimant]) -> str:
    return "it" if len(items) == 1 else "them"


def _be(items: list[Claimant]) -> str:
    return "is" if len(items) == 1 else "are"


def data_hash(value: Any) -> str:
    """A stable sha256 of a page's context data (orjson, sorted keys).

    Values orjson cannot encode natively (integers beyond 64 bits) fall back to the
    stdlib encoder, which is as deterministic.
    """
    try:
        encoded = orjson.dumps(
            value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=_encode_default
        )
    except orjson.JSONEncodeError:
        text = json.dumps(value, sort_keys=True, default=_encode_default, separators=(",", ":"))
        encoded = text.encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def _expand_list(ctx: PageMaker, value: Any, ids: frozenset[str],
                 neighbours: bool = True) -> list[PageSpec]:
    route = ctx.route
    if not isinstance(value, list):
        raise ConfigError(
            f"route {route.name!r}: path {route.path!r} has {{field}} placeholders, so its "
            f"query must return a list (one page per item), got {kind_of(value)}"
        )
    if not all(map(isinstance, value, repeat(dict))):
        index = next(i for i, item in enumerate(value) if not isinstance(item, dict))
        raise ConfigError(
            f"route {route.name!r}: item {index} of the query result is "
            f"{kind_of(value[index])}, expected an object with the path fields"
        )
    unattributed = ids - set(map(dict.get, value, repeat("_id")))
    shared = unattributed if len(unattributed) <= UNATTRIBUTED_LIMIT else frozenset()
    last, fresh = list_pages(ctx, (unattributed, shared, neighbours))
    # Only the span that differs from the last expansion (by identity) and, when pages
    # show their neighbours, one page either side of it is looked at.
    size, before = len(value), len(last.items)
    head, tail = changed_span(value, last.items)
    paths = spliced(route, value, last, (head, tail))
    low, high = (max(0, head - 1), min(size, size - tail + 1)) if neighbours \
        else (head, size - tail)
    if head == 0 and size:  # a new first page: it carries the unattributed ids
        high = max(high, 1)
    old = {id(entry[0]): entry for entry in last.specs[low:before - (size - high)]}
    known = last.item_ids
    made: list[tuple[Any, Any, Any, bool, PageSpec]] = []
    for index in range(low, high):
        item = value[index]
        prev = value[index - 1] if index and neighbours else None
        after = value[index + 1] if index < size - 1 and neighbours else None
        entry = old.get(id(item))
        if entry is None or entry[0] is not item or entry[1] is not prev \
                or entry[2] is not after or entry[3] != (index == 0):
            item_ids = _item_ids(item, known) | (unattributed if index == 0 else shared)
            params = {name: lookup(item, name) for name in placeholders(route.path)}
            extra = _neighbours(value, paths, index) if neighbours else None
            spec = ctx.page(paths[index], item, item_ids, fields=item, params=params,
                            extra=extra)
            entry = (item, prev, after, index == 0, spec)
        made.append(entry)
    fresh.items, fresh.paths = list(value), paths
    fresh.specs = last.specs[:low] + made + last.specs[before - (size - high):]
    fresh.item_ids = known if len(known) <= 2 * size + 64 else {
        id(item): found for item in value if (found := known.get(id(item))) is not None}
    return [entry[4] for entry in fresh.specs]


def _item_ids(item: Any, known: dict[int, tuple[Any, frozenset[str]]]) -> frozenset[str]:
    entry = known.get(id(item))
    if entry is None or entry[0] is not item:
        entry = known[id(item)] = (item, frozenset(find_ids(item)))
    return entry[1]


def _neighbours(items: list[Any], paths: list[str], index: int) -> dict[str, Any]:
    """A list route page's ``prev``/``next`` items and URL paths, in the query's order."""
    last = index + 1 < len(items)
    return {
        "prev": items[index - 1] if index else None,
        "prev_url": paths[index - 1] if index else None,
        "next": items[index + 1] if last else None,
        "next_url": paths[index + 1] if last else None,
    }


def _expand_each(
    ctx: PageMaker, params: list[dict[str, Any]], results: Sequence[PageResult | None]
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
        fields = {**result.value, **item} if isinstance(result.value, dict) else item
        ids = set(result.ids) | find_ids(item)
        pages.append(ctx.page(path, result.value, ids, fields=fields, params=item))
    return pages


def _type_tags(types: frozenset[str] | None) -> set[str]:
    if types is None:
        return {"type:*"}
    return {f"type:{t}" for t in types}


def _encode_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"data_hash cannot encode {type(value).__name__}")


__all__ = [
    "NEIGHBOUR_KEYS",
    "UNATTRIBUTED_LIMIT",
    "Claimant",
    "PathClash",
    "check_unique",
    "data_hash",
    "each_params",
    "expand_route",
    "find_ids",
]
