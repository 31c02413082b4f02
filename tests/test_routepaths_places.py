"""``routepaths.merged``'s common round from the places it kept (``_PLACES``): the very
list ``before`` it returned last, the route's paths as then, each page re-queried at a
path of it: ``before`` copied, those pages put at their places. A hypothesis property
over rounds (pages re-queried, paths gone, paths new, a ``before`` that is not the list
last returned) against the pass over every page it replaces. Mutants caught: the places
taken whatever the route's paths now (a page whose path left the route kept)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import mutant

from ssgen.build import routepaths
from ssgen.routes.page import PageSpec


def _page(path: str, version: int) -> PageSpec:
    return PageSpec(path, "author", "author.html", {"v": version}, frozenset())


def _reference(before: list[PageSpec] | None, pages: list[PageSpec],
               paths: set[str]) -> list[PageSpec]:
    """``merged`` as it was: one pass over every page of ``before``."""
    if not before:
        return []
    made = {page.path: page for page in pages}
    kept = [made.pop(page.path, page) for page in before if page.path in paths]
    return kept + list(made.values())


# A round: which of the route's paths are re-queried, which leave it, whether one is new,
# and whether the next ``before`` is a copy of the list ``merged`` returned.
rounds = st.lists(st.tuples(st.sets(st.integers(0, 11), max_size=4),
                            st.sets(st.integers(0, 11), max_size=2), st.booleans(),
                            st.booleans()), min_size=1, max_size=8)


def _check(steps: list[tuple[set[int], set[int], bool, bool]]) -> None:
    routepaths._PLACES.clear()
    paths = {f"/a/{n}/" for n in range(8)}
    before: list[PageSpec] = [_page(path, 0) for path in sorted(paths)]
    for version, (queried, gone, new, copied) in enumerate(steps, start=1):
        paths -= {f"/a/{n}/" for n in gone}
        if new:
            paths.add(f"/a/new{version}/")
        pages = [_page(f"/a/{n}/", version) for n in sorted(queried)
                 if f"/a/{n}/" in paths]
        pages += [_page(path, version) for path in sorted(paths) if "new" in path
                  and path not in {page.path for page in before}]
        found = routepaths.merged(before, pages, set(paths))
        expected = _reference(before, pages, paths)
        assert [(p.path, p.context) for p in found] == \
            [(p.path, p.context) for p in expected], (version, found, expected)
        assert all(a is b for a, b in zip(found, expected, strict=True))
        before = list(found) if copied else found


@settings(max_examples=60, deadline=None)
@given(rounds)
def test_merged_from_its_places_equals_the_pass_over_every_page(
        steps: list[tuple[set[int], set[int], bool, bool]]) -> None:
    _check(steps)


def test_the_common_round_takes_the_places() -> None:
    """Two rounds re-querying one page each: the second copies the first's list."""
    routepaths._PLACES.clear()
    paths = {f"/a/{n}/" for n in range(4)}
    before = [_page(path, 0) for path in sorted(paths)]
    first = routepaths.merged(before, [_page("/a/1/", 1)], set(paths))
    assert id(first) in routepaths._PLACES
    second = routepaths.merged(first, [_page("/a/2/", 2)], set(paths))
    assert [p.context["v"] for p in second] == [0, 1, 2, 0]
    assert id(second) in routepaths._PLACES and id(first) not in routepaths._PLACES


def _taking(ignore: str) -> Callable[..., list[PageSpec]]:
    """``merged`` with one of the places' conditions left out: the route's paths as
    then (``paths``), or every re-queried page at a known place (``new``)."""
    real = routepaths.merged

    def merged(before: list[PageSpec] | None, pages: list[PageSpec], paths: Any,
               order: Any = None) -> list[PageSpec]:
        known = routepaths._PLACES.get(id(before))
        if before and known is not None and (ignore == "paths" or known[2] == paths) \
                and (ignore == "new" or all(page.path in known[1] for page in pages)):
            kept = list(before)
            for page in pages:
                if page.path in known[1]:
                    kept[known[1][page.path]] = page
            routepaths._remember(kept, known[1], known[2])
            return kept
        return real(before, pages, paths, order)
    return merged


def test_mutant_places_taken_whatever_the_paths_is_caught() -> None:
    with mutant(routepaths, "merged", _taking("paths")), pytest.raises(AssertionError):
        _check([({1}, set(), False, False), ({2}, {3}, False, False)])


def test_the_common_round_keeps_the_routes_own_path_set() -> None:
    """The places remember the route's own (equal) path set, so that the next round
    finds it by identity instead of comparing every path again."""
    routepaths._PLACES.clear()
    names = [f"/a/{n}/" for n in range(4)]
    before = [_page(path, 0) for path in names]
    first = routepaths.merged(before, [_page("/a/1/", 1)], frozenset(names))
    own = frozenset(names)
    second = routepaths.merged(first, [_page("/a/2/", 2)], own)
    assert routepaths._PLACES[id(second)][2] is own
    third = routepaths.merged(second, [_page("/a/3/", 3)], own)
    assert [p.context["v"] for p in third] == [0, 1, 2, 3]
    assert routepaths._PLACES[id(third)][2] is own
