"""Correlated subqueries kept per outer document (groq/correlated.py) equal a full
evaluation after any sequence of one-document edits: inserts, sort-key edits with ties,
a post moving from one author to another, deletes, and edits of the outer documents;
and an outer item whose value did not change is the very same object as before."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from maintkit import maintain

from ssgen.groq.dataset import Dataset
from ssgen.groq.maintained import MaintainedQuery, shape_of
from ssgen.groq.parser import parse
from ssgen.groq.shapes import subqueries
from ssgen.groq.values import same_json

NOW = "2026-01-01T00:00:00Z"
_POSTS = '*[_type == "post" && defined(slug.current) && references(^._id)]'
QUERIES = [
    '*[_type == "author"] | order(_id){_id, name, "posts": ' + _POSTS +
    ' | order(publishedAt desc){title, publishedAt, "a": author->name,'
    ' "c": categories[]->{name}}}',
    '*[_type == "category"]{_id, "latest": ' + _POSTS +
    ' | order(publishedAt desc, title asc)[0...2]{title, publishedAt}}',
    '*[_type == "category"]{_id, "some": ' + _POSTS + ' | order(rank desc){title}[1..2]}',
    '*[_type == "author"]{_id, "n": count(*[_type == "post" && author._ref == ^._id]),'
    ' "first": ' + _POSTS + ' | order(publishedAt asc)[0]{title}}',
    '*[_type == "author" && slug.current == $slug][0]{_id, name, "posts": ' + _POSTS +
    ' | order(publishedAt desc){title, "a": author->{name}}}',
    '*[_type in ["author", "category"]]{_id, "mine": *[_type == "post" &&'
    ' references(^._id) && author->name == "A"] | order(rank asc, publishedAt desc)._id}',
    '*[_type == "author"]{_id, "same": *[_type == "author" && name == ^.name]'
    ' | order(_id)._id, "refs": *[references(^._id)] | order(title)._id}',
    # Candidates that fail after reading another document, then leave (author moves):
    '*[_type == "author"]{_id, "mine": *[_type == "post" && references(^._id)'
    ' && categories[0]->name == "A"] | order(_id)._id}',
    # ^ read outside the index key (an edited outer document), and a key that
    # dereferences (it changes while the outer document stays the same object):
    '*[_type == "category"]{_id, "pick": *[_type == "post" && references(^._id)'
    ' && (rank == 1) == (^.name == "A")] | order(publishedAt desc, _id)._id}',
    '*[_type == "author"]{_id, "theirs": *[_type == "post" && references(^.buddy->_id)]'
    ' | order(_id)._id}',
    # A subquery in the filter runs in full per entry; its failing candidates read too.
    '*[_type in ["author", "category"] && count(*[_type == "post" && references(^._id)'
    ' && author->name == "A"]) > 0] | order(_id)._id',
]
PARAMS = {"slug": "s1"}
POSTS = [f"p{i}" for i in (1, 2, 3, 9, 10, 11)]  # "p10" < "p9": _id order is string order
OUTER = ["a0", "a1", "a2", "c0", "c1"]
DATES = st.sampled_from(["2024-01-01", "2025-06-01", "2025-06-01", None])  # ties


def ref(target: str) -> dict[str, str]:
    return {"_type": "reference", "_ref": target}


@st.composite
def post(draw: st.DrawFn, doc_id: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": doc_id, "_type": "post",
                           "title": draw(st.sampled_from(["x", "y", "x"])),
                           "publishedAt": draw(DATES),
                           "rank": draw(st.sampled_from([1, 2, 2, None, "2"])),
                           "author": ref(draw(st.sampled_from(["a0", "a1", "a2", "gone"])))}
    if draw(st.integers(0, 4)):
        doc["slug"] = {"current": doc_id}
    doc["categories"] = [ref(c) for c in draw(st.lists(st.sampled_from(["c0", "c1"]),
                                                       max_size=2, unique=True))]
    return doc


@st.composite
def outer(draw: st.DrawFn, doc_id: str) -> dict[str, Any]:
    kind = "author" if doc_id.startswith("a") else "category"
    return {"_id": doc_id, "_type": kind, "name": draw(st.sampled_from(["A", "B"])),
            "slug": {"current": draw(st.sampled_from(["s1", "s2"]))},
            "buddy": ref(draw(st.sampled_from(["a0", "a1", "c0"])))}


@st.composite
def start(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    state = {doc_id: draw(outer(doc_id)) for doc_id in OUTER}
    for doc_id in draw(st.sets(st.sampled_from(POSTS))):
        state[doc_id] = draw(post(doc_id))
    return state


@st.composite
def edit(draw: st.DrawFn, state: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any] | None]:
    """One document's new body (None: deleted)."""
    doc_id = draw(st.sampled_from(POSTS + OUTER))
    old = state.get(doc_id)
    kind = draw(st.sampled_from(["new", "date", "author", "title", "delete"]))
    if kind == "delete":
        return doc_id, None
    if doc_id in OUTER:
        return doc_id, draw(outer(doc_id))
    if old is None or kind == "new":
        return doc_id, draw(post(doc_id))
    if kind == "date":
        return doc_id, {**old, "publishedAt": draw(DATES), "rank": draw(st.sampled_from([1, 2]))}
    if kind == "author":  # moves to another author (or to none)
        return doc_id, {**old, "author": ref(draw(st.sampled_from(["a0", "a1", "a2", "gone"])))}
    return doc_id, {**old, "title": draw(st.sampled_from(["x", "y", "z"]))}


