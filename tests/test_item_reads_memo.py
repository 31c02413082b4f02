"""An outer entry's item reads stay the very set its kept lists' union memo holds
(``entry.same_sets``, ``entry.item_reads_of``), also after a snapshot's round trip.

A resumed query's entries hold decoded sets and no union memo: the first edit makes a
new union, ``same_sets`` gives the entry the decoded set it equals, and the memo must
follow it; else every later edit hands the memo's union out again and compares it whole
with the entry's (an author's 25,000 post ids, every round of serve at 100,000 posts)."""

from __future__ import annotations

import pickle
from copy import deepcopy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from maintkit import maintain

from ssgen.groq.dataset import Dataset
from ssgen.groq.maintained import MaintainedQuery, shape_of
from ssgen.groq.parser import parse
from tests.test_groq_correlated import NOW, PARAMS, QUERIES, apply, edit, start


def _memo_follows(maintained: MaintainedQuery) -> None:
    """Every union the memo holds is its entry's item reads, by identity."""
    parts, entries = maintained._item_parts, maintained._entries
    for doc_id, (_, _, union) in parts.items():
        assert union is entries[doc_id].item_reads, doc_id


@pytest.mark.parametrize("text", [q for q in QUERIES if "[0]" in q or "| order(publishedAt"
                                  in q])
@settings(max_examples=50, deadline=None)
@given(initial=start(), data=st.data())
def test_the_union_memo_is_the_entrys_set_across_resumes(
        text: str, initial: dict[str, dict[str, Any]], data: st.DataObject) -> None:
    query, _shape, maintained = maintain(text, PARAMS)
    state = dict(initial)
    dataset = Dataset(list(state.values()))
    maintained.evaluate(dataset, None, NOW)
    for _ in range(data.draw(st.integers(1, 8))):
        if data.draw(st.booleans()):  # a snapshot saved and resumed
            maintained = pickle.loads(pickle.dumps(maintained))
        doc_id, doc = data.draw(edit(state))
        apply(state, dataset, {doc_id: doc})
        value, _ = maintained.evaluate(dataset, frozenset({doc_id}), NOW)
        assert value == query.evaluate(Dataset(list(state.values())), PARAMS, NOW)
        _memo_follows(maintained)


def test_after_a_resume_a_retitle_hands_out_the_entrys_own_set() -> None:
    """An author's item reads, decoded from a snapshot, are kept through two retitles
    of one of its posts: the same object every round, which the memo then holds."""
    query = parse(QUERIES[4])  # *[_type == "author" && slug.current == $slug][0]{... posts}
    shape = shape_of(query)
    assert shape is not None
    posts = [{"_id": f"p{i}", "_type": "post", "title": "t", "slug": {"current": f"p{i}"},
              "publishedAt": f"2025-01-{i + 1:02d}", "author": {"_ref": "a0"}}
             for i in range(20)]
    state = {"a0": {"_id": "a0", "_type": "author", "name": "A", "slug": {"current": "s1"}},
             **{doc["_id"]: doc for doc in posts}}
    dataset = Dataset(list(state.values()))
    maintained = MaintainedQuery(query, shape, PARAMS)
    maintained.evaluate(dataset, None, NOW)
    maintained = pickle.loads(pickle.dumps(maintained))
    decoded = maintained._entries["a0"].item_reads
    assert len(decoded) > 20
    for title in ("u", "v"):
        changed = deepcopy(state["p3"])
        changed["title"] = title
        apply(state, dataset, {"p3": changed})
        maintained.evaluate(dataset, frozenset({"p3"}), NOW)
        assert maintained._entries["a0"].item_reads is decoded
        assert maintained._item_parts["a0"][2] is decoded
