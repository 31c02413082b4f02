"""An ``each`` page's kept list handed out as its chunks: the per-page query of an author
(``*[...][0]{..., "posts": *[... references(^._id)] | order(...)}``) keeps its posts as a
``Chunks`` (no list of thousands made per edit); ``chunks.listed`` gives every other caller
the item with plain lists, the same object while the item is; ``same_json`` compares an
item holding chunks with one holding lists as JSON. A hypothesis property over random edits
against a full evaluation."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from maintkit import maintain

from ssgen.groq.chunks import Chunks, listed
from ssgen.groq.dataset import Dataset
from ssgen.groq.values import same_json
from tests.test_groq_correlated import NOW, PARAMS, QUERIES, apply, edit, start

ELEMENT = QUERIES[4]  # an author page's query: one author, their posts kept


def _plain(value: Any) -> bool:
    """No chunks anywhere in ``value``."""
    if type(value) is Chunks:
        return False
    if type(value) is dict:
        return all(map(_plain, value.values()))
    return all(map(_plain, value)) if type(value) is list else True


@settings(max_examples=80, deadline=None)
@given(initial=start(), data=st.data())
def test_an_element_items_kept_list_is_chunks_and_listed_is_its_json(
        initial: dict[str, dict[str, Any]], data: st.DataObject) -> None:
    query, _shape, maintained = maintain(ELEMENT, PARAMS)
    state = dict(initial)
    dataset = Dataset(list(state.values()))
    value, _ = maintained.evaluate(dataset, None, NOW)
    for _ in range(data.draw(st.integers(1, 8))):
        doc_id, doc = data.draw(edit(state))
        apply(state, dataset, {doc_id: doc})
        last, (value, _) = value, maintained.evaluate(dataset, frozenset({doc_id}), NOW)
        expected = query.evaluate(Dataset(list(state.values())), PARAMS, NOW)
        plain = listed(value)
        assert same_json(plain, expected) and _plain(plain)
        assert same_json(value, expected) and same_json(expected, value)
        if value is not None:
            assert type(value["posts"]) is Chunks
            assert listed(value) is plain  # the same object for the same item
        if last is not None and value is not None and last is not value:
            assert listed(last) is not plain


def test_listed_leaves_other_values_as_they_are() -> None:
    items = [{"a": 1}]
    kept = {"a": [1], "b": {"c": Chunks([1])}}  # chunks deeper than an attribute: not made
    assert listed(items) is items and listed(kept) is kept
    assert listed(Chunks([1, 2])) == [1, 2] and type(listed(Chunks([1, 2]))) is list
    assert not same_json({"p": Chunks([1])}, {"p": [1.0]})
    assert not same_json({"p": Chunks([1])}, {"p": {"0": 1}})
