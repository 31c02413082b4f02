"""``ndjson.match.matched_lines`` returns what ``parse_lines`` returns given every old line
of the region as ``known``: the same document objects (reused or parsed), digests,
offsets, line numbers, line count and faults, after random edits of a file (edited,
inserted, deleted, moved and duplicated lines, blank lines, a byte order mark, trailing
spaces, truncated and invalid lines); and ``reparse`` through it equals a fresh parse.
Mutants caught (each run by hand): no refusal of equal old lines, no check that the old
line ends where the new one does (a trailing space dropped), the old first line compared
in place despite its byte order mark."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssgen.sources.ndjson import BOM, Lines, Loaded, parse_lines, parse_ndjson
from ssgen.sources.ndjson.diff import _known_lines, reparse
from ssgen.sources.ndjson.match import matched_lines


def line(draw: Any, broken: bool = True) -> bytes:
    """A document line, sometimes with trailing spaces, sometimes blank, sometimes broken
    (unless not ``broken``)."""
    doc = {"_id": f"d{draw(st.integers(0, 12))}", "_type": "t", "n": draw(st.integers(0, 3))}
    text = json.dumps(doc).encode() + draw(st.sampled_from([b"", b"", b" ", b"  "]))
    kind = draw(st.sampled_from(["doc"] * 8 + ["blank"] + ["cut", "array"] * broken))
    if kind == "blank":
        return draw(st.sampled_from([b"", b"  "]))
    if kind == "cut":
        return text[:draw(st.integers(1, len(text) - 1))]
    return b"[1]" if kind == "array" else text


def edited(lines: list[bytes], draw: Any) -> list[bytes]:
    out = list(lines)
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["edit", "insert", "delete", "move", "copy", "bom", "space"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if op == "insert" or not out:
            out.insert(at, line(draw))
        elif op == "edit":
            out[at] = line(draw)
        elif op == "delete":
            del out[at]
        elif op == "move":
            out.insert(draw(st.integers(0, len(out) - 1)), out.pop(at))
        elif op == "copy":
            out.insert(draw(st.integers(0, len(out))), out[at])
        elif op == "space":
            out[at] = out[at].rstrip() if out[at].endswith(b" ") else out[at] + b" "
        else:
            out[0] = out[0][len(BOM):] if out[0].startswith(BOM) else BOM + out[0]
    return out


def joined(lines: list[bytes], final: bool) -> bytes:
    return b"\n".join(lines) + (b"\n" if final else b"")


def same(found: Lines, expected: Lines, previous: Loaded) -> None:
    old = {id(doc) for doc in previous.documents}
    assert len(found.documents) == len(expected.documents)
    for mine, theirs in zip(found.documents, expected.documents, strict=True):
        # The old line's document object where parse_lines reuses one, a new one where not.
        assert mine is theirs if id(theirs) in old else id(mine) not in old
    assert found.documents == expected.documents and found.digests == expected.digests
    assert found.starts == expected.starts and found.numbers == expected.numbers
    assert found.count == expected.count and found.faults == expected.faults


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.booleans(), st.booleans())
def test_matched_lines_are_parse_lines_with_every_old_line_known(
        data: st.DataObject, old_final: bool, new_final: bool) -> None:
    draw = data.draw
    # An old file without faults: ``reparse`` parses one with faults whole, never through
    # ``matched_lines`` (whose unchanged stretches take the old lines' documents only).
    old_lines = [line(draw, broken=False) for _ in range(draw(st.integers(0, 10)))]
    if old_lines and draw(st.booleans()):
        old_lines[0] = BOM + old_lines[0]
    old = joined(old_lines, old_final)
    new = joined(edited(old_lines, draw), new_final)
    previous = parse_ndjson(old, "f.ndjson")
    count = len(previous.documents)
    first = draw(st.integers(0, count))
    last = draw(st.integers(first, count))
    # A region of whole lines of the new file (what reparse passes: any such run).
    bounds = [0] + [i + 1 for i, byte in enumerate(new) if byte == 10]
    start = draw(st.sampled_from(bounds))
    ends = [i for i, byte in enumerate(new) if byte == 10 and i >= start] + [len(new)]
    stop = draw(st.sampled_from(ends))
    number = new.count(b"\n", 0, start) + 1
    found = matched_lines(previous, old, new, (first, last), (start, stop), number)
    known = _known_lines(previous, old, first, last)
    expected = parse_lines(new, start, stop, number, "f.ndjson", known)
    if len(set(previous.digests[first:last])) < last - first:
        assert found is None  # equal old lines: parse_lines decides which one is kept
        return
    assert found is not None
    same(found, expected, previous)


def row_at(data: bytes, start: int) -> bytes:
    """The bytes of the line that starts at ``start``."""
    stop = data.find(b"\n", start)
    return data[start:stop if stop >= 0 else len(data)]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.booleans())
def test_reparse_equals_a_fresh_parse(data: st.DataObject, final: bool) -> None:
    """Several edit rounds against the first parse (a stale snapshot's region spans them
    all): each reparse equals a fresh parse, and keeps the object of every unchanged line."""
    draw = data.draw
    lines = [line(draw) for _ in range(draw(st.integers(0, 10)))]
    if lines and draw(st.booleans()):
        lines[0] = BOM + lines[0]
    first = joined(lines, final)
    previous: Loaded = parse_ndjson(first, "f.ndjson")
    for _ in range(draw(st.integers(1, 3))):
        lines = edited(lines, draw)
        new = joined(lines, draw(st.booleans()))
        splice = reparse(previous, first, new)
        fresh = parse_ndjson(new, "f.ndjson")
        if splice is None:
            assert previous.faults or fresh.faults or previous.has_exported_assets
            continue
        loaded = splice.loaded
        assert loaded.documents == fresh.documents and loaded.digests == fresh.digests
        assert loaded.starts.tolist() == fresh.starts.tolist() and loaded.lines == fresh.lines
        # By the line's bytes: a digest leaves trailing spaces out (``ndjson.slack``).
        was = [row_at(first, start) for start in previous.starts.tolist()]
        now = [row_at(new, start) for start in loaded.starts.tolist()]
        by_line = dict(zip(was, previous.documents, strict=True))
        for doc, row in zip(loaded.documents, now, strict=True):
            if row in by_line and was.count(row) == 1 and now.count(row) == 1:
                assert doc is by_line[row]  # an unchanged line keeps its document


def test_a_first_line_with_a_byte_order_mark_moved_down_is_not_reused() -> None:
    """The mark is dropped from the file's first line only: that line moved below a blank
    one is a line starting with it (not JSON, as ``parse_lines`` finds), not the old line."""
    old = BOM + b'{"_id": "a", "_type": "t"}\n{"_id": "b", "_type": "t"}\n'
    new = b"\n" + old
    previous = parse_ndjson(old, "f.ndjson")
    found = matched_lines(previous, old, new, (0, 2), (0, len(new)), 1)
    expected = parse_lines(new, 0, len(new), 1, "f.ndjson", _known_lines(previous, old, 0, 2))
    assert found is not None and expected.faults and found.faults == expected.faults
    same(found, expected, previous)
    assert reparse(previous, old, new) is None  # a line that does not parse: parsed whole


def test_an_exported_asset_line_in_the_region_parses_the_file_whole() -> None:
    lines = [json.dumps({"_id": f"d{i}", "_type": "t", "n": i}).encode() for i in range(6)]
    old = joined(lines, True)
    asset = json.dumps({"_id": "x", "_type": "t", "_sanityAsset": "image@file://a.png"})
    new = joined([*lines[:1], lines[1] + b" ", *lines[2:4], asset.encode(), *lines[4:]], True)
    previous = parse_ndjson(old, "f.ndjson")
    assert matched_lines(previous, old, new, (1, 6), (len(lines[0]) + 1, len(new)), 2) is None
    assert reparse(previous, old, new) is None
    assert reparse(previous, old, new.replace(b"_sanityAsset", b"_sanityAsses")) is not None