def apply(state: dict[str, dict[str, Any]], dataset: Dataset,
          changes: dict[str, dict[str, Any] | None]) -> None:
    """``changes`` (id -> document, None: deleted) made in the test's own ``state`` and in
    ``dataset`` (updated in place, as serve's kept source is)."""
    for doc_id, doc in changes.items():
        if doc is None:
            state.pop(doc_id, None)
        else:
            state[doc_id] = doc
    dataset.update(changes)


def test_every_subquery_of_these_queries_is_kept() -> None:
    for text in QUERIES:
        shape = shape_of(parse(text))
        assert shape is not None, text
        assert [reason for _, reason in subqueries(shape) if reason] == [], text


def _items(value: Any) -> dict[str, Any]:
    rows = value if type(value) is list else [value] if value is not None else []
    return {row["_id"]: row for row in rows if type(row) is dict}


@pytest.mark.parametrize("text", QUERIES)
@settings(max_examples=60, deadline=None)
@given(initial=start(), data=st.data())
def test_kept_subqueries_equal_a_full_evaluation(
        text: str, initial: dict[str, dict[str, Any]], data: st.DataObject) -> None:
    query, shape, maintained = maintain(text, PARAMS)
    state = dict(initial)
    dataset = Dataset(list(state.values()))  # updated in place, as serve's kept source is
    last, _ = maintained.evaluate(dataset, None, NOW)
    for _ in range(data.draw(st.integers(1, 10))):
        kept = deepcopy(last)
        doc_id, doc = data.draw(edit(state))
        apply(state, dataset, {doc_id: doc})
        value, ids = maintained.evaluate(dataset, frozenset({doc_id}), NOW)
        trace: set[str] = set()
        expected = query.evaluate(Dataset(list(state.values())), PARAMS, NOW, trace=trace)
        assert value == expected  # order included: ties keep _id order
        # A full evaluation of an unordered *[cond][0] stops at the first match.
        assert ids >= trace if shape.element and not shape.keys else ids == trace
        before = _items(last)
        for outer_id, item in _items(value).items():
            if outer_id in before and before[outer_id] == item:
                assert before[outer_id] is item, outer_id
        assert last == kept  # a value handed out never changes afterwards
        last = value


@settings(max_examples=60, deadline=None)
@given(initial=start(), data=st.data())
def test_rounds_an_outer_document_skipped_are_caught_up(
        initial: dict[str, dict[str, Any]], data: st.DataObject) -> None:
    """Several edits reported at once, and outer documents that stop passing (their
    subqueries' state is dropped) and pass again with the same object."""
    text = ('*[_type == "author" && count(*[_type == "flag" && on == true]) > 0]{_id, "p": '
            + _POSTS + ' | order(publishedAt desc)._id}')
    query, _shape, maintained = maintain(text, PARAMS)
    state = dict(initial)
    state["flag"] = {"_id": "flag", "_type": "flag", "on": True}
    dataset = Dataset(list(state.values()))
    maintained.evaluate(dataset, None, NOW)
    for _ in range(data.draw(st.integers(1, 6))):
        changes = dict([data.draw(edit(state)) for _ in range(data.draw(st.integers(1, 3)))])
        changes["flag"] = {"_id": "flag", "_type": "flag", "on": data.draw(st.booleans())}
        apply(state, dataset, changes)
        value, ids = maintained.evaluate(dataset, frozenset(changes), NOW)
        trace: set[str] = set()
        assert value == query.evaluate(Dataset(list(state.values())), PARAMS, NOW, trace=trace)
        assert ids == trace


