"""A page's ``doc:`` tags kept between expansions (routes/page.py) are always those of
the ids it read this time: generated sequences of id sets for the same pages, small
and large (kept from 64 ids), must give exactly ``{"doc:" + id}``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.routes.page import page_doc_tags, page_tags

ids = st.sets(st.sampled_from([f"p{i}" for i in range(100)]), max_size=100)


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(["/a/", "/b/"]), ids), min_size=1, max_size=8))
def test_kept_doc_tags_are_those_of_the_ids_read_now(steps: list[tuple[str, set[str]]]) -> None:
    for path, read in steps:
        assert page_doc_tags("author", path, read) == frozenset(f"doc:{i}" for i in read)


own = st.sets(st.sampled_from(["route:home", "global:settings", "type:post", "posts"]))
# Few ids, or enough for the kept sets (64 and more).
some_ids = st.one_of(st.sets(st.sampled_from([f"p{i}" for i in range(100)]), max_size=8),
                     st.sets(st.sampled_from([f"p{i}" for i in range(100)]), min_size=64))


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(["/a/", "/b/"]), some_ids, own, st.booleans()),
                      min_size=1, max_size=8))
def test_a_pages_tags_are_its_doc_tags_and_its_own_now(
        steps: list[tuple[str, set[str], set[str], bool]]) -> None:
    """``page_tags`` kept between expansions is always the union of this time's sets
    (the same ``doc:`` set object again, or a new one, with other tags of its own)."""
    last: dict[str, frozenset[str]] = {}
    for path, read, mine, again in steps:
        doc_tags = last[path] if again and path in last else page_doc_tags("home", path, read)
        last[path] = doc_tags
        assert page_tags("home", path, doc_tags, mine) == doc_tags | mine


def test_the_same_doc_tags_and_own_tags_give_the_very_union() -> None:
    """A page of many ``doc:`` tags (the home page reads every post) gets the last
    union back, not a new set of them all, while its sets are the same; a new union
    when its own tags or its ``doc:`` set changed."""
    doc_tags = page_doc_tags("home", "/", {f"p{i}" for i in range(100)})
    first = page_tags("home", "/", doc_tags, {"route:home"})
    assert page_tags("home", "/", doc_tags, {"route:home"}) is first
    other = page_tags("home", "/", doc_tags, {"route:home", "posts"})
    assert other is not first and other == doc_tags | {"route:home", "posts"}
    fewer = page_doc_tags("home", "/", {f"p{i}" for i in range(99)})
    assert page_tags("home", "/", fewer, {"route:home", "posts"}) == fewer | {
        "route:home", "posts"}
