"""Dataset ordering and indexes, index-planned filters (equal to scans, and not scanning),
once-per-query subqueries, and tracing of contributing documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.errors import GroqEvaluationError
from ssgen.groq import Dataset, evaluate, parse

DOCS: list[dict[str, Any]] = [
    {"_id": "post-b", "_type": "post", "slug": {"current": "b"}, "author": {"_ref": "author-1"},
     "categories": [{"_ref": "cat-1"}, {"_ref": "cat-2"}], "n": 2},
    {"_id": "post-a", "_type": "post", "slug": {"current": "a"}, "author": {"_ref": "author-2"},
     "categories": [{"_ref": "cat-2"}], "n": 1.0},
    {"_id": "author-1", "_type": "author", "name": "One"},
    {"_id": "author-2", "_type": "author", "name": "Two"},
    {"_id": "cat-1", "_type": "category", "title": "C1"},
    {"_id": "cat-2", "_type": "category", "title": "C2"},
    {"_id": "drafts.post-a", "_type": "post", "slug": {"current": "a"}},
]
PAGE = '*[_type == "post" && slug.current == $slug][0]{..., author->, categories[]->}'


class NoScan(list[dict[str, Any]]):
    """A document list that fails the test if anything iterates over it."""

    def __iter__(self) -> Any:
        raise AssertionError("the query scanned every document")


def test_documents_are_in_id_order() -> None:
    data = Dataset(DOCS)
    assert [d["_id"] for d in data.documents] == sorted(d["_id"] for d in DOCS)
    assert evaluate("*._id", data) == sorted(d["_id"] for d in DOCS)


def test_bad_document_is_named() -> None:
    with pytest.raises(GroqEvaluationError, match="document #2 is a list"):
        Dataset([{"_id": "a"}, [1, 2]])  # type: ignore[list-item]


def test_per_page_query_uses_indexes_and_does_not_scan() -> None:
    data = Dataset(DOCS)
    query = parse(PAGE)
    first = query.evaluate(data, {"slug": "b"})
    assert data.has_index(("slug", "current"))
    data.documents = NoScan(data.documents)
    again = query.evaluate(data, {"slug": "b"})
    assert again == first
    assert again["author"]["name"] == "One"
    assert [c["title"] for c in again["categories"]] == ["C1", "C2"]
    assert query.evaluate(data, {"slug": "zzz"}) is None


def test_id_lookup_and_in_lists_use_indexes() -> None:
    data = Dataset(DOCS)
    evaluate('*[title == "C2"]', data)  # builds the index on title (one scan)
    data.documents = NoScan(data.documents)
    assert evaluate('*[_id == "cat-2"][0].title', data) == "C2"
    assert evaluate('*[_id in ["cat-2", "author-1", "nope"]]._id', data) == ["author-1", "cat-2"]
    assert evaluate('*[_type in ["category"] && title == "C1"]._id', data) == ["cat-1"]


def test_join_with_parent_uses_the_index_per_outer_document() -> None:
    data = Dataset(DOCS)
    query = '*[_type == "author"]{name, "posts": *[_type == "post" && author._ref == ^._id]._id}'
    expected = [{"name": "One", "posts": ["post-b"]}, {"name": "Two", "posts": ["post-a"]}]
    assert evaluate(query, data) == expected


class CountingDataset(Dataset):
    def __init__(self, documents: list[dict[str, Any]]) -> None:
        super().__init__(documents)
        self.lookups = 0

    def lookup(self, path: tuple[str, ...], value: Any) -> Sequence[dict[str, Any]] | None:
        self.lookups += 1
        return super().lookup(path, value)


def test_parent_free_subquery_is_evaluated_once_per_query() -> None:
    data = CountingDataset(DOCS)
    # The negation prevents index planning of the outer filter: the subquery sits in a
    # condition evaluated for each of the 7 documents.
    result = evaluate('*[!(_id in *[_type == "category"]._id)]._id', data)
    assert "cat-1" not in result and len(result) == 5
    assert data.lookups == 1


def test_subquery_with_parent_is_evaluated_per_document() -> None:
    data = CountingDataset(DOCS)
    evaluate('*[_type == "author"]{"n": count(*[_type == "post" && author._ref == ^._id])}',
             data)
    assert data.lookups == 1 + 2  # the outer _type lookup, then one per author


def test_trace_collects_filtered_and_dereferenced_documents() -> None:
    data = Dataset(DOCS)
    trace: set[str] = set()
    parse(PAGE).evaluate(data, {"slug": "b"}, trace=trace)
    assert trace == {"post-b", "author-1", "cat-1", "cat-2"}

    trace = set()
    evaluate('count(*[_type == "category"])', data, trace=trace)
    assert trace == {"cat-1", "cat-2"}

    trace = set()
    evaluate("*[0]._id", data, trace=trace)
    assert trace == {d["_id"] for d in DOCS}

    trace = set()
    evaluate('*[_type == "nothing"]', data, trace=trace)
    assert trace == set()


def test_null_equality_through_the_index_matches_missing_fields() -> None:
    data = Dataset(DOCS)
    assert evaluate("*[slug.current == null]._id", data) == [
        "author-1", "author-2", "cat-1", "cat-2"]
    assert evaluate("*[n == 1]._id", data) == ["post-a"]
    assert evaluate("*[n == $v]._id", data, {"v": [1]}) == []


def test_duplicate_ids_are_all_found() -> None:
    data = Dataset([{"_id": "x", "v": 1}, {"_id": "x", "v": 2}])
    assert evaluate('*[_id == "x"].v', data) == [1, 2]


def test_results_are_independent_of_later_queries() -> None:
    data = Dataset(DOCS)
    everything = evaluate("*", data)
    everything.clear()
    assert len(evaluate("*", data)) == len(DOCS)


values = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([1.0, 2.5]),
                   st.sampled_from(["a", "b", ""]), st.just([1]), st.just({"k": 1}))
documents = st.lists(
    st.fixed_dictionaries({"_id": st.text("abc", min_size=1, max_size=3),
                           "_type": st.sampled_from(["t", "u"])},
                          optional={"f": values, "o": st.fixed_dictionaries({}, optional={
                              "g": values})}),
    max_size=12)


@settings(max_examples=150, deadline=None)
@given(documents, st.sampled_from(["f", "o.g", "_type", "_id"]), values,
       st.sampled_from(["==", "in"]))
def test_index_planned_filters_equal_scans(docs: list[dict[str, Any]], path: str,
                                           value: Any, op: str) -> None:
    data = Dataset(docs)
    param = [value, "a"] if op == "in" else value
    indexed = evaluate(f"*[{path} {op} $v && _type != 'x']._id", data, {"v": param})
    # `(cond) == true` hides the conjunct from the planner: a plain scan.
    scanned = evaluate(f"*[({path} {op} $v) == true]._id", data, {"v": param})
    assert indexed == scanned
