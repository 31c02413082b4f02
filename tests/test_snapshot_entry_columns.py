"""A maintained query's entries and rows in a snapshot, as columns
(``groq.maintained.entry.columns``, ``Ordered.__getstate__``).

- Property: for every maintained query shape, after random edits, a query encoded and
  decoded has the very same entries (ids in their order, every field, stamps included)
  and rows (``Descending`` keys included), items and stamps, its result still its rows'
  items list when it was, its correlated runners too, the empty read sets one object;
  and, after more edits, it evaluates to what a fresh query does. The entries and rows
  are made from their columns when first read (``entry.Columned``, ``Ordered.rows``),
  not at the decode; a decoded query encoded again unread decodes the same.
- Columns of another shape (one short, a non-string id, a field missing, a dict) are
  refused by the decoder; through the cards site, a snapshot holding such a query is not
  resumed and the new process's output equals a clean full build.

Mutants caught: the read sets' columns swapped in ``columns`` (the property), the stamps
left out of the decoded entries (the property), the columns taken without their
lengths checked (``zip`` without ``strict``, a short column: the refusal test), a
``desc`` column decoded as plain keys (the property); the entries or the rows not made
when first read, an unread query's columns encoded as empty (the property).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from maintkit import maintain
from sitekit import CardSite as Site
from sitekit import full_card_build, new_process, output_files, retitle, snapshot_file
from test_groq_maintained import NOW, PARAMS, QUERIES, apply_edit, edits, states
from test_source_snapshot import start

import ssgen.sources.snapshot as snap
from ssgen.config.load import load_config
from ssgen.groq.dataset import Dataset
from ssgen.groq.maintained import MaintainedQuery, entry
from ssgen.groq.ordered import Descending, Ordered
from ssgen.sources.local import LocalSource
from ssgen.sources.snapshot import codec

HEAD = len(snap.MAGIC) + snap._KEY + snap._SUM
_FIELDS = ("passes", "keys", "item", "reads", "item_reads", "keys_read", "stamp")


def _queries(query: MaintainedQuery) -> list[MaintainedQuery]:
    """``query`` and its correlated runners (and theirs), in a stable order."""
    found = [query]
    subs = query._subs
    if subs is not None:
        for key in sorted(subs._states, key=repr):
            found.extend(_queries(subs._states[key].runner))
    return found


def _same_entries(decoded: MaintainedQuery, original: MaintainedQuery) -> None:
    assert list(decoded._entries) == list(original._entries)
    for doc_id, was in original._entries.items():
        now = decoded._entries[doc_id]
        assert type(now) is entry._Entry
        for name in _FIELDS:
            assert getattr(now, name) == getattr(was, name), (doc_id, name)
            assert type(getattr(now, name)) is type(getattr(was, name)), (doc_id, name)
        assert now.item is decoded._entries[doc_id].item
    rows, now_rows = original._ordered.rows, decoded._ordered.rows
    assert now_rows == rows and [list(map(type, r)) for r in now_rows] == \
        [list(map(type, r)) for r in rows]
    assert decoded._ordered.stamps == original._ordered.stamps
    assert decoded._ordered.items == original._ordered.items
    assert (decoded._result is decoded._ordered.items) == \
        (original._result is original._ordered.items)
    empties = {id(getattr(e, name)) for q in [decoded] for e in q._entries.values()
               for name in ("reads", "item_reads", "keys_read") if not getattr(e, name)}
    assert len(empties) <= 1, "the empty read sets are not one object"


@settings(max_examples=200, deadline=None)
@given(text=st.sampled_from(QUERIES), start_=states(), before=st.lists(edits, max_size=6),
       after=st.lists(edits, max_size=6))
def test_entries_decode_as_they_were(text: str, start_: dict[str, dict[str, Any]],
                                     before: list[tuple[str, str, Any]],
                                     after: list[tuple[str, str, Any]]) -> None:
    query, _shape, maintained = maintain(text, PARAMS)
    state = {doc_id: dict(doc) for doc_id, doc in start_.items()}
    maintained.evaluate(Dataset(state.values()), None, NOW)
    for edit in before:
        changed = apply_edit(state, edit)
        maintained.evaluate(Dataset(state.values()), frozenset({changed}), NOW)
    decoded = codec.decode(codec.encode(maintained))
    # Made from their columns when first read, not at the decode; encoded again unread,
    # as decoded (a resumed source saved again), they still decode as they were.
    assert decoded._columns is not None and decoded._ordered._rows is None
    again = codec.decode(codec.encode(decoded))
    originals = _queries(maintained)
    for copies in (_queries(decoded), _queries(again)):
        assert len(copies) == len(originals)
        for copy, original in zip(copies, originals, strict=True):
            _same_entries(copy, original)
    for edit in after:
        changed = apply_edit(state, edit)
        value, _ = decoded.evaluate(Dataset(state.values()), frozenset({changed}), NOW)
        assert value == query.evaluate(Dataset(state.values()), PARAMS, NOW)


def test_columns_of_another_shape_are_refused() -> None:
    good = entry.columns({"a": entry._Entry(True, (1,), {"x": 1}, frozenset({"a"}),
                                            frozenset(), frozenset(), 7)})
    assert entry.from_columns(good)["a"].stamp == 7
    bad: list[Any] = [
        good[:-1],  # a field missing
        (good[0], *good[1:-1], []),  # a column short
        ([1], *good[1:]),  # an id not a string
        tuple(tuple(column) for column in good),  # not lists
        list(good),
        {"a": good},
    ]
    for columns in bad:
        with pytest.raises(TypeError):
            entry.from_columns(columns)
    ordered = Ordered((True,))
    ordered.insert(ordered.row("a", (1,)), {"x": 1}, 7)
    state = ordered.__getstate__()
    again = Ordered(())
    again.__setstate__(state)
    assert again.rows == ordered.rows and type(again.rows[0][0]) is Descending
    broken: list[Any] = [
        ((True,), [[1]], [{}], [7], False),  # a column missing
        ((True,), [[1], ["a"]], [{}], [], False),  # a stamp missing
        ((True,), [[1, 2], ["a"]], [{}, {}], [7, 8], False),  # a key column long
        ((True,), ([1], ["a"]), [{}], [7], False),  # not lists
        ((True,), [[1], ["a"]], [{}], [7]),  # a field missing
    ]
    for wrong in broken:
        with pytest.raises((TypeError, ValueError)):
            Ordered(()).__setstate__(wrong)


def _break_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Encode every query's entries with their stamps' column one short."""
    real = entry.Columned._entry_columns

    def short(self: entry.Columned) -> tuple[list[Any], ...]:
        found = real(self)
        return (*found[:-1], found[-1][:-1])

    monkeypatch.setattr(entry.Columned, "_entry_columns", short)


def test_a_snapshot_with_broken_entry_columns_is_not_resumed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, scratch = tmp_path / "site", tmp_path / "scratch"
    site = Site()
    start(site, root)
    name, state, extra = snap.body_of(snapshot_file(root).read_bytes())
    with monkeypatch.context() as patch:
        _break_entries(patch)
        body = codec.encode((name, state, extra))
    with pytest.raises(codec.Refused):
        codec.decode(body)
    key = snap.snapshot_key(load_config(root), "published")
    snapshot_file(root).write_bytes(
        snap.MAGIC + key + zlib.crc32(body).to_bytes(snap._SUM, "big") + body)
    assert snap.resume(load_config(root), "published", None) is None
    resumed: list[Any] = []
    real = LocalSource.resume

    def spy(self: LocalSource, config: Any, read: Any) -> None:
        resumed.append(self)
        real(self, config, read)

    with monkeypatch.context() as patch:
        patch.setattr(LocalSource, "resume", spy)
        retitle(1, "after broken columns")(site)
        site.write(root)
        new_process(root)
    assert not resumed
    assert output_files(root) == full_card_build(site, scratch)
    assert snapshot_file(root).read_bytes()[HEAD:] != body  # replaced by a whole one
