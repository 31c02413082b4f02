"""The ``$params`` and path of each page of an ``each`` route, kept per site and route.

Owns ``each_pages`` and its memo, which a source snapshot carries to the next process
(``export``, ``adopt``; ``carry``): a kept or resumed source's maintained ``each`` result
hands back the same item objects for unchanged documents, so only the items that are new
objects are read and derived again (a new process after a one-post edit reads one item,
not 10,000: the others may be a lazily resumed snapshot's unfilled shells).
"""

from __future__ import annotations

import operator
from dataclasses import field
from typing import Any

from ssgen.config.load import Config, RouteConfig
from ssgen.fastclass import dataclass
from ssgen.memos import site_memo
from ssgen.routes.patterns import fill_pattern
from ssgen.routes.spec import each_params


@dataclass
class EachPages:
    """An ``each`` route's items with the ``$params`` and path of each page."""

    items: list[Any]
    params: list[dict[str, Any]]
    paths: list[str]
    by_item: dict[int, tuple[Any, dict[str, Any], str]]  # id(item) -> (item, params, path)
    path_set: frozenset[str] = frozenset()
    position: dict[str, int] = field(default_factory=dict)  # path -> index
    twins: list[int] = field(default_factory=list)  # items whose path another item has

    def __post_init__(self) -> None:
        self.path_set = frozenset(self.paths)
        self.position = {path: i for i, path in enumerate(self.paths)}
        if len(self.position) < len(self.paths):
            counts: dict[str, int] = {}
            for path in self.paths:
                counts[path] = counts.get(path, 0) + 1
            self.twins = [i for i, path in enumerate(self.paths) if counts[path] > 1]


# Per site, config and route: the last build's pages. A kept source's maintained `each`
# result hands back the same item objects for unchanged documents: an identical result
# is taken as is, and otherwise only the items that are new objects are derived again.
_EACH_MEMO: dict[tuple[str, str, str], EachPages] = site_memo()


def each_pages(config: Config, route: RouteConfig, value: Any) -> EachPages:
    """The ``$params`` and the path of each page of an ``each`` route."""
    key = (str(config.site_dir), config.hash, route.name)
    last = _EACH_MEMO.get(key)
    if not isinstance(value, list):
        each_params(route, value)  # raises the error naming the route
    if last is not None and len(last.items) == len(value) and all(
            map(operator.is_, value, last.items)):
        return last
    memo = last.by_item if last is not None else {}
    fresh: dict[int, tuple[Any, dict[str, Any], str]] = {}
    params: list[dict[str, Any]] = []
    paths: list[str] = []
    for index, item in enumerate(value):
        known = memo.get(id(item))
        if known is None or known[0] is not item:
            (param,) = each_params(route, [item], first=index)
            known = (item, param, fill_pattern(route.path, param, route=route.name))
        fresh[id(item)] = known
        params.append(known[1])
        paths.append(known[2])
    each = _EACH_MEMO[key] = EachPages(list(value), params, paths, fresh)
    return each


def export(config: Config) -> list[tuple[str, list[Any], list[dict[str, Any]], list[str]]]:
    """This site's memos: each route's name, items, ``$params`` and paths."""
    return [(key[2], each.items, each.params, each.paths) for key, each in _EACH_MEMO.items()
            if key[0] == str(config.site_dir) and key[1] == config.hash]


def adopt(config: Config, exported: object) -> None:
    """Take decoded ``export``ed memos (ignored unless of that form)."""
    if type(exported) is not list:
        return
    for entry in exported:
        if type(entry) is not tuple or len(entry) != 4 \
                or not all(type(part) is list for part in entry[1:]) \
                or not len(entry[1]) == len(entry[2]) == len(entry[3]):
            continue
        name, items, params, paths = entry
        by_item = {id(item): (item, param, path)
                   for item, param, path in zip(items, params, paths, strict=True)}
        _EACH_MEMO[(str(config.site_dir), config.hash, name)] = EachPages(
            items, params, paths, by_item)


__all__ = ["EachPages", "adopt", "each_pages", "export"]
