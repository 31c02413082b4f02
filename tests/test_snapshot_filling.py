"""A snapshot body's records filled on demand (``ssgen.sources.snapshot.filling``).

Generated groups of documents and items, whose items hold other documents, parts of
other documents and parts of the value, encoded as a snapshot's body is; decoded with
the records left to fill, then filled in a generated order, a few ids at a time, and the
rest at the end. After each fill every filled document and item equals what was
encoded and reaches no shell left empty; after the last, the whole value is what was
encoded, sharing included (its pickle is the same bytes). A damaged record is refused
at its fill. Mutants: records in pickle protocol 5 (implicit memo indices: a record
decoded out of order takes another's objects), the shells a record holds not filled
with it, the record's CRC-32 not checked at a fill.
"""

from __future__ import annotations

import itertools
import pickle
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import mutant

from ssgen.sources.snapshot import codec, filling

_leaves = st.one_of(st.none(), st.booleans(), st.integers(-3, 3),
                    st.text("ab", max_size=2), st.text("xy", min_size=65, max_size=66))
_trees = st.recursive(_leaves, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text("kl", min_size=1, max_size=2), inner,
                                        max_size=3), max_leaves=6)


def _containers(value: Any) -> list[Any]:
    found, stack = [], [value]
    while stack:
        node = stack.pop()
        if type(node) in (dict, list):
            found.append(node)
            stack.extend(node.values() if type(node) is dict else node)
    return found


@st.composite
def _bodies(draw: st.DrawFn) -> tuple[Any, list[list[dict[str, Any]]]]:
    """A value and its groups: documents with trees, items that hold their own document's
    parts, other documents, other documents' parts or fresh trees."""
    docs = [{"_id": f"d{i}", "_type": "t", "v": draw(_trees)}
            for i in range(draw(st.integers(1, 6)))]
    parts = [part for doc in docs for part in _containers(doc["v"])]
    groups: list[list[dict[str, Any]]] = [[doc] for doc in docs]
    for _ in range(draw(st.integers(0, 8))):
        held = draw(st.one_of(st.sampled_from(docs), _trees,
                              *([st.sampled_from(parts)] if parts else [])))
        draw(st.sampled_from(groups)).append({"held": held, "n": draw(st.integers(0, 2))})
    shared = draw(st.lists(st.sampled_from(parts), max_size=2)) if parts else []
    value = {"docs": list(docs), "items": [g[1:] for g in groups], "shared": shared}
    return value, groups


def _decoded(value: Any, groups: list[list[dict[str, Any]]]) -> filling.Filling:
    body, ends = filling.encode(value, groups, ["ab", "a"])
    records = [body[start:end] for start, end in itertools.pairwise(ends[1:])]
    whole = zlib.crc32(body[ends[1]:ends[-1]])
    return filling.decode(memoryview(body), 0, [], ends, [zlib.crc32(r) for r in records],
                          whole)


def _unfilled(found: filling.Filling) -> set[int]:
    return {id(shell) for group, (start, stop) in enumerate(
        itertools.pairwise(found._starts)) if not found._filled[group]
        for shell in found._shells[start:stop]}


def _check_filled(found: filling.Filling, groups: list[list[dict[str, Any]]]) -> None:
    empty = _unfilled(found)
    for group, originals in enumerate(groups):
        if not found._filled[group]:
            continue
        start = found._starts[group]
        for shell, original in zip(found._shells[start:], originals, strict=False):
            assert shell == original
            assert not any(id(part) in empty for part in _containers(shell))


@settings(max_examples=200, deadline=None)
@given(body=_bodies(), data=st.data())
def test_records_filled_in_any_order_give_the_value_encoded(
        body: tuple[Any, list[list[dict[str, Any]]]], data: st.DataObject) -> None:
    value, groups = body
    expected = pickle.dumps(value, protocol=5)
    found = _decoded(value, groups)
    ids = [group[0]["_id"] for group in groups]
    order = data.draw(st.permutations(ids))
    for at in range(0, data.draw(st.integers(0, len(order))), 2):
        found.fill([*order[at:at + 2], "not an id"])
        _check_filled(found, groups)
    found.fill_all()
    assert found.unfilled == 0
    _check_filled(found, groups)
    assert pickle.dumps(found.value, protocol=5) == expected
    found.close()


