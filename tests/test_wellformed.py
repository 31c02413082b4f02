"""Lone UTF-16 surrogates escaped in JSON (``"\\ud83d"``: Sanity's API sends one for a
JavaScript string cut inside an emoji): each JSON edge of the sources makes every one
U+FFFD, as the UTF-16 codec's ``replace`` does, and the document builds (hypothesis)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from hypothesis import given
from hypothesis import strategies as st
from mirrorkit import config_of, server_for, write_site
from sanity_wire import as_json
from test_incremental import SiteModel, snapshot

from ssgen.build.pipeline import build
from ssgen.sources import wellformed
from ssgen.sources.ndjson import parse_ndjson
from ssgen.sources.sanity.listen import SseMessage, to_event

# Text as a JavaScript string may hold it: any code unit, surrogates alone or in pairs.
units = st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr),
                  st.sampled_from(["\ud83d\ude00", "\\ud83d", "\\"]))
texts = st.lists(units, max_size=12).map("".join)


def expected(text: str) -> str:
    """``text`` as its UTF-16 code units decode: pairs joined, each lone unit U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@given(key=texts, text=texts, ascii_only=st.booleans())
def test_lone_surrogates_become_the_replacement_character(
        key: str, text: str, ascii_only: bool) -> None:
    raw = json.dumps({key: [text]}, ensure_ascii=ascii_only)
    data = raw.encode() if ascii_only else as_json({key: [text]})
    assert wellformed.loads(data) == {expected(key): [expected(text)]}


@given(text=texts)
def test_an_ndjson_line_with_one_builds_and_others_are_untouched(text: str) -> None:
    doc = {"_id": "a", "_type": "t", "title": text}
    line = json.dumps(doc).encode()
    loaded = parse_ndjson(line + b"\n", "x.ndjson")
    assert loaded.faults == []
    assert loaded.documents == [{**doc, "title": expected(text)}]
    orjson.dumps(loaded.documents)  # UTF-8 throughout
    if expected(text) == text:  # nothing to replace: orjson's parse, untouched
        assert loaded.documents == [orjson.loads(line)]


def test_a_listen_event_with_one_is_read() -> None:
    event = to_event(SseMessage("mutation", json.dumps(
        {"documentId": "p1", "transition": "update", "result": {"title": "cut \ud83d"}}), None))
    assert event.data["result"]["title"] == "cut \ufffd"


def test_a_sanity_document_with_one_builds_with_the_replacement_character(
        tmp_path: Path) -> None:
    """Through the HTTP API and the mirror: the page shows U+FFFD; the test server sends
    the surrogate escaped, as Sanity does."""
    model = SiteModel()
    post = sorted(i for i, d in model.docs.items() if d["_type"] == "post")[0]
    model.docs[post]["title"] = "broken \ud83d emoji"
    with server_for(model) as server:
        config = write_site(tmp_path / "site", model, server)
        report = build(config_of(config.site_dir), jobs=1)
        assert report.ok, report.failures
    pages = snapshot(tmp_path / "site" / "public")
    shown = [path for path, body in pages.items() if "broken \ufffd emoji".encode() in body]
    assert any(path.endswith("index.html") and post not in path for path in shown)
    assert not any(b"broken \\ud83d" in body for body in pages.values())
