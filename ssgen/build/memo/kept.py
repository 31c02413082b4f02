"""Pages a rebuild need not plan: each route's last recorded expansion, kept in this process.

A kept source (serve) hands back the very same item objects for unchanged documents, and
route expansion (``ssgen.routes.reuse``, ``ssgen.routes.paginate``) hands back the very
same ``PageSpec`` for a page whose data is unchanged. A page whose spec is the object a
recorded build planned is one the planner would find unchanged (same data hash, same
template, recorded), unless a template of its chain or a global its templates read
changed (``Scope.whole_routes``), it is forced (a failure, damage, a webhook's path), or
another build wrote pages since (the manifest's pages generation). ``split`` finds those
pages by identity, or by the spec's stamp (``ssgen.stamp``: a spec decoded apart from the
one it stands for has its stamp): a one-post edit plans the post and its neighbours, not
10,000 pages.

List, single and paginated routes are kept, and ``each`` routes paginated per item
(``routes.paginate.expand_document`` hands back the same pages; one re-queried in part
keeps its other items' last pages: ``ssgen.build.routepaths.merged``). The memo is taken
(removed) at the start of a build and stored again only after the build recorded its
pages, so a build that fails anywhere leaves none and the next one plans every page of the
routes it queries.

A source snapshot carries the memo to the next process (``export``, ``carry``): its pages
are objects of the snapshot, which the resumed route memos hand back for unchanged items.
They stand for the manifest's pages as of the snapshot's generation; a new process takes
them (``take_carried``) only with the paths every build since then planned or removed
(``ssgen.build.memo.pagelog``), which it plans whatever the memo says.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from itertools import compress, repeat
from typing import cast, overload

from ssgen.fastclass import dataclass
from ssgen.memos import site_memo
from ssgen.routes.page import PageSpec
from ssgen.routes.reuse import looked_at

Expansions = Mapping[str, list[PageSpec]]


@dataclass(frozen=True)
class _Kept:
    """A site's kept expansions and the manifest generation they were taken at."""

    generation: str
    routes: Expansions


_KEPT: dict[str, _Kept] = site_memo()
_CARRIED: dict[str, _Kept] = site_memo()  # from a snapshot: valid through the pages log


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


def export(site: str) -> tuple[str, Expansions] | None:
    """What is kept for ``site`` (its generation and expansions), for a snapshot."""
    found = _KEPT.get(site)
    return None if found is None else (found.generation, found.routes)


def carry(site: str, exported: object) -> None:
    """Take an ``export`` decoded from a snapshot (ignored unless of that form)."""
    if type(exported) is tuple and len(exported) == 2 and type(exported[0]) is str \
            and type(exported[1]) is dict \
            and all(type(name) is str and type(pages) is list
                    and all(type(page) is PageSpec for page in pages)
                    for name, pages in exported[1].items()):
        _CARRIED[site] = _Kept(exported[0], exported[1])


def take_carried(site: str, written: Callable[[str], frozenset[str] | None]) \
        -> tuple[Expansions, frozenset[str]]:
    """The carried expansions of ``site`` and the paths to plan whatever they say
    (``written(generation)``: the paths the builds since planned or removed; None: not
    known, and nothing is taken)."""
    found = _CARRIED.pop(site, None)
    if found is None:
        return {}, frozenset()
    since = written(found.generation)
    return ({}, frozenset()) if since is None else (found.routes, since)


def forget(site: str | None = None) -> None:
    """Drop what is kept (for ``site``, or for every site)."""
    if site is None:
        _KEPT.clear()
        _CARRIED.clear()
    else:
        _KEPT.pop(site, None)
        _CARRIED.pop(site, None)


