"""Maintained query results equal a full evaluation after any sequence of edits."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from maintkit import maintain

from ssgen.groq.dataset import Dataset
from ssgen.groq.maintained import Shape, explain, shape_of
from ssgen.groq.parser import parse

NOW = "2026-01-01T00:00:00Z"

QUERIES = [
    '*[_type == "post"]',
    '*[_type == "post" && defined(slug.current)]{"slug": slug.current}',
    '*[_type == "post" && defined(slug.current)] | order(publishedAt desc)'
    '{title, "slug": slug.current, publishedAt}',
    '*[_type == "post"] | order(rank asc, title desc){title, rank, "author": author->name}',
    '*[_type == "post" && author->name == "A"]{title}',
    '*[_type == "post" && slug.current == $slug]{title, "cats": categories[]->title}',
    '*[_type in ["post", "author"]] | order(_id desc)[1..3]{_id}',
    '*[author._ref == $author] | order(title)._id',
    '*[count(categories) > 1 || rank > 2]{_id, "n": count(categories)}',
    '*[_id in $ids]{_id, title}',
    '*[_type == "author"]{name, "first": {"_ref": "a0"}->name}',
    '*[_type == "post"] | order(rank)[0..2]{title, "a": author->name}',
    '*[_type == "post"]{title, "a": author->name}[1...3]',
    '*[_type == "post"]._id',
    # Index-planned subqueries (also correlated with ^), count(), nested -> projections:
    '*[_type == "post"]{"n": count(*[_type == "author"])}',
    'count(*[_type == "post"])',
    'count(*[_type == "post" && references($author)])',
    '*[_type == "category"]{title, "posts": *[_type == "post" && references(^._id)]'
    ' | order(publishedAt desc)[0...2]{title}}',
    '*[_type == "author"] | order(name, _id){name,'
    ' "n": count(*[_type == "post" && author._ref == ^._id])}',
    '*[_type == "post"]{title, "a": author->{name, "n": count(*[references(^._id)])},'
    ' "c": categories[]->{title}}',
    '*[_type == "post" && count(*[references(^._id)]) > 0]._id',
    '*[_type == "post"] | order(count(*[references(^._id)]) desc, _id)[0...3]._id',
    '*[_type in ["post", "author"]]{"self": *[_id == ^._id][0].title,'
    ' "same": *[_type == ^._type && title == ^.title]._id}',
    # One element, optionally projected (the author and category pages' per-page query):
    '*[_type == "post"][0]',
    '*[_type == "post"] | order(rank desc, _id)[-1]{title}',
    '*[_type == "post"] | order(title)[2]',
    '*[_type == "author" && slug.current == $slug][0]{_id, name, "posts":'
    ' *[_type == "post" && references(^._id)] | order(publishedAt desc){title, "a": author->name}}',
]
PARAMS: dict[str, Any] = {"slug": "s1", "author": "a1", "ids": ["p1", "p2", "a0", "nope"]}


def test_route_shapes_are_maintainable() -> None:
    for text in QUERIES:
        assert shape_of(parse(text)) is not None, text


@pytest.mark.parametrize("text", [
    '*[_type == "post"]{"n": count(*[defined(rank)])}',  # a scan in every item
    '*[_type == "post"]{"all": *}',
    'count(*)',
    '*[_type == "post" && publishedAt < now()]',
    '*[_type == "post"][0].title',
    '*[_type == "post"]{"p": ^._id}',
    '*[_type == "post" && ^._id == "x"]',
    'count(*[_type == "post"] | order(title))',
])
def test_other_shapes_are_evaluated_in_full(text: str) -> None:
    assert shape_of(parse(text)) is None
    assert isinstance(explain(parse(text)), str)


def test_the_reason_names_what_to_fix() -> None:
    reason = explain(parse('*[_type == "author"]{"n": count(*[author._ref != ^._id])}'))
    assert isinstance(reason, str) and "scans every document" in reason
    assert "now()" in str(explain(parse('*[_type == "post" && publishedAt < now()]')))


def post(i: int, draw_values: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": f"p{i}", "_type": "post", **draw_values}
    return doc


ids = st.sampled_from([f"p{i}" for i in range(6)] + [f"a{i}" for i in range(3)] + ["c0", "c1"])
refs = st.sampled_from(["a0", "a1", "a2", "c0", "c1", "p1", "gone"]).map(
    lambda r: {"_type": "reference", "_ref": r})


@st.composite
def documents(draw: st.DrawFn, doc_id: str) -> dict[str, Any]:
    kind = "post" if doc_id.startswith("p") else ("author" if doc_id.startswith("a") else "category")
    if draw(st.booleans()) and kind == "post":
        kind = draw(st.sampled_from(["post", "author", "page"]))
    doc: dict[str, Any] = {"_id": doc_id, "_type": kind}
    if draw(st.booleans()):
        doc["title"] = draw(st.sampled_from(["x", "y", "z", "A"]))
    if draw(st.booleans()):
        doc["name"] = draw(st.sampled_from(["A", "B"]))
    if draw(st.booleans()):
        doc["slug"] = {"current": draw(st.sampled_from(["s1", "s2"]))}
    if draw(st.booleans()):
        doc["rank"] = draw(st.one_of(st.integers(0, 4), st.none(), st.just("3")))
    if draw(st.booleans()):
        doc["publishedAt"] = draw(st.sampled_from(["2024-01-01", "2025-06-01", "2023-02-02"]))
    if draw(st.booleans()):
        doc["author"] = draw(refs)
    if draw(st.booleans()):
        doc["categories"] = draw(st.lists(refs, max_size=3))
    return doc


@st.composite
def states(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    chosen = draw(st.sets(ids, max_size=11))
    return {doc_id: draw(documents(doc_id)) for doc_id in chosen}


@settings(max_examples=300, deadline=None)
@given(text=st.sampled_from(QUERIES), steps=st.lists(states(), min_size=1, max_size=6),
       lose_track=st.lists(st.booleans(), min_size=6, max_size=6))
def test_maintained_results_equal_a_full_evaluation(
        text: str, steps: list[dict[str, dict[str, Any]]], lose_track: list[bool]) -> None:
    query, shape, maintained = maintain(text, PARAMS)
    previous: dict[str, dict[str, Any]] | None = None
    for step, state in enumerate(steps):
        dataset = Dataset(state.values())
        changed = None if previous is None or lose_track[step] else frozenset(
            doc_id for doc_id in previous.keys() | state.keys()
            if previous.get(doc_id) != state.get(doc_id))
        value, ids = maintained.evaluate(dataset, changed, NOW)
        trace: set[str] = set()
        expected = query.evaluate(dataset, PARAMS, NOW, trace=trace)
        assert value == expected
        assert_trace(shape, ids, trace)
        previous = state


def assert_trace(shape: Shape, ids: frozenset[str], trace: set[str]) -> None:
    """Equal, except that a full evaluation of ``*[cond][0]`` stops at the first match:
    there the maintained trace also names the later matches (more tags, never fewer)."""
    if shape.element and not shape.keys and shape.window is not None \
            and shape.window.left == 0:
        assert ids >= trace
    else:
        assert ids == trace


edits = st.tuples(ids, st.sampled_from(["title", "name", "rank", "publishedAt", "author",
                                        "slug", "_type", "delete"]),
                  st.sampled_from(["x", "y", "A", "B", 1, 3, None, "s1", "s2"]))


def apply_edit(state: dict[str, dict[str, Any]], edit: tuple[str, str, Any]) -> str:
    """One drawn ``edits`` step applied to ``state`` (documents by id); its document id."""
    doc_id, field, value = edit
    if field == "delete":
        state.pop(doc_id, None)
    else:
        doc = dict(state.get(doc_id) or {"_id": doc_id, "_type": "post"})
        doc[field] = {"_type": "reference", "_ref": f"a{value}"} if field == "author" \
            else {"current": value} if field == "slug" else str(value or "post") \
            if field == "_type" else value
        state[doc_id] = doc
    return doc_id



@settings(max_examples=300, deadline=None)
@given(text=st.sampled_from(QUERIES), start=states(), steps=st.lists(edits, max_size=12))
def test_small_edits_keep_results_equal_to_a_full_evaluation(
        text: str, start: dict[str, dict[str, Any]], steps: list[tuple[str, str, Any]]) -> None:
    """One document edited at a time (the serve case): mostly a field outside the sort
    keys of one passing document, which patches the last result in place."""
    query, shape, maintained = maintain(text, PARAMS)
    state = {doc_id: dict(doc) for doc_id, doc in start.items()}
    maintained.evaluate(Dataset(state.values()), None, NOW)
    for doc_id, field, value in steps:
        if field == "delete":
            state.pop(doc_id, None)
        else:
            doc = dict(state.get(doc_id) or {"_id": doc_id, "_type": "post"})
            if field == "author":
                value = {"_type": "reference", "_ref": f"a{value}" if value else "a1"}
            if field == "slug":
                value = {"current": value}
            doc[field] = value if field != "_type" else str(value or "post")
            state[doc_id] = doc
        dataset = Dataset(state.values())
        value_, ids_ = maintained.evaluate(dataset, frozenset({doc_id}), NOW)
        trace: set[str] = set()
        assert value_ == query.evaluate(dataset, PARAMS, NOW, trace=trace)
        assert_trace(shape, ids_, trace)
