"""``find_ids`` (routes/spec/ids.py) searches a value's JSON encoding for ``_id`` keys; it must
find exactly what walking the value finds, whatever the strings hold (quotes, escapes,
text that looks like an ``_id`` key). The mutant test shows the property catching a
search that does not follow escapes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.routes.spec import find_ids, walk_ids
from ssgen.routes.spec import ids as spec_ids

tricky = st.sampled_from(['{"_id":"x"}', ',"_id":"y"', '\\"_id\\":\\"z', '"', "\\", "_id",
                          "\u2028", "é", ""])
text = st.one_of(st.text(max_size=6), tricky)
keys = st.one_of(st.just("_id"), st.sampled_from(["a", "_type", "id"]), text)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), text)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_find_ids_equals_a_walk(value: object) -> None:
    assert find_ids(value) == walk_ids(value)


def test_values_orjson_cannot_encode_are_walked() -> None:
    value = {"_id": "a", "n": 2**70, "k": [{"_id": "b"}]}
    assert find_ids(value) == {"a", "b"}


def test_mutant_without_escapes_in_ids_is_caught() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spec_ids, "_escaped", lambda encoded, quote: False)
        with pytest.raises((AssertionError, ValueError)):  # wrong ids, or a cut string
            test_find_ids_equals_a_walk()
