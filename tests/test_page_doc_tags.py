"""A page's ``doc:`` tags kept between expansions (routes/page.py) are always those of
the ids it read this time: generated sequences of id sets for the same pages, small
and large (kept from 64 ids), must give exactly ``{"doc:" + id}``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.routes.page import page_doc_tags

ids = st.sets(st.sampled_from([f"p{i}" for i in range(100)]), max_size=100)


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(["/a/", "/b/"]), ids), min_size=1, max_size=8))
def test_kept_doc_tags_are_those_of_the_ids_read_now(steps: list[tuple[str, set[str]]]) -> None:
    for path, read in steps:
        assert page_doc_tags("author", path, read) == frozenset(f"doc:{i}" for i in read)
