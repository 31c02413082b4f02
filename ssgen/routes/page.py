"""The values routes produce: ``PageSpec`` (one page to render), ``PageResult`` (an ``each``
route's per-page query result), ``RouteLike`` (what routes read of a route's config) and
``PageMaker``, which turns one route's values into pages with their tags. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import field
from typing import TYPE_CHECKING, Any, Protocol

from ssgen import stamp
from ssgen.fastclass import dataclass
from ssgen.memos import site_memo
from ssgen.routes.patterns import fill_pattern

if TYPE_CHECKING:
    from ssgen.groq.maintained import Delta


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
    @property
    def paginate_by(self) -> str | None: ...


@dataclass(frozen=True)
class PageSpec:
    """One page to render: its URL path, route, template, full template context and tags.

    ``stamp`` (``ssgen.stamp``) is this spec's own, made with it and kept by a snapshot:
    the memos that know a spec by identity (the planner's kept pages, data hashes, the
    feed's entries) take an equal stamp for the same spec. Not compared: two specs of
    equal fields are equal whatever their stamps."""

    path: str
    route: str
    template: str
    context: dict[str, Any] = field(hash=False)
    tags: frozenset[str]
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    stamp: int = field(default_factory=stamp.new, hash=False, compare=False, repr=False)


@dataclass(frozen=True)
class PageResult:
    """The result of an ``each`` route's per-page query: its value and the ids it read;
    ``nested``: a kept source's deltas of the value's maintained nested lists, by
    attribute (``ssgen.sources.QueryResult.nested``); ``refs``: the ids its
    ``references()`` lookups took (``QueryResult.refs``; None: not reported)."""

    value: Any
    ids: frozenset[str] = frozenset()
    nested: Mapping[str, Delta] | None = None
    refs: frozenset[str] | None = None


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
        types: bool = True,
        more_tags: frozenset[str] = frozenset(),
    ) -> PageSpec:
        context: dict[str, Any] = {
            "site": self.site,
            "data": self.data if self.data is not None else {},
            "page": value,
            "route": self.route.name,
            "path": path,
            "url": self.base_url + path,
        }
        if extra:
            context.update(extra)
        # ``types`` False: a page re-queried only with another that carries them.
        own = self.fixed_tags | self.type_tags | more_tags if types else self.fixed_tags
        if self.route.tags:
            own = own | {self._own_tag(pattern, fields) for pattern in self.route.tags}
        if doc_tags is None:
            doc_tags = page_doc_tags(self.route.name, path, ids)
        tags = page_tags(self.route.name, path, doc_tags, own)
        return PageSpec(path, self.route.name, self.route.template, context, tags, params or {})

    def _own_tag(self, pattern: str, fields: Any) -> str:
        return fill_pattern(pattern, fields, route=self.route.name, key="tag")


# Per (route, path), the ids a page read last and their ``doc:`` tags: an author page of
# an ``each`` route reads 2,000+ posts and is expanded again in every serve round that
# touches a post; the same ids give the same tags (a pure function of them), so only
# the comparison, in C, is paid. Pages reading few ids make theirs afresh.
_DOC_TAGS: dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = site_memo()
_KEEP_FROM = 64


def page_doc_tags(route: str, path: str, ids: Iterable[str]) -> frozenset[str]:
    """``doc:<id>`` for each of ``ids``."""
    ids = ids if isinstance(ids, frozenset) else frozenset(ids)
    if len(ids) < _KEEP_FROM:
        return frozenset([f"doc:{i}" for i in ids])
    last = _DOC_TAGS.get((route, path))
    if last is not None and (last[0] is ids or last[0] == ids):
        return last[1]
    tags = frozenset([f"doc:{i}" for i in ids])
    _DOC_TAGS[(route, path)] = (ids, tags)
    return tags


# Per (route, path), a page's ``doc:`` tags, its other tags and their union, for pages
# of many ``doc:`` tags: the home page reads every post (100,000 tags), and a new union
# per round cost ~4 ms at 30,000 posts; the same object also lets the data hash's memo
# compare the tags by identity (``build.memo.datahash``).
_TAGS: dict[tuple[str, str], tuple[frozenset[str], frozenset[str], frozenset[str]]] = \
    site_memo()


def page_tags(route: str, path: str, doc_tags: frozenset[str],
              own: AbstractSet[str]) -> frozenset[str]:
    """``doc_tags`` with ``own``: the last union when ``doc_tags`` is the very set it
    was made from and ``own`` is equal."""
    if len(doc_tags) < _KEEP_FROM:
        return doc_tags.union(own)
    last = _TAGS.get((route, path))
    if last is not None and last[0] is doc_tags and last[1] == own:
        return last[2]
    tags = doc_tags.union(own)
    _TAGS[(route, path)] = (doc_tags, frozenset(own), tags)
    return tags
