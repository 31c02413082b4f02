"""Patching a kept NDJSON file's lines by ``_id`` (the Sanity mirror in serve) equals
parsing the file those lines make (hypothesis), and refuses what it cannot tell."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.sources.local.lines import id_splices, in_id_order
from ssgen.sources.ndjson import SLACK, SLOT, line_digest, parse_ndjson, slack

IDS = [f"doc-{i:02d}" for i in range(12)] + [f"drafts.doc-{i:02d}" for i in range(4)]


def line(doc_id: str, title: str) -> bytes:
    return json.dumps({"_id": doc_id, "_type": "post", "title": title},
                      separators=(",", ":")).encode()


def file_of(lines: dict[str, bytes]) -> bytes:
    return b"".join(lines[doc_id] + b"\n" for doc_id in sorted(lines))


def unslotted(data: bytearray) -> bytes:
    """The file without the slack after its lines (``ndjson.slack``)."""
    return b"".join(row.rstrip(b" ") + b"\n" for row in bytes(data).split(b"\n")[:-1])


def slot_sizes(data: bytearray) -> dict[str, int]:
    """Each document's line length, its slack included."""
    return {json.loads(row)["_id"]: len(row) for row in bytes(data).split(b"\n")[:-1]}


def parsed(data: bytes) -> tuple[Any, ...]:
    loaded = parse_ndjson(data, "mirror.ndjson")
    return (loaded.documents, loaded.digests, loaded.starts.tolist(), loaded.numbers.tolist())


titles = st.text(alphabet="ab é\"\\", max_size=12)
files = st.dictionaries(st.sampled_from(IDS), titles, max_size=10)
edits = st.lists(st.dictionaries(st.sampled_from(IDS), st.none() | titles, max_size=4),
                 min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(start=files, steps=edits)
def test_patched_lines_equal_a_parse_of_the_file_they_make(
        start: dict[str, str], steps: list[dict[str, str | None]]) -> None:
    lines = {doc_id: line(doc_id, title) for doc_id, title in start.items()}
    data = bytearray(file_of(lines))
    loaded = parse_ndjson(bytes(data), "mirror.ndjson")
    for step in steps:
        wanted = {doc_id: None if title is None else line(doc_id, title)
                  for doc_id, title in step.items()}
        before = {doc["_id"]: doc for doc in loaded.documents}
        slots = slot_sizes(data)
        splices = id_splices(loaded, data, wanted)
        assert splices is not None
        # What each splice removed is the documents it replaced (the view checks them
        # against its own by identity), though ``loaded`` was spliced in place.
        assert all(doc is before[doc["_id"]] for splice in splices for doc in splice.removed)
        for doc_id, new in wanted.items():
            if new is None:
                lines.pop(doc_id, None)
            else:
                lines[doc_id] = new
        assert unslotted(data) == file_of(lines)
        # A line that fits its old slot is written in place: the slots stay as they were.
        if all(doc_id in slots and new is not None and len(new) <= slots[doc_id]
               for doc_id, new in wanted.items()):
            assert slot_sizes(data) == slots
        if splices:
            loaded = splices[-1].loaded
        assert (loaded.documents, loaded.digests, loaded.starts.tolist(),
                loaded.numbers.tolist()) == parsed(bytes(data))
        # An unchanged line keeps its document object (the view diffs by identity).
        for doc in loaded.documents:
            if doc["_id"] not in wanted:
                assert doc is before[doc["_id"]]


def test_a_file_out_of_id_order_is_refused_untouched() -> None:
    data = bytearray(line("b", "B") + b"\n" + line("a", "A") + b"\n")
    loaded = parse_ndjson(bytes(data), "mirror.ndjson")
    assert not in_id_order(loaded)
    assert id_splices(loaded, data, {"a": line("a", "A2")}) is None
    assert bytes(data) == line("b", "B") + b"\n" + line("a", "A") + b"\n"


def test_a_line_that_is_not_its_document_is_refused_untouched() -> None:
    original = line("a", "A") + b"\n" + line("b", "B") + b"\n"
    data = bytearray(original)
    loaded = parse_ndjson(bytes(data), "mirror.ndjson")
    for bad in (line("c", "C"), b"{not json", line("a", "A") + b"\n" + line("b", "B"),
                b'{"_id":"a","_type":"sanity.imageAsset","_sanityAsset":"x"}'):
        assert id_splices(loaded, data, {"a": bad}) is None
        assert bytes(data) == original


def test_a_file_without_a_last_newline_takes_no_line_after_its_last() -> None:
    data = bytearray(line("a", "A") + b"\n" + line("b", "B"))
    loaded = parse_ndjson(bytes(data), "mirror.ndjson")
    assert id_splices(loaded, data, {"c": line("c", "C")}) is None


def test_a_lines_slack_is_not_in_its_digest() -> None:
    plain = line("a", "A ")
    assert slack(len(plain)) >= SLACK and (len(plain) + slack(len(plain))) % SLOT == 0
    assert line_digest(plain + b" " * slack(len(plain))) == line_digest(plain)
    assert line_digest(plain) != line_digest(line("a", "A"))
