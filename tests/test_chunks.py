"""``ssgen.groq.chunks.Chunks`` against a plain list: random inserts, deletes, writes,
copies (a copy taken, like a handed-out result, never changes afterwards), slices,
iteration and a pickle round trip."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.groq import chunks as chunks_module
from ssgen.groq.chunks import Chunks, listed, sequence


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Chunks of 4 items (split at 8): a few dozen items cross many chunk edges."""
    monkeypatch.setattr(chunks_module, "CHUNK", 4)
    yield


OPS = st.lists(st.tuples(st.sampled_from(["insert", "delete", "set", "copy", "pickle"]),
                         st.integers(0, 10_000), st.integers()), max_size=60)


def _same(kept: Chunks, model: list[Any]) -> None:
    assert len(kept) == len(model)
    assert list(kept) == model
    assert list(reversed(kept)) == model[::-1]
    assert kept.plain() == model
    assert kept == model
    for at in range(-len(model), len(model)):
        assert kept[at] == model[at]
    for start in range(-1, len(model) + 2, 3):
        for stop in range(start, len(model) + 3, 5):
            assert kept[start:stop] == model[start:stop]
            assert type(kept[start:stop]) is list
    assert kept[::2] == model[::2]


@settings(max_examples=60, deadline=None)
@given(start=st.lists(st.integers(), max_size=30), ops=OPS)
def test_chunks_behave_as_a_list_and_a_copy_never_changes(start: list[int],
                                                          ops: list[tuple[str, int, int]]) -> None:
    kept, model = Chunks(start), list(start)
    copies: list[tuple[Chunks, list[Any]]] = []
    for op, where, value in ops:
        if op == "insert":
            at = where % (len(model) + 1)
            kept.insert(at, value)
            model.insert(at, value)
        elif op == "delete" and model:
            at = where % len(model)
            del kept[at]
            del model[at]
        elif op == "set" and model:
            at = where % len(model)
            kept[at] = value
            model[at] = value
        elif op == "copy":
            copies.append((kept, model.copy()))
            kept = kept.copy()  # the handed-out one is left behind, as ``Ordered._own`` does
        elif op == "pickle":
            kept = pickle.loads(pickle.dumps(kept))
        _same(kept, model)
    for handed, then in copies:
        _same(handed, then)


def test_shared_chunks_stay_shared_through_a_pickle() -> None:
    """Two objects that share chunks (a result and the copy made after it) decode with
    those chunks shared, so neither may write to them in place."""
    first = Chunks(range(20))
    second = first.copy()
    second[0] = "x"
    first_back, second_back = pickle.loads(pickle.dumps((first, second)))
    second_back[5] = "y"
    first_back[6] = "z"
    assert list(first_back) == [*range(6), "z", *range(7, 20)]
    assert list(second_back) == ["x", *range(1, 5), "y", *range(6, 20)]


def test_a_damaged_state_is_refused() -> None:
    with pytest.raises(TypeError):
        Chunks.__new__(Chunks).__setstate__([[1], []])
    with pytest.raises(TypeError):
        Chunks.__new__(Chunks).__setstate__(([1],))


def test_plain_is_one_list_until_a_change() -> None:
    kept = Chunks(range(10))
    assert kept.plain() is kept.plain()
    before = kept.plain()
    kept.insert(3, "new")
    assert kept.plain() is not before and before == list(range(10))
    assert listed(kept) == kept.plain() and listed([1]) == [1]
    assert sequence(kept) and sequence([]) and not sequence((1,)) and not sequence({})
    with pytest.raises(IndexError):
        kept[11]
    with pytest.raises(IndexError):
        kept.insert(12, 0)
