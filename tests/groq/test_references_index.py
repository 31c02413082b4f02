"""The reverse-reference index: what it holds, how ``Dataset.update`` keeps it, and the
``references()`` filters and correlated subqueries that use it instead of scanning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ssgen.groq import Dataset, evaluate, parse
from ssgen.groq.refindex import outgoing

DOCS: list[dict[str, Any]] = [
    {"_id": "a1", "_type": "author", "name": "One"},
    {"_id": "a2", "_type": "author", "name": "Two"},
    {"_id": "c1", "_type": "category", "title": "C1"},
    {"_id": "p1", "_type": "post", "title": "P1", "publishedAt": "2024-01-02",
     "author": {"_ref": "a1"}, "categories": [{"_ref": "c1"}]},
    {"_id": "p2", "_type": "post", "title": "P2", "publishedAt": "2024-01-03",
     "author": {"_ref": "a2"}, "body": [{"children": [{"markDefs": {"_ref": "c1"}}]}]},
    {"_id": "p3", "_type": "post", "title": "P3", "author": {"_ref": "a1", "x": {"_ref": "c1"}}},
    {"_id": "note", "_type": "note", "about": {"_ref": "a1"}},
]
JOIN = ('*[_type == "category"]{title, "posts": *[_type == "post" && references(^._id)]'
        ' | order(publishedAt desc)[0...5]{title}}')


class NoScan(list[dict[str, Any]]):
    """A document list that fails the test if anything iterates over it."""

    def __iter__(self) -> Any:
        raise AssertionError("the query scanned every document")


class CountingDataset(Dataset):
    def __init__(self, documents: list[dict[str, Any]]) -> None:
        super().__init__(documents)
        self.calls = 0

    def referrers(self, doc_id: str) -> Sequence[dict[str, Any]]:
        self.calls += 1
        return super().referrers(doc_id)


def test_outgoing_follows_references_semantics() -> None:
    assert outgoing(DOCS[3]) == {"a1", "c1"}
    assert outgoing(DOCS[4]) == {"a2", "c1"}
    # Inside an object with a _ref the walk stops, as references() does.
    assert outgoing(DOCS[5]) == {"a1"}
    assert outgoing({"r": {"_ref": 3}, "s": [{"_ref": ["x"]}]}) == frozenset()


def test_referrers_in_id_order() -> None:
    data = Dataset(DOCS)
    assert [d["_id"] for d in data.referrers("a1")] == ["note", "p1", "p3"]
    assert [d["_id"] for d in data.referrers("c1")] == ["p1", "p2"]
    assert data.referrers("nobody") == ()
    assert data.refs_of(data.by_id["p2"]) == {"a2", "c1"}


def test_update_keeps_the_index() -> None:
    data = Dataset(DOCS)
    before = data.referrers("a1")
    data.update({"p3": {"_id": "p3", "_type": "post", "author": {"_ref": "a2"}},
                 "p0": {"_id": "p0", "_type": "post", "x": [{"_ref": "a1"}]},
                 "note": None})
    assert [d["_id"] for d in before] == ["note", "p1", "p3"]  # handed out: unchanged
    assert [d["_id"] for d in data.referrers("a1")] == ["p0", "p1"]
    assert [d["_id"] for d in data.referrers("a2")] == ["p2", "p3"]
    assert data.refs_of(data.by_id["p0"]) == {"a1"}
    fresh = Dataset(list(data.by_id.values()))
    for ref in ("a1", "a2", "c1"):
        assert data.referrers(ref) == fresh.referrers(ref)


def test_references_filter_does_not_scan() -> None:
    data = Dataset(DOCS)
    query = parse('*[_type == "post" && references($id)]._id')
    assert query.evaluate(data, {"id": "a1"}) == ["p1", "p3"]
    data.documents = NoScan(data.documents)
    assert query.evaluate(data, {"id": "c1"}) == ["p1", "p2"]
    assert evaluate("*[references($ids)]._id", data, {"ids": ["a2", "c1"]}) == ["p1", "p2"]
    assert evaluate('*[references("a1", "a2") && defined(title)][0]._id', data) == "p1"
    assert evaluate("*[references([])]", data) == []


def test_correlated_references_is_one_lookup_per_outer_document() -> None:
    data = CountingDataset(DOCS)
    assert evaluate(JOIN, data) == [{"title": "C1", "posts": [{"title": "P2"}, {"title": "P1"}]}]
    assert data.calls == 1
    data.calls = 0
    result = evaluate('*[_type == "author"]{name, "n": count(*[references(^._id)])}', data)
    assert result == [{"name": "One", "n": 3}, {"name": "Two", "n": 1}]
    assert data.calls == 2


def test_trace_holds_the_documents_that_pass() -> None:
    data = Dataset(DOCS)
    trace: set[str] = set()
    evaluate('*[_type == "post" && references("a1")]{title, author->}', data, trace=trace)
    assert trace == {"p1", "p3", "a1"}
    trace = set()
    evaluate(JOIN, data, trace=trace)
    assert trace == {"c1", "p1", "p2"}


def test_references_on_a_non_string_ref_is_false() -> None:
    data = Dataset([{"_id": "x", "r": {"_ref": ["a"]}}, {"_id": "y", "r": {"_ref": "a"}}])
    assert evaluate('*[references("a") == true]._id', data) == ["y"]
    assert evaluate('*[references("a")]._id', data) == ["y"]


def test_correlated_joins_do_not_scan() -> None:
    data = Dataset(DOCS)
    equality = ('*[_type == "author"]{name, "posts": *[_type == "post" && author._ref == ^._id]'
                ' | order(publishedAt desc){title}}')
    expected = [evaluate(JOIN, data), evaluate(equality, data)]
    data.documents = NoScan(data.documents)  # indexes are built: no query may scan now
    assert [evaluate(JOIN, data), evaluate(equality, data)] == expected
    # A missing publishedAt orders after every value: first in descending order.
    assert expected[1] == [{"name": "One", "posts": [{"title": "P3"}, {"title": "P1"}]},
                           {"name": "Two", "posts": [{"title": "P2"}]}]
