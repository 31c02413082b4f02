"""A one-page-per-item route's pages patched from its maintained query's delta (pure).

``ssgen.routes.reuse`` finds what changed since the last expansion by scanning the whole
list by identity (in C, but O(items)). A kept source's maintained query says what
changed instead (``ssgen.groq.maintained.delta``): the pages of the inserted, removed,
changed and moved items, of their new neighbours, of the items that were their
neighbours before (now found at each removed or moved item's old place), and the first
page are looked at; the rest of the specs and paths are the last ones, moved along by
list deletions and insertions (memory moves, no Python per item). ``patch`` says None
whenever the delta is not of the result the last expansion was made from, or names more
than ``MOST`` items: the caller then takes the scanning path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ssgen.groq.maintained import Delta
from ssgen.routes.reuse import ListPages

# Above this many named items the delta is not used (the scan is as cheap).
MOST = 64

Entry = tuple[Any, Any, Any, bool, Any]  # (item, prev, next, first, PageSpec)


def patch(last: ListPages, value: list[Any], delta: Delta | None,
          path_of: Callable[[Any], str], neighbours: bool) \
        -> tuple[tuple[list[Any], list[Any], list[str]], set[int]] | None:
    """``last``'s entries, specs and paths moved to ``value``'s places (None at the named
    items' new places), and the places whose page must be looked at again; None: the
    delta cannot be used."""
    if delta is None or last.marker is None or len(delta.result) != len(value) \
            or len(last.pages) != len(last.specs):
        return None
    if delta.result is last.marker and len(last.specs) == len(value):  # no change since
        return (last.specs.copy(), last.pages.copy(), last.paths.copy()), set()
    if delta.base is not last.marker or len(last.specs) != len(delta.base):
        return None
    named = delta.touched
    if len(named) > MOST:
        return None
    specs: list[Any] = last.specs.copy()
    pages: list[Any] = last.pages.copy()
    paths = last.paths.copy()
    gone = sorted((at for doc_id in delta.removed | delta.moved
                   if (at := delta.old_index(doc_id)) is not None), reverse=True)
    for at in gone:
        del specs[at], pages[at], paths[at]
    came = sorted((at, doc_id) for doc_id in delta.inserted | delta.moved
                  if (at := delta.index(doc_id)) is not None)
    for at, _ in came:
        specs.insert(at, None)
        pages.insert(at, None)
        paths.insert(at, "")
    if len(specs) != len(value):
        return None
    places = {0}
    for doc_id in named - delta.removed:
        at = delta.index(doc_id)
        if at is None:
            return None
        paths[at] = path_of(value[at])
        places.add(at)
        if neighbours:
            places.update((at - 1, at + 1))
    if neighbours:
        places |= _old_neighbours(delta)
    return (specs, pages, paths), {at for at in places if 0 <= at < len(value)}


def recount(counts: dict[str, int] | None, last: ListPages, paths: list[str],
            delta: Delta) -> tuple[dict[str, int] | None, set[str] | None]:
    """``counts`` (each path's count in ``last.paths``) made those of ``paths``, the
    patched ones, in place (the named items' paths at their old places out, at their new
    ones in), and the paths no longer in them. None: none kept, or they do not add up."""
    if counts is None or delta.result is last.marker:  # no change since
        return counts, set() if counts is not None else None
    dropped: set[str] = set()
    for doc_id in delta.touched:
        if (at := delta.old_index(doc_id)) is not None:
            path = last.paths[at]
            left = counts.get(path, 0) - 1
            if left < 0:
                return None, None
            if left:
                counts[path] = left
            else:
                del counts[path]
                dropped.add(path)
        if (at := delta.index(doc_id)) is not None:
            counts[paths[at]] = counts.get(paths[at], 0) + 1
    return counts, {path for path in dropped if path not in counts}


def _old_neighbours(delta: Delta) -> set[int]:
    """The places (in the new result) of the items that were next to a removed or moved
    one: their ``prev``/``next`` changed though they did not."""
    places: set[int] = set()
    for doc_id in delta.removed | delta.moved:
        at = delta.old_place(doc_id)
        places.update((at - 1, at))
    return places


__all__ = ["MOST", "patch", "recount"]