def split(now: list[PageSpec], last: list[PageSpec], forced: AbstractSet[str],
          by_path: Mapping[str, int] | None = None) \
        -> tuple[list[PageSpec], Sequence[PageSpec]]:
    """``now`` as (pages to plan, pages kept as recorded): the pages that are not objects
    of ``last`` (by identity, in C: at the same place when the lists are as long, else
    anywhere in it) are planned, and so are the ``forced`` paths. Two pages an edit
    reached far apart (a post on the pages of two categories) are two pages, not every
    page between them. When the route's expansion says which places it looked at
    (``ssgen.routes.reuse.looked_at``), only those are compared: a one-post edit of a
    100,000-page route looks at a few places, not at every page three times.
    ``by_path``: each path's place in ``last``, all of them (``routepaths.places_of``): a
    page of ``now`` is then compared with the page at its path's place only (an ``each``
    route re-queried in part: its re-queried pages, not a set of every kept page)."""
    places = looked_at(now, last) if len(now) == len(last) else None
    kept: Sequence[PageSpec]
    if places is not None:
        at = [i for i in places if not _same(now[i], last[i])]
        fresh = [now[i] for i in at]
        kept = Without(now, at)
    else:
        if len(now) == len(last):
            same = list(map(operator.is_, now, last))  # in C; then the others by stamp
            for i in [i for i, found in enumerate(same) if not found]:
                same[i] = now[i].stamp == last[i].stamp
        elif by_path is not None and last and len(by_path) == len(last):
            same = _at_places(now, last, by_path)
        else:
            known = set(map(_STAMP, last))
            same = list(map(known.__contains__, map(_STAMP, now)))
        fresh = list(compress(now, map(operator.not_, same)))
        kept = list(compress(now, same))
    if forced and len(fresh) < len(kept):
        # A forced page that is planned already (the edited post's own) needs no pass
        # over the 100,000 kept pages of its route.
        forced = forced - {spec.path for spec in fresh}
    if forced:
        fresh += [spec for spec in kept if spec.path in forced]
        kept = [spec for spec in kept if spec.path not in forced]
    return fresh, kept


class Without(Sequence[PageSpec]):
    """``pages`` but those at the places ``gone`` (ascending), in order: the kept pages
    of a route whose expansion looked at a few places, not a copy of its 100,000 pages
    (each copy a reference count taken on every page: ~4 ms on serve's heap at 100k).
    ``pages`` is never changed once handed out (``ssgen.routes.patch`` copies it)."""

    __slots__ = ("_gone", "_pages")

    def __init__(self, pages: list[PageSpec], gone: list[int]) -> None:
        self._pages, self._gone = pages, gone

    def __len__(self) -> int:
        return len(self._pages) - len(self._gone)

    @overload
    def __getitem__(self, index: int) -> PageSpec: ...

    @overload
    def __getitem__(self, index: slice) -> list[PageSpec]: ...

    def __getitem__(self, index: int | slice) -> PageSpec | list[PageSpec]:
        if isinstance(index, slice):
            return list(self)[index]
        size = len(self)
        if not -size <= index < size:
            raise IndexError("Without index out of range")
        index %= size
        # The place in ``pages``: ``index`` plus the gone places at or before it.
        low, high = 0, len(self._gone)
        while low < high:
            middle = (low + high) // 2
            if self._gone[middle] - middle <= index:
                low = middle + 1
            else:
                high = middle
        return self._pages[index + low]

    def __iter__(self) -> Iterator[PageSpec]:
        gone = self._gone
        if not gone:
            return iter(self._pages)
        selected = [True] * len(self._pages)
        for at in gone:
            selected[at] = False
        return compress(self._pages, selected)


_STAMP = operator.attrgetter("stamp")
_PATH = operator.attrgetter("path")


def _at_places(now: list[PageSpec], last: list[PageSpec],
               places: Mapping[str, int]) -> list[bool]:
    """Whether each page of ``now`` is the page of ``last`` at its path's place (by
    identity in C, then by stamp). A path with no place is looked up at the last place:
    that page has another path (``places`` names every path of ``last``), so it is never
    the same spec (one spec, one path)."""
    at = cast("Iterator[int]", map(places.get, map(_PATH, now), repeat(-1)))
    olds = list(map(last.__getitem__, at))
    same = list(map(operator.is_, now, olds))
    for i in compress(range(len(same)), map(operator.not_, same)):
        same[i] = now[i].stamp == olds[i].stamp
    return same


def _same(spec: PageSpec, other: PageSpec) -> bool:
    """The very spec, or one with its stamp (decoded apart)."""
    return spec is other or spec.stamp == other.stamp


__all__ = ["Expansions", "Without", "carry", "export", "forget", "keep", "split", "take",
           "take_carried"]
