"""Indexed evaluation equals plain evaluation: same results in the same order, on
generated datasets and generated queries of the shapes the planner turns into index
lookups (``references($id)``, ``references(^._id)``, ``path == ^._id``, alone or among
other conjuncts), also after random ``Dataset.update`` sequences. The read traces stay
sound: whenever a change alters a result, the change touches a traced document or a
type the query scans (the ``doc:``/``type:`` tags of an incremental build)."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.groq import Dataset, chunks, parse
from ssgen.groq.analysis import scanned_types
from ssgen.groq.evaluate import evaluate_query

IDS = ["a0", "a1", "a2", "c0", "c1", "p0", "p1", "p2", "p3", "p4", "x0"]
TYPES = {"a": "author", "c": "category", "p": "post", "x": "note"}
TARGETS = st.sampled_from([*IDS, "gone", "drafts.p0"])
REF: Any = st.builds(lambda t: {"_ref": t}, TARGETS)
# Objects with a _ref hide the references inside them; non-string _refs count for none.
ODD_REF = st.one_of(st.builds(lambda t, u: {"_ref": t, "inner": {"_ref": u}}, TARGETS, TARGETS),
                    st.just({"_ref": 7}), st.just({"_ref": ["a0"]}))
FIELDS = {
    "title": st.sampled_from(["x", "y", None]),
    "n": st.integers(0, 3),
    "ref": st.one_of(REF, ODD_REF, st.none()),
    "refs": st.lists(REF, max_size=3),
    "deep": st.fixed_dictionaries({}, optional={"a": st.lists(st.fixed_dictionaries(
        {}, optional={"b": REF, "c": ODD_REF}), max_size=2)}),
}
# Filler documents keep the dataset large enough that update() patches the indexes
# instead of rebuilding them (it rebuilds when more than 1/8 of the documents change).
FILLER = [{"_id": f"f{i:02d}", "_type": "filler", "ref": {"_ref": IDS[i % len(IDS)]}}
          for i in range(24)]


def document(doc_id: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"_id": st.just(doc_id), "_type": st.just(TYPES[doc_id[0]])},
                                 optional=FIELDS)


def dataset_docs() -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(st.sampled_from(IDS), unique=True, max_size=len(IDS)).flatmap(
        lambda ids: st.tuples(*(document(i) for i in ids)).map(list))


CHANGE = st.sampled_from(IDS).flatmap(
    lambda doc_id: st.tuples(st.just(doc_id), st.one_of(st.none(), document(doc_id))))
UPDATES = st.lists(st.lists(CHANGE, min_size=1, max_size=2).map(dict), max_size=4)

OTHER = ['_type == "post"', "n > 1", "defined(title)", 'ref->title == "x"',
         '!references("a1")', "ref._ref == $id", '_type in ["post", "note"]', "n == 2",
         "title == null", 'deep.a == "x"']
FIELD_EQUALITIES = {"ref._ref == $id", "n == 2", "title == null", 'deep.a == "x"'}
PLANNED = ["references($id)", "references($ids)", 'references($id, "c0")', "ref._ref == $id",
           "_id == $id"]
CORRELATED = ["references(^._id)", "ref._ref == ^._id", "references(^._id, $id)"]
TAILS = ["._id", '{_id, "t": ref->title}', "| order(n desc, _id)[0...2]{_id}", "[0]._id",
         "| order(title)._id"]


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, bool]:
    """A filter over * with one plannable conjunct among others (any order), possibly
    nested as a correlated subquery of an outer filter; and whether the plan's conjunct
    comes first (then a scan short-circuits on the other documents too, and the traces
    are the same)."""
    correlated = draw(st.booleans())
    key = draw(st.sampled_from(CORRELATED if correlated else PLANNED))
    others = draw(st.lists(st.sampled_from(OTHER), max_size=2, unique=True))
    parts = draw(st.permutations([key, *others]))
    # The planner prefers _id, then other field equalities, then references(): the plan
    # uses the key when no other conjunct ranks before it.
    outranked = key.startswith("references") and any(o in FIELD_EQUALITIES for o in others)
    exact = parts[0] == key and not outranked
    inner = f"*[{' && '.join(parts)}]"
    tail = draw(st.sampled_from([*TAILS, "count"]))
    inner = f"count({inner})" if tail == "count" else inner + tail
    if not correlated:
        return inner, exact
    outer = draw(st.sampled_from(['_type == "author"', '_type in ["author", "category"]',
                                  "defined(n)"]))
    return f'*[{outer}]{{_id, "xs": {inner}}}', exact


PARAMS = st.fixed_dictionaries({"id": TARGETS, "ids": st.lists(TARGETS, max_size=3)})


def run(text: str, data: Dataset, params: dict[str, Any], *, indexes: bool) \
        -> tuple[str, set[str]]:
    trace: set[str] = set()
    value = evaluate_query(parse(text), data, params, "2024-01-01T00:00:00Z", trace=trace,
                           indexes=indexes)
    return json.dumps(value), trace


@settings(max_examples=200, deadline=None)
@given(dataset_docs(), queries(), PARAMS)
def test_indexed_equals_plain(docs: list[dict[str, Any]], query: tuple[str, bool],
                              params: dict[str, Any]) -> None:
    text, exact = query
    data = Dataset(FILLER + docs)
    indexed, trace = run(text, data, params, indexes=True)
    plain, plain_trace = run(text, data, params, indexes=False)
    assert indexed == plain, text
    # Documents that are not candidates are not evaluated: what their conditions read
    # (a deref) is not traced, and need not be (they fail whatever it says).
    assert trace == plain_trace if exact else trace <= plain_trace


@settings(max_examples=120, deadline=None)
@given(dataset_docs(), st.lists(queries(), min_size=1, max_size=3), PARAMS, UPDATES)
def test_indexed_equals_plain_after_updates(docs: list[dict[str, Any]],
                                            drawn: list[tuple[str, bool]],
                                            params: dict[str, Any],
                                            updates: list[dict[str, Any]]) -> None:
    _after_updates(docs, drawn, params, updates)


@settings(max_examples=60, deadline=None)
@given(dataset_docs(), st.lists(queries(), min_size=1, max_size=3), PARAMS, UPDATES)
def test_indexed_equals_plain_after_updates_in_chunks(docs: list[dict[str, Any]],
                                                      drawn: list[tuple[str, bool]],
                                                      params: dict[str, Any],
                                                      updates: list[dict[str, Any]]) -> None:
    """The same with chunks of 2 (``ssgen.groq.chunks``): the documents and every bucket
    over 4 documents are ``Chunks``, copied on write per chunk; what an update replaced
    (the documents, a bucket, a referrers list held from before) keeps its value."""
    with patch.object(chunks, "CHUNK", 2):
        _after_updates(docs, drawn, params, updates, held=True)


def _after_updates(docs: list[dict[str, Any]], drawn: list[tuple[str, bool]],
                   params: dict[str, Any], updates: list[dict[str, Any]],
                   held: bool = False) -> None:
    texts = [text for text, _ in drawn]
    data = Dataset(FILLER + docs)
    for text in texts:
        run(text, data, params, indexes=True)  # build the indexes the queries use
    for changes in updates:
        before = {text: run(text, data, params, indexes=True) for text in texts}
        old = {doc_id: data.by_id.get(doc_id) for doc_id in changes}
        kept = [data.documents, data.lookup(("_type",), "filler"), data.lookup(("_type",), "post"),
                *(data.referrers(ref) for ref in IDS)] if held else []
        then = [list(found or ()) for found in kept]
        data.update(changes)
        assert [list(found or ()) for found in kept] == then
        fresh = Dataset(list(data.by_id.values()))
        for text in texts:
            indexed = run(text, data, params, indexes=True)[0]
            assert indexed == run(text, fresh, params, indexes=False)[0], text
            _assert_invalidated(text, before[text], indexed, old, changes)
    fresh = Dataset(list(data.by_id.values()))
    for ref in [*IDS, "gone"]:
        assert list(data.referrers(ref)) == list(fresh.referrers(ref))


def _assert_invalidated(text: str, before: tuple[str, set[str]], after: str,
                        old: dict[str, Any], changes: dict[str, Any]) -> None:
    """A changed result must be reached by the page's tags: a traced id, or a scanned
    type of the changed documents (before or after the change)."""
    if before[0] == after or before[1] & changes.keys():
        return
    types = scanned_types(parse(text))
    touched = {doc["_type"] for doc in [*old.values(), *changes.values()] if doc is not None}
    assert types is None or types & touched, (text, changes)