def _sample() -> tuple[Any, list[list[dict[str, Any]]]]:
    """Two documents, the first's item holding the second document (written after it)."""
    first = {"_id": "b", "v": "y" * 70}
    second = {"_id": "a", "v": {"deep": ["x" * 70]}}
    groups = [[first, {"held": second}], [second]]
    return {"docs": [first, second], "items": [groups[0][1:], []]}, groups


def test_a_fill_fills_the_documents_its_items_hold() -> None:
    value, groups = _sample()
    found = _decoded(value, groups)
    found.fill(["b"])
    assert found.misses == 0  # filled because held, not because needed
    assert found._shells[2] == groups[1][0] and found.unfilled == 0
    assert found._shells[1]["held"] is found._shells[2]


def _damaged() -> tuple[filling.Filling, list[list[dict[str, Any]]]]:
    """``_sample`` encoded, a byte of its first record flipped after the records' CRC-32s
    were taken, and decoded (the records not filled yet)."""
    value, groups = _sample()
    body, ends = filling.encode(value, groups, [])
    at = body.index(b"y" * 70, ends[1])
    damaged = body[:at] + b"z" + body[at + 1:]
    crcs = [zlib.crc32(body[s:e]) for s, e in itertools.pairwise(ends[1:])]
    return filling.decode(memoryview(damaged), 0, [], ends, crcs, 0), groups


def test_a_damaged_record_is_refused_at_its_fill() -> None:
    found, _ = _damaged()
    with pytest.raises(codec.Refused, match="damaged"):
        found.fill(["b"])
    with pytest.raises(codec.Refused, match="damaged"):
        found.fill_all()


def test_records_filled_backwards_share_what_they_shared() -> None:
    """Each document holds one list twice; filled last first, each is its own again."""
    docs = []
    for i in range(3):
        part = [f"{i}" * 70]
        docs.append({"_id": f"d{i}", "v": [part, part]})
    groups = [[doc] for doc in docs]
    value = {"docs": list(docs)}
    expected = pickle.dumps(value, protocol=5)
    found = _decoded(value, groups)
    found.fill(["d2"])
    found.fill(["d1"])
    found.fill_all()
    assert pickle.dumps(found.value, protocol=5) == expected
    assert found._shells[2]["v"][0] is found._shells[2]["v"][1]


def _mutant_caught(target: Any, name: str, replacement: Any, test: Any) -> None:
    with mutant(target, name, replacement), pytest.raises(
            (AssertionError, codec.Refused)):
        test()


def test_mutant_records_with_implicit_memo_indices_is_caught() -> None:
    _mutant_caught(filling, "_RECORDS", 5, test_records_filled_backwards_share_what_they_shared)


def test_mutant_held_shells_not_filled_is_caught() -> None:
    _mutant_caught(filling.Filling, "_held", lambda self, group: [],
                   test_a_fill_fills_the_documents_its_items_hold)
    _mutant_caught(filling.Filling, "_held", lambda self, group: [],
                   test_records_filled_in_any_order_give_the_value_encoded)


def test_mutant_record_crc_not_checked_is_caught() -> None:
    def unchecked(self: filling.Filling, group: int, check: bool) -> None:
        real(self, group, False)

    real = filling.Filling._fill
    with mutant(filling.Filling, "_fill", unchecked):
        found, groups = _damaged()
        found.fill(["b"])  # taken: the damaged value resumed
        assert found._shells[0]["v"] != groups[0][0]["v"]


