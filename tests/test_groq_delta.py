"""A maintained list's delta names exactly what changed between two of its results."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from maintkit import maintain
from test_groq_maintained import NOW, PARAMS, QUERIES, apply_edit, edits, states

from ssgen.groq.dataset import Dataset
from ssgen.groq.maintained import Delta, MaintainedQuery, shape_of
from ssgen.groq.parser import parse

# The whole ordered lists among the maintained shapes (no slice, count or [i]).
LISTS = [text for text in QUERIES if (shape := shape_of(parse(text))) is not None
         and shape.window is None and not shape.count and not shape.element]


def _ids(maintained: MaintainedQuery) -> list[str]:
    return [row[-1] for row in maintained._ordered.rows]


def _check(delta: Delta, old_ids: list[str], new_ids: list[str]) -> None:
    """The delta against the two results it stands between."""
    old, new = delta.base, delta.result
    assert len(old) == len(old_ids) and len(new) == len(new_ids)
    before = {doc_id: at for at, doc_id in enumerate(old_ids)}
    after = {doc_id: at for at, doc_id in enumerate(new_ids)}
    assert delta.inserted == after.keys() - before.keys()
    assert delta.removed == before.keys() - after.keys()
    both = before.keys() & after.keys()
    assert delta.changed <= both and delta.moved <= both
    assert delta.changed == {i for i in both if old[before[i]] is not new[after[i]]}
    # The others keep their order relative to each other.
    stable = both - delta.moved
    assert [i for i in old_ids if i in stable] == [i for i in new_ids if i in stable]
    for at, doc_id in enumerate(new_ids):
        assert delta.index(doc_id) == at and delta.id_at(at) == doc_id
    for at, doc_id in enumerate(old_ids):
        assert delta.old_index(doc_id) == at
    assert all(delta.index(doc_id) is None for doc_id in delta.removed)
    assert all(delta.old_index(doc_id) is None for doc_id in delta.inserted)
    # A removed or moved item's old place lies between its nearest unmoved neighbours.
    for doc_id in delta.removed | delta.moved:
        place, at = delta.old_place(doc_id), before[doc_id]
        earlier = [i for i in old_ids[:at] if i in stable]
        later = [i for i in old_ids[at + 1:] if i in stable]
        assert not earlier or after[earlier[-1]] < place
        assert not later or after[later[0]] >= place
    assert delta.touched == delta.inserted | delta.removed | delta.changed | delta.moved


def _unchanged(maintained: MaintainedQuery) -> None:
    """The result's delta is from itself: a consumer that made its part of this very
    list takes the next change's delta; any other one takes the full path."""
    delta = maintained.delta
    assert delta is not None and delta.base is delta.result is maintained._result
    assert not delta.touched
    _check(delta, _ids(maintained), _ids(maintained))


@settings(max_examples=300, deadline=None)
@given(text=st.sampled_from(LISTS), start=states(), steps=st.lists(edits, max_size=12),
       lost=st.sets(st.integers(0, 11), max_size=2))
def test_each_update_hands_over_what_it_changed(
        text: str, start: dict[str, dict[str, Any]], steps: list[tuple[str, str, Any]],
        lost: set[int]) -> None:
    _query, _shape, maintained = maintain(text, PARAMS)
    state = {doc_id: dict(doc) for doc_id, doc in start.items()}
    maintained.evaluate(Dataset(state.values()), None, NOW)
    _unchanged(maintained)  # a first run: what came before is unknown
    last, last_ids = maintained._result, _ids(maintained)
    for step, edit in enumerate(steps):
        doc_id = apply_edit(state, edit)
        found, _ = maintained.evaluate(Dataset(state.values()),
                                       None if step in lost else frozenset({doc_id}), NOW)
        delta = maintained.delta
        if step in lost:
            _unchanged(maintained)  # started over: what came before is unknown
        elif maintained._result is not last:
            assert delta is not None and delta.base is last
            assert delta.result is maintained._result and delta.result == found
            _check(delta, last_ids, _ids(maintained))
        last, last_ids = maintained._result, _ids(maintained)