def test_a_key_that_dereferences_follows_its_target() -> None:
    """``references(^.buddy->_id)``: the outer document stays the same object while the
    key's target is deleted and created again; the posts that reference it come back."""
    query = parse('*[_type == "author"]{_id, "theirs": *[_type == "post" &&'
                  ' references(^.buddy->_id)] | order(_id)._id}')
    shape = shape_of(query)
    assert shape is not None
    a1 = {"_id": "a1", "_type": "author"}
    docs = [{"_id": "a0", "_type": "author", "buddy": ref("a1")}, a1,
            {"_id": "p1", "_type": "post", "author": ref("a1")}]
    dataset = Dataset(docs)
    maintained = MaintainedQuery(query, shape, None)
    maintained.evaluate(dataset, None, NOW)
    for change in (None, a1, None, {**a1, "name": "A"}):
        dataset.update({"a1": change})
        value, ids = maintained.evaluate(dataset, frozenset({"a1"}), NOW)
        trace: set[str] = set()
        assert value == query.evaluate(dataset, None, NOW, trace=trace)
        assert ids == trace


def _replay(text: str, docs: list[dict[str, Any]],
            edits: list[tuple[str, dict[str, Any] | None]]) -> None:
    query = parse(text)
    shape = shape_of(query)
    assert shape is not None
    dataset = Dataset(docs)
    maintained = MaintainedQuery(query, shape, None)
    maintained.evaluate(dataset, None, NOW)
    for doc_id, doc in edits:
        dataset.update({doc_id: doc})
        value, ids = maintained.evaluate(dataset, frozenset({doc_id}), NOW)
        trace: set[str] = set()
        assert value == query.evaluate(dataset, None, NOW, trace=trace)
        assert ids == trace, doc_id


def test_a_failing_candidate_that_leaves_takes_its_reads_along() -> None:
    """p1 failed a0's subquery after reading c0; it moves to a1: a0 no longer reads c0."""
    p1 = {"_id": "p1", "_type": "post", "author": ref("a0"), "categories": [ref("c0")]}
    _replay('*[_type == "author"]{_id, "mine": *[_type == "post" && references(^._id)'
            ' && categories[0]->name == "A"]._id}',
            [{"_id": "a0", "_type": "author"}, {"_id": "a1", "_type": "author"},
             {"_id": "c0", "_type": "category", "name": "B"}, p1],
            [("p1", {**p1, "author": ref("a1")}), ("p1", p1)])


def test_the_index_keys_reads_are_traced() -> None:
    """A top-level references() key that reads documents (the first author named A)."""
    a0 = {"_id": "a0", "_type": "author", "name": "A"}
    _replay('*[_type == "post" && references(*[_type == "author" && name == "A"]'
            ' | order(_id)[0]._id)] | order(_id)._id',
            [a0, {"_id": "a1", "_type": "author", "name": "A"},
             {"_id": "p1", "_type": "post", "author": ref("a0")},
             {"_id": "p2", "_type": "post", "author": ref("a1")}],
            [("a0", {**a0, "name": "B"}), ("a0", a0), ("a0", None)])


def test_a_retitled_post_tells_its_authors_item_apart_by_the_delta(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A retitle changes one item of the author's kept list in place: the list's delta says
    the author's item differs (``Delta.alters``), with no compare of the two items; a
    re-date (a move) and an edit of the author itself are compared, and an author edit
    that changes nothing it projects hands back the very item."""
    import ssgen.groq.correlated as correlated

    compared: list[Any] = []

    def counting(a: Any, b: Any) -> bool:
        compared.append(a)
        return same_json(a, b)

    monkeypatch.setattr(correlated, "same_json", counting)
    query = parse(QUERIES[4])
    shape = shape_of(query)
    assert shape is not None
    author = {"_id": "a1", "_type": "author", "name": "A", "slug": {"current": "s1"}}
    posts = {f"p{i}": {"_id": f"p{i}", "_type": "post", "title": f"t{i}", "author": ref("a1"),
                       "slug": {"current": f"p{i}"}, "publishedAt": f"2025-01-0{i}"}
             for i in range(1, 6)}
    dataset = Dataset([author, *posts.values()])
    maintained = MaintainedQuery(query, shape, PARAMS)
    last, _ = maintained.evaluate(dataset, None, NOW)
    edits: list[tuple[dict[str, Any], bool]] = [
        ({**posts["p3"], "title": "new"}, False),  # retitled: told apart by the delta
        ({**posts["p2"], "publishedAt": "2025-02-01"}, True),  # moved: compared
        ({**author, "bio": "unprojected"}, True),  # the author: compared, the same item
        # The kept item holds the list from before the author's runner started again
        # (the author is a new object), not its delta's base: compared, then not again.
        ({**posts["p4"], "title": "newer"}, True),
        ({**posts["p5"], "title": "newest"}, False)]
    for doc, compares in edits:
        compared.clear()
        dataset.update({doc["_id"]: doc})
        value, _ = maintained.evaluate(dataset, frozenset({doc["_id"]}), NOW)
        assert value == query.evaluate(dataset, PARAMS, NOW)
        assert any(type(a) is dict and "posts" in a for a in compared) is compares, doc
        assert (value is last) is (doc["_id"] == "a1")
        last = value
