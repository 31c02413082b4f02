"""The values routes produce: ``PageSpec`` (one page to render), ``PageResult`` (an ``each``
route's per-page query result), ``RouteLike`` (what routes read of a route's config) and
``PageMaker``, which turns one route's values into pages with their tags. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ssgen.routes.patterns import fill_pattern


class RouteLike(Protocol):
    """The part of ``ssgen.config.load.RouteConfig`` this module reads."""

    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def template(self) -> str: ...
    @property
    def each(self) -> str | None: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def paginate(self) -> int | None: ...


@dataclass(frozen=True)
class PageSpec:
    """One page to render: its URL path, route, template, full template context and tags."""

    path: str
    route: str
    template: str
    context: dict[str, Any] = field(hash=False)
    tags: frozenset[str]
    params: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class PageResult:
    """The result of an ``each`` route's per-page query: its value and the ids it read."""

    value: Any
    ids: frozenset[str] = frozenset()


class PageMaker:
    """What every page of one route shares: route, site, globals, URL base, type tags."""

    def __init__(
        self,
        route: RouteLike,
        site: Any,
        data: Mapping[str, Any] | None,
        base_url: str,
        type_tags: set[str],
    ) -> None:
        self.route = route
        self.site = site
        self.data = data
        self.base_url = base_url.rstrip("/")
        self.type_tags = type_tags
        self.fixed_tags = {f"route:{route.name}"} | {f"global:{n}" for n in data or {}}

    def page(
        self,
        path: str,
        value: Any,
        ids: Iterable[str],
        *,
        fields: Any,
        params: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        doc_tags: frozenset[str] | None = None,
    ) -> PageSpec:
        context: dict[str, Any] = {
            "site": self.site,
            "data": self.data if self.data is not None else {},
            "page": value,
            "route": self.route.name,
            "path": path,
            "url": self.base_url + path,
        }
        context.update(extra or {})
        own = self.fixed_tags | self.type_tags
        own |= {self._own_tag(pattern, fields) for pattern in self.route.tags}
        if doc_tags is None:
            tags = frozenset(own.union(f"doc:{i}" for i in ids))
        else:
            tags = doc_tags.union(own)
        return PageSpec(path, self.route.name, self.route.template, context, tags, params or {})

    def _own_tag(self, pattern: str, fields: Any) -> str:
        return fill_pattern(pattern, fields, route=self.route.name, key="tag")
