"""A page row's tags text: its last text while the page's tags are the very set and its
image tags equal (``records.tag_text``'s memo), else made afresh; always the canonical
JSON of the sorted union, whatever the rounds before handed it."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssgen.manifest.schema import records
from ssgen.manifest.schema.records import PageRecord, page_row, tag_text

_TAG = st.sampled_from(["doc:a", "doc:b", "doc:c", "template:t.html", "route:r", "x"])
_IMAGES = st.frozensets(st.sampled_from(["image:1", "image:2", "doc:a"]), max_size=2)
# Each round: which tags the page has (the last set itself, an equal new set, another
# set) and which image tags its render used; on one of two paths.
_ROUNDS = st.lists(st.tuples(st.sampled_from(["same", "equal", "other"]),
                             st.frozensets(_TAG, min_size=1), _IMAGES,
                             st.sampled_from(["/", "/blog/"])), min_size=1, max_size=10)


def _expected(tags: frozenset[str], images: frozenset[str]) -> str:
    return orjson.dumps(sorted(tags | images)).decode()


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=_ROUNDS)
def test_tag_text_is_the_sorted_union_whatever_came_before(
    monkeypatch: pytest.MonkeyPatch,
    rounds: list[tuple[str, frozenset[str], frozenset[str], str]],
) -> None:
    monkeypatch.setattr(records, "_KEEP_FROM", 1)  # every set kept, however small
    records._TAG_TEXTS.clear()
    last: dict[str, frozenset[str]] = {}
    for how, other, images, path in rounds:
        tags = last.get(path, other)
        if how == "equal":
            tags = frozenset(set(tags))
        elif how == "other":
            tags = other
        last[path] = tags
        assert tag_text(path, tags, images) == _expected(tags, images)
        record = PageRecord(path, "r", {}, "t.html", "d", "o", "index.html")
        assert page_row(record, tags, images)[7] == _expected(tags, images)


def test_the_very_set_gives_the_very_text() -> None:
    records._TAG_TEXTS.clear()
    tags = frozenset(f"doc:{n}" for n in range(records._KEEP_FROM))
    first = tag_text("/", tags, frozenset({"image:1"}))
    assert tag_text("/", tags, frozenset({"image:1"})) is first
    assert tag_text("/", frozenset(set(tags)), frozenset({"image:1"})) is not first
    small = frozenset(list(tags)[:3])
    assert tag_text("/x/", small) is not tag_text("/x/", small)  # too few to keep