def test_an_unchanged_result_keeps_the_delta_of_its_last_change() -> None:
    """A second consumer of the same query in one round sees the round's delta too."""
    _query, _shape, maintained = maintain('*[_type == "post"] | order(title){_id, title}', None)
    docs = {f"p{i}": {"_id": f"p{i}", "_type": "post", "title": f"t{i}"} for i in range(4)}
    maintained.evaluate(Dataset(docs.values()), None, NOW)
    first = maintained._result
    docs["p1"] = {**docs["p1"], "title": "t9"}
    maintained.evaluate(Dataset(docs.values()), frozenset({"p1"}), NOW)
    delta = maintained.delta
    assert delta is not None and delta.base is first and delta.moved == {"p1"}
    assert delta.changed == {"p1"} and not delta.inserted and not delta.removed
    maintained.evaluate(Dataset(docs.values()), frozenset(), NOW)
    assert maintained.delta is delta
    docs["p2"] = {**docs["p2"], "body": "new"}  # not in the item: the same result
    maintained.evaluate(Dataset(docs.values()), frozenset({"p2"}), NOW)
    assert maintained.delta is delta and delta.result is maintained._result


def test_slices_counts_and_elements_have_no_delta() -> None:
    docs = [{"_id": f"p{i}", "_type": "post", "title": f"t{i}"} for i in range(4)]
    for text in ('*[_type == "post"] | order(title)[0...2]', 'count(*[_type == "post"])',
                 '*[_type == "post"] | order(title)[0]'):
        _query, _shape, maintained = maintain(text, None)
        maintained.evaluate(Dataset(docs), None, NOW)
        edited = [*docs[1:], {**docs[0], "title": "z"}]
        maintained.evaluate(Dataset(edited), frozenset({"p0"}), NOW)
        assert maintained.delta is None, text


def test_a_loaded_query_hands_over_its_result_unchanged_then_the_next_change() -> None:
    """After a load (a snapshot keeps the result, not how it came about) the first run
    that changes nothing gives the loaded result's delta from itself, so a consumer
    that made its pages of that list (carried by the snapshot, or made now) takes the
    next change's delta, whose base it is (serve's first webhook after a start)."""
    import pickle

    query = parse('*[_type == "post"] | order(title){_id, title}')
    shape = shape_of(query)
    assert shape is not None
    docs = {f"p{i}": {"_id": f"p{i}", "_type": "post", "title": f"t{i}"} for i in range(4)}
    maintained = MaintainedQuery(query, shape, None)
    maintained.evaluate(Dataset(docs.values()), None, NOW)
    loaded = pickle.loads(pickle.dumps(maintained))
    loaded_result = loaded._result
    # Not run since the load: what it hands over is the loaded result's delta from itself
    # (of that result's version and stamps), never one of another result.
    _unchanged(loaded)
    assert loaded.delta is not None and loaded.delta.version == loaded.version
    assert loaded.delta.stamps == loaded.stamps
    found, _ = loaded.evaluate(Dataset(docs.values()), frozenset(), NOW)
    assert found is loaded_result
    _unchanged(loaded)
    docs["p1"] = {**docs["p1"], "title": "t9"}
    loaded.evaluate(Dataset(docs.values()), frozenset({"p1"}), NOW)
    delta = loaded.delta
    assert delta is not None and delta.base is loaded_result
    assert delta.changed == delta.moved == {"p1"}


def test_a_correlated_runner_gives_its_delta_from_itself_only_when_asked() -> None:
    """A correlated runner (one per post in some sites) has no delta of its own after a
    start or load; its delta from itself is made when a consumer asks (an author or
    category page's nested list, whose expansion then knows the list by its version,
    not by identity), not by every run: a runner nobody asks costs no object."""
    query = parse('*[_type == "post"] | order(title){_id, title}')
    shape = shape_of(query)
    assert shape is not None
    runner = MaintainedQuery(None, shape, None, parts=MaintainedQuery(query, shape, None)
                             ._parts)
    docs = [{"_id": f"p{i}", "_type": "post", "title": f"t{i}"} for i in range(3)]
    runner.evaluate(Dataset(docs), None, NOW)
    assert runner._delta is None  # not made by the run
    _unchanged(runner)
    assert runner.delta is not None and runner.delta.version == runner.version
    docs[1] = {**docs[1], "title": "t9"}
    runner.evaluate(Dataset(docs), frozenset({"p1"}), NOW)
    delta = runner.delta
    assert delta is not None and delta.changed == delta.moved == {"p1"}
