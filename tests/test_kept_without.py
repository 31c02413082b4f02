"""``kept.Without``: a route's kept pages as its page list without the places a split
planned (no copy of 100,000 pages), against the list with those places deleted."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.build.memo.kept import Without
from ssgen.routes.page import PageSpec


def _pages(count: int) -> list[PageSpec]:
    return [PageSpec(f"/p/{i}/", "post", "post.html", {}, frozenset()) for i in range(count)]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 40).flatmap(lambda n: st.tuples(
    st.just(n), st.sets(st.integers(0, max(n - 1, 0)), max_size=n))))
def test_without_is_the_list_with_the_places_deleted(case: tuple[int, set[int]]) -> None:
    count, gone = case
    pages = _pages(count)
    gone = {at for at in gone if at < count}
    expected = pages.copy()
    for at in sorted(gone, reverse=True):
        del expected[at]
    view = Without(pages, sorted(gone))
    assert len(view) == len(expected)
    assert list(view) == expected
    assert all(a is b for a, b in zip(view, expected, strict=True))
    for index in range(-len(expected), len(expected)):
        assert view[index] is expected[index]
    assert view[1:-1] == expected[1:-1]
    for index in (len(expected), -len(expected) - 1):
        with pytest.raises(IndexError):
            view[index]
