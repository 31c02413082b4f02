"""Pages a rebuild need not plan: each route's last recorded expansion, kept in this process.

A kept source (serve) hands back the very same item objects for unchanged documents, and
route expansion (``ssgen.routes.reuse``, ``ssgen.routes.paginate``) hands back the very
same ``PageSpec`` for a page whose data is unchanged. A page whose spec is the object a
recorded build planned is one the planner would find unchanged (same data hash, same
template, recorded), unless a template of its chain or a global its templates read
changed (``Scope.whole_routes``), it is forced (a failure, damage, a webhook's path), or
another build wrote pages since (the manifest's pages generation). ``split`` finds those
pages by identity: a one-post edit plans the post and its neighbours, not 10,000 pages.

List, single and paginated routes are kept, and ``each`` routes paginated per item
(``routes.paginate.expand_document`` hands back the same pages; one re-queried in part
keeps its other items' last pages: ``ssgen.build.routepaths.merged``). The memo is taken
(removed) at the start of a build and stored again only after the build recorded its
pages, so a build that fails anywhere leaves none and the next one plans every page of the
routes it queries.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from itertools import compress

from ssgen.fastclass import dataclass
from ssgen.routes.page import PageSpec

Expansions = Mapping[str, list[PageSpec]]


@dataclass(frozen=True)
class _Kept:
    generation: str
    routes: Expansions


_KEPT: dict[str, _Kept] = {}


def take(site: str, generation: str | None) -> Expansions:
    """The expansions recorded by this process's last build of ``site`` (``site``: the
    site folder and build key), when the manifest's pages are still as it left them."""
    kept = _KEPT.pop(site, None)
    if kept is None or not generation or kept.generation != generation:
        return {}
    return kept.routes


def keep(site: str, generation: str | None, routes: Expansions) -> None:
    """Remember the expansions a build just recorded (under the generation it left)."""
    if generation:
        _KEPT[site] = _Kept(generation, routes)


def forget(site: str | None = None) -> None:
    """Drop what is kept (for ``site``, or for every site)."""
    if site is None:
        _KEPT.clear()
    else:
        _KEPT.pop(site, None)


def split(now: list[PageSpec], last: list[PageSpec],
          forced: AbstractSet[str]) -> tuple[list[PageSpec], list[PageSpec]]:
    """``now`` as (pages to plan, pages kept as recorded): the pages that are not objects
    of ``last`` (by identity, in C: at the same place when the lists are as long, else
    anywhere in it) are planned, and so are the ``forced`` paths. Two pages an edit
    reached far apart (a post on the pages of two categories) are two pages, not every
    page between them."""
    if len(now) == len(last):
        same = list(map(operator.is_, now, last))
    else:
        known = set(map(id, last))  # alive in ``last``: an id is its object's
        same = list(map(known.__contains__, map(id, now)))
    fresh = list(compress(now, map(operator.not_, same)))
    kept = list(compress(now, same))
    if forced:
        fresh += [spec for spec in kept if spec.path in forced]
        kept = [spec for spec in kept if spec.path not in forced]
    return fresh, kept


__all__ = ["Expansions", "forget", "keep", "split", "take"]
