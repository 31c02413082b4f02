"""Composed page data hashes (build/memo/datahash.py): reusing the items hashed last time for a
page gives the hash a cold start gives, and different data gives a different hash."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.build.memo.datahash import LONG_LIST, composed_hash, page_data_hash
from ssgen.routes.page import PageSpec

cards = st.lists(st.integers(0, 5), min_size=LONG_LIST - 3, max_size=LONG_LIST * 2)
# Edits of the list: replace, insert, delete, an equal copy, one object twice (the other items
# stay the very same objects, as a kept source's maintained results hand them back).
edits = st.lists(st.tuples(st.sampled_from(["replace", "insert", "delete", "copy", "twice"]),
                           st.integers(0, LONG_LIST * 2), st.integers(0, 5)), max_size=4)


def card(n: int) -> dict[str, Any]:
    return {"title": f"t{n}", "tags": [n, n + 1], "author": {"name": f"a{n % 2}"}}


def edited(items: list[Any], steps: list[tuple[str, int, int]]) -> list[Any]:
    items = list(items)
    for what, at, n in steps:
        at = at % (len(items) + 1)
        if what == "insert":
            items.insert(at, card(n))
        elif what == "twice" and items:  # the very same object at a second place
            items.insert(at, items[n % len(items)])
        elif items and at < len(items):
            if what == "replace":
                items[at] = card(n)
            elif what == "delete":
                del items[at]
            else:  # an equal value, another object
                items[at] = copy.deepcopy(items[at])
    return items


def page(items: list[Any]) -> dict[str, Any]:
    return {"page": {"name": "A", "posts": items}, "path": "/a/", "all": items}


@settings(max_examples=150, deadline=None)
@given(first=cards, steps=edits)
def test_reused_item_hashes_give_the_cold_hash(first: list[int], steps: list[Any]) -> None:
    made = {n: card(n) for n in set(first)}
    before = [made[n] for n in first]  # equal numbers: the very same object
    lists: dict[Any, Any] = {}
    composed_hash(page(before), None, lists)
    after = edited(before, steps)
    again: dict[Any, Any] = {}
    warm = composed_hash(page(after), lists, again)
    assert warm == composed_hash(page(copy.deepcopy(after)))
    assert (warm == composed_hash(page(before))) == (after == before)
    # and the next round, from this one's lists
    assert composed_hash(page(after), again) == warm


def test_page_data_hash_follows_the_data_not_the_objects() -> None:
    items = [card(n % 6) for n in range(LONG_LIST + 5)]
    spec = PageSpec("/a/", "author", "a.html", {"site": 1, "data": {}, **page(items)},
                    frozenset())
    first = page_data_hash(spec, "test-site")
    assert page_data_hash(spec, "test-site") == first
    retitled = list(items)
    retitled[7] = {**items[7], "title": "new"}
    changed = PageSpec("/a/", "author", "a.html", {"site": 2, "data": {}, **page(retitled)},
                       frozenset())
    digest = page_data_hash(changed, "test-site")
    assert digest != first
    assert digest == page_data_hash(changed, "other-site")  # cold: same value, same hash


@settings(max_examples=100, deadline=None)
@given(urls=st.lists(st.text(max_size=6), min_size=LONG_LIST, max_size=LONG_LIST * 3),
       other=st.lists(st.text(max_size=6), min_size=LONG_LIST, max_size=LONG_LIST * 3))
def test_a_shared_list_of_scalars_hashes_as_its_value(urls: list[str], other: list[str]) -> None:
    # A paginated route gives every page the same list object of page URLs: hashed once,
    # by identity, yet the hash is the value's (a copy, or a cold start, agree).
    def pages(shared: list[str]) -> dict[str, Any]:
        return {"paginator": {"number": 1, "urls": shared}, "path": "/blog/"}

    warm = composed_hash(pages(urls))
    assert composed_hash(pages(urls)) == warm
    assert composed_hash(pages(list(urls))) == warm
    assert (composed_hash(pages(other)) == warm) == (other == urls)


def test_a_carried_hash_memo_knows_its_spec_by_the_stamp_only() -> None:
    # A snapshot carries a page's memo without its own values (they need not be the
    # decoded items): the spec of the same stamp takes the digest, any other is hashed.
    from ssgen.build.memo import (
        carry,  # noqa: F401  (registers the memo's encoding)
        datahash,
    )
    from ssgen.sources.snapshot import codec

    site = "carried-site"
    items = [card(n % 6) for n in range(LONG_LIST + 5)]
    spec = PageSpec("/a/", "author", "a.html", {"site": 1, "data": {}, **page(items)},
                    frozenset())
    first = page_data_hash(spec, site)
    carried = codec.decode(codec.encode(datahash.export(site)))
    ((path, known),) = carried
    assert path == "/a/" and known.own is None and known.digest == first
    try:
        datahash.forget(site)
        datahash.adopt(site, carried)
        assert page_data_hash(known.spec, site) == first  # by its stamp
        retitled = list(items)
        retitled[7] = {**items[7], "title": "new"}
        changed = PageSpec("/a/", "author", "a.html",
                           {"site": 1, "data": {}, **page(retitled)}, frozenset())
        assert page_data_hash(changed, site) == page_data_hash(changed, "cold") != first
        datahash.forget(site)
        datahash.adopt(site, codec.decode(codec.encode(carried)))
        again = PageSpec("/a/", "author", "a.html", dict(spec.context), frozenset())
        assert page_data_hash(again, site) == first  # the same values, hashed again
    finally:
        datahash.forget(site)
        datahash.forget("cold")


tag_sets = st.frozensets(st.integers(0, 60).map(lambda i: f"doc:d{i}"), max_size=40)


@settings(max_examples=40, deadline=None)
@given(sets=st.lists(tag_sets, min_size=1, max_size=4))
def test_a_page_of_many_tags_sums_them_as_a_cold_start_does(
        sets: list[frozenset[str]]) -> None:
    """``tagged`` with a page's key updates the last sum of a page of many tags by the
    tags that changed: always the digest a cold start (no key) gives, and tag sets that
    differ give different digests."""
    from ssgen.build.memo import datahash

    many, datahash._MANY_TAGS = datahash._MANY_TAGS, 4  # the update path at any size
    for tags in sets:
        assert datahash.tagged("d", tags, ("site", "/many/")) == datahash.tagged("d", tags)
    datahash._MANY_TAGS = many
    distinct = set(sets)
    assert len({datahash.tagged("d", tags) for tags in distinct}) == len(distinct)