def _needing() -> tuple[Any, list[list[dict[str, Any]]]]:
    """Five documents, each with three items (four objects: each record's tuple starts
    with a MARK); the last one's items hold a part of the first document, which only the
    first's record writes."""
    docs = [{"_id": f"d{i}", "v": [f"{i}" * 70]} for i in range(5)]
    groups = [[doc, *({"held": [f"{i}{n}" * 40], "n": n} for n in range(3))]
              for i, doc in enumerate(docs)]
    for item in groups[4][1:]:
        item["held"] = docs[0]["v"]
    return {"docs": list(docs), "items": [g[1:] for g in groups]}, groups


def test_a_record_needing_an_earlier_ones_object_fills_that_one_only() -> None:
    value, groups = _needing()
    expected = pickle.dumps(value, protocol=5)
    found = _decoded(value, groups)
    found.fill(["d4"])
    assert found.misses == 1
    assert list(found._filled) == [1, 0, 0, 0, 1]  # the owner, not every earlier record
    _check_filled(found, groups)
    assert found._shells[17]["held"] is found._shells[0]["v"]
    found.fill_all()
    assert pickle.dumps(found.value, protocol=5) == expected


def test_mutant_owner_not_found_past_a_mark_is_caught() -> None:
    def old_parse(record: memoryview) -> int | None:  # a25's: no MARK before the first dict
        head = bytes(record[:16])
        return real(record) if head[3 + {b"K": 1, b"M": 2, b"J": 4}[head[2:3]]] != 40 \
            else None

    real = filling._first_index
    with mutant(filling, "_first_index", old_parse), pytest.raises(codec.Refused):
        test_a_record_needing_an_earlier_ones_object_fills_that_one_only()


def test_mutant_decoder_kept_after_a_miss_is_caught() -> None:
    _mutant_caught(filling.Filling, "_renew", lambda self: None,
                   test_a_record_needing_an_earlier_ones_object_fills_that_one_only)


def _fresh(text: str) -> str:
    """An equal string of its own (not the literal's object)."""
    return "".join([text[:1], text[1:]])


@settings(max_examples=100, deadline=None)
@given(shape=st.lists(st.lists(st.sets(st.sampled_from("kpqr"), min_size=1), max_size=3),
                      min_size=2, max_size=6),
       data=st.data())
def test_a_record_alone_needs_no_earlier_one_for_its_dicts_keys(
        shape: list[list[set[str]]], data: st.DataObject) -> None:
    """Items whose keys are one set of objects across documents, as a query's projection
    makes them (none of them the pool's, nor the value's): any one document filled first
    misses no earlier record, and equals what was encoded."""
    keys = {name: _fresh(name * 2) for name in "kpqr"}
    docs = [{_fresh("_id"): f"d{i}", keys["k"]: f"{i}" * 70} for i in range(len(shape))]
    groups = [[doc, *({keys[name]: f"{i}{name}" * 40 for name in sorted(item)}
                      for item in items)] for i, (doc, items) in enumerate(zip(docs, shape,
                                                                                 strict=True))]
    value = {"docs": list(docs), "items": [g[1:] for g in groups]}
    found = _decoded(value, groups)
    found.fill([data.draw(st.sampled_from([doc["_id"] for doc in docs]))])
    assert found.misses == 0
    _check_filled(found, groups)


def test_mutant_keys_left_out_of_the_pool_is_caught() -> None:
    _mutant_caught(filling, "_with_keys", lambda pool, groups: pool,
                   test_a_record_alone_needs_no_earlier_one_for_its_dicts_keys)


@pytest.mark.parametrize("other", [b"]\x94", b")\x94", b"}K\x01K\x02s\x94"])
def test_a_prefix_of_other_than_empty_dicts_is_refused(other: bytes) -> None:
    """A shell made a list, a tuple or a dict with an item: not a snapshot's prefix."""
    value, groups = _sample()
    body, ends = filling.encode(value, groups, [])
    at = body.index(filling._SHELL, len(filling._PREFIX))
    shift = len(other) - len(filling._SHELL)
    forged = body[:at] + other + body[at + len(filling._SHELL):]
    moved = [end + shift for end in ends]
    with pytest.raises(codec.Refused, match="no shells"):
        filling.decode(memoryview(forged), 0, [], moved, [0] * (len(ends) - 2), 0)
