"""A one-page-per-item route's pages patched from its maintained query's delta (pure).

``ssgen.routes.reuse`` finds what changed since the last expansion by scanning the whole
list by identity (in C, but O(items)). A kept source's maintained query says what
changed instead (``ssgen.groq.maintained.delta``): the pages of the inserted, removed,
changed and moved items, of their new neighbours, of the items that were their
neighbours before (now found at each removed or moved item's old place), and the first
page are looked at; the rest of the specs and paths are the last ones, moved along by
list deletions and insertions (memory moves, no Python per item). ``patch`` says None
whenever the delta is not of the result the last expansion was made from (by the
results' versions, ``ssgen.stamp``), or names more
than ``MOST`` items: the caller then takes the scanning path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ssgen.routes.reuse import ListPages

if TYPE_CHECKING:  # only a kept source has deltas: a new process's build never loads them
    from ssgen.groq.maintained import Delta

# Above this many named items the delta is not used (the scan is as cheap).
MOST = 64

# (item's token, prev's, next's, first, PageSpec): ``ssgen.routes.reuse``'s tokens.
Entry = tuple[Any, Any, Any, bool, Any]


class Patched(NamedTuple):
    """The entries, specs and paths at ``value``'s places, the places to look at again,
    and the paths of the named items at their old places and at their new ones;
    ``aligned``: no item was inserted, removed or moved, so every spec outside ``places``
    is the last expansion's at the same place."""

    lists: tuple[list[Any], list[Any], list[str]]
    places: set[int]
    out: list[str]
    came: list[str]
    aligned: bool = False


def patch(last: ListPages, value: Sequence[Any], delta: Delta | None,
          path_of: Callable[[Any], str], neighbours: bool) -> Patched | None:
    """``last``'s entries, specs and paths moved to ``value``'s places (None at the named
    items' new places); None: the delta cannot be used. ``last``'s entries and paths are
    taken and changed in place (the caller drops ``last``; no copy of 100k-long lists),
    its pages copied (the last expansion handed them out: they stay as they were)."""
    if delta is None or last.marker is None or len(delta.result) != len(value) \
            or len(last.pages) != len(last.specs):
        return None
    if delta.version == last.marker and len(last.specs) == len(value):  # no change since
        return Patched((last.specs, last.pages.copy(), last.paths), set(), [], [], True)
    if delta.base_version != last.marker or len(last.specs) != len(delta.base):
        return None
    named = delta.touched
    if len(named) > MOST:
        return None
    gone = sorted((at for doc_id in delta.removed | delta.moved
                   if (at := delta.old_index(doc_id)) is not None), reverse=True)
    came = sorted(at for doc_id in delta.inserted | delta.moved
                  if (at := delta.index(doc_id)) is not None)
    news = [delta.index(doc_id) for doc_id in named - delta.removed]
    if len(last.specs) - len(gone) + len(came) != len(value) or None in news:
        return None
    # Nothing below gives up: ``last``'s lists are ``value``'s from here on.
    out = [last.paths[at] for doc_id in named if (at := delta.old_index(doc_id)) is not None]
    specs: list[Any] = last.specs
    pages: list[Any] = last.pages.copy()
    paths = last.paths
    for at in gone:
        del specs[at], pages[at], paths[at]
    for at in came:
        specs.insert(at, None)
        pages.insert(at, None)
        paths.insert(at, "")
    places = {0}
    for at in news:
        assert at is not None
        paths[at] = path_of(value[at])
        places.add(at)
        if neighbours:
            places.update((at - 1, at + 1))
    if neighbours:
        places |= _old_neighbours(delta)
    return Patched((specs, pages, paths), {at for at in places if 0 <= at < len(value)}, out,
                   [paths[at] for at in news if at is not None], not gone and not came)


def recount(counts: dict[str, int] | None, out: list[str],
            came: list[str]) -> tuple[dict[str, int] | None, set[str] | None]:
    """``counts`` (each path's count in the last expansion) made those of this one in
    place: the named items' ``out`` paths (at their old places) out, those that ``came``
    in; and the paths no longer in them. None: none kept, or they do not add up."""
    if counts is None:
        return None, None
    dropped: set[str] = set()
    for path in out:
        left = counts.get(path, 0) - 1
        if left < 0:
            return None, None
        if left:
            counts[path] = left
        else:
            del counts[path]
            dropped.add(path)
    for path in came:
        counts[path] = counts.get(path, 0) + 1
    return counts, {path for path in dropped if path not in counts}


def _old_neighbours(delta: Delta) -> set[int]:
    """The places (in the new result) of the items that were next to a removed or moved
    one: their ``prev``/``next`` changed though they did not."""
    places: set[int] = set()
    for doc_id in delta.removed | delta.moved:
        at = delta.old_place(doc_id)
        places.update((at - 1, at))
    return places


__all__ = ["MOST", "Patched", "patch", "recount"]
