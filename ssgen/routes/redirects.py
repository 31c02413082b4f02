"""Path history + ``[[redirects]]`` -> the site's redirects (pure).

``resolve`` decides, for every path that once had a document's page and has none now,
what it answers: a 301 to the document's current path in the same route, else (the
document is unpublished or deleted) a 301 to the route's ``gone`` path, else a 410.
Hand-written rules are added (they replace an automatic one for the same path); a rule
whose source has a page again is dropped (a new page at an old path replaces the
redirect). Chains collapse: every redirect points at its chain's final target, and a
chain that ends at a 410 (or, through a route's ``gone`` path, runs in a circle) is a 410,
so no published redirect leads to another redirect and none can loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass as ordered_dataclass

from ssgen.config.redirects import RedirectRule, path_key
from ssgen.fastclass import dataclass
from ssgen.routes.paths import canonical_path

GONE = 410


@ordered_dataclass(frozen=True, order=True)  # ordered: fastclass makes no __lt__
class Redirect:
    """``source`` answers ``status``: a redirect to ``to``, or a 410 when ``to`` is None."""

    source: str
    to: str | None
    status: int
    external: bool = False


@dataclass(frozen=True)
class RouteRedirects:
    """What one route says about its old paths (``ssgen.config.load.RouteConfig``'s part)."""

    enabled: bool = True
    gone: str | None = None


@dataclass(frozen=True)
class OldPath:
    """A path that has no page now, and the document (of ``route``) it last served."""

    path: str
    route: str
    doc_id: str


def resolve(old: Iterable[OldPath], current: Mapping[tuple[str, str], str],
            routes: Mapping[str, RouteRedirects], rules: Iterable[RedirectRule],
            has_page: Callable[[str], bool]) -> list[Redirect]:
    """The redirects, by source. ``current``: (route, doc id) -> its page's path now;
    ``has_page(path)``: whether a page is at a hand-written rule's source."""
    found: dict[str, Redirect] = {}
    for row in old:
        options = routes.get(row.route, RouteRedirects())
        if not options.enabled:
            continue
        target = current.get((row.route, row.doc_id)) or options.gone
        found[path_key(row.path)] = (Redirect(row.path, target, 301) if target
                                     else Redirect(row.path, None, GONE))
    for rule in rules:
        source = canonical_path(rule.source)
        if has_page(source):
            continue
        to = rule.to if rule.external or rule.to is None else canonical_path(rule.to)
        found[path_key(source)] = Redirect(source, to, rule.status, rule.external)
    return sorted(_collapse(found).values())


def _collapse(found: dict[str, Redirect]) -> dict[str, Redirect]:
    final: dict[str, Redirect] = {}
    for key, redirect in found.items():
        seen = {key}
        hop = redirect
        while hop.to is not None and not hop.external:
            nxt = found.get(path_key(hop.to))
            if nxt is None:
                break
            if path_key(nxt.source) in seen:  # a circle through a route's gone path
                hop = Redirect(hop.source, None, GONE)
                break
            seen.add(path_key(nxt.source))
            hop = nxt
        if hop.to is None:
            final[key] = Redirect(redirect.source, None, GONE)
        else:
            final[key] = Redirect(redirect.source, hop.to, redirect.status, hop.external)
    return final


def current_paths(rows: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str], str]:
    """(route, doc id) -> the path of its page, from live (path, route, doc id) rows; a
    document with several pages in one route is sent to the first path in order."""
    current: dict[tuple[str, str], str] = {}
    for path, route, doc_id in sorted(rows):
        current.setdefault((route, doc_id), path)
    return current


__all__ = ["GONE", "OldPath", "Redirect", "RouteRedirects", "current_paths", "resolve"]
