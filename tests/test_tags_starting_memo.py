"""``Manifest.tags_starting`` answered from memory while no page's tag rows changed: after
any sequence of this connection's records (one by one and in bulk), removals, rolled
back transactions and another connection's commits, it is what a fresh connection's scan
of the same file finds, and the tags of the pages recorded (the model); and a second ask
with nothing changed reads nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssgen.manifest.store import Manifest, PageRecord

_TAGS = st.frozensets(st.sampled_from(["image:a", "image:b", "image:c", "doc:x", "type:p"]),
                      max_size=3)
_PATH = st.sampled_from(["/a/", "/b/", "/c/"])
_STEP = st.one_of(
    st.tuples(st.just("record"), st.lists(st.tuples(_PATH, _TAGS), min_size=1, max_size=3),
              st.booleans()),
    st.tuples(st.just("remove"), _PATH),
    st.tuples(st.just("rollback"), _PATH, _TAGS),
    st.tuples(st.just("other"), _PATH, _TAGS),
    st.tuples(st.just("ask"), st.sampled_from(["image:", "doc:"])),
)


def _rows(m: Manifest, pages: list[tuple[str, frozenset[str]]]) -> None:
    m.record_pages([(PageRecord(path, "r", {}, "t.html", "d", "o", path[1:] + "index.html"),
                     tags) for path, tags in pages])


def _step(m: Manifest, path: Path, step: tuple[object, ...],
          monkeypatch: pytest.MonkeyPatch, model: dict[str, frozenset[str]]) -> None:
    kind = step[0]
    if kind == "record":
        pages, bulk = step[1], step[2]
        monkeypatch.setattr("ssgen.manifest.store._SMALL_BATCH", 0 if bulk else 64)
        _rows(m, pages)  # type: ignore[arg-type]
        model.update(pages)  # type: ignore[arg-type]
    elif kind == "remove":
        m.remove_page(step[1])  # type: ignore[arg-type]
        model.pop(step[1], None)  # type: ignore[call-overload]
    elif kind == "rollback":
        with pytest.raises(RuntimeError), m.transaction():
            _rows(m, [(step[1], step[2])])  # type: ignore[list-item]
            m.tags_starting("image:")  # asked inside: forgotten with the rollback
            raise RuntimeError
    elif kind == "other":
        with Manifest.open(path) as other:
            _rows(other, [(step[1], step[2])])  # type: ignore[list-item]
        model[step[1]] = step[2]  # type: ignore[index,assignment]
    else:
        m.tags_starting(step[1])  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_STEP, max_size=12))
def test_tags_starting_is_a_fresh_scans_answer_after_any_steps(
        monkeypatch: pytest.MonkeyPatch, steps: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.sqlite"
        model: dict[str, frozenset[str]] = {}
        with Manifest.open(path) as m:
            for step in steps:
                _step(m, path, step, monkeypatch, model)
                with Manifest.open(path) as fresh:
                    for prefix in ("image:", "doc:"):
                        expected = {t for tags in model.values() for t in tags
                                    if t.startswith(prefix)}
                        assert m.tags_starting(prefix) == fresh.tags_starting(prefix) \
                            == expected


def test_nothing_changed_reads_no_tags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Manifest.open(tmp_path / "m.sqlite") as m:
        _rows(m, [("/a/", frozenset({"image:a", "doc:x"}))])
        assert m.tags_starting("image:") == {"image:a"}
        _rows(m, [("/a/", frozenset({"image:a", "doc:x"}))])  # the same tags again
        scans: list[str] = []
        real = m._rows
        monkeypatch.setattr(m, "_rows", lambda sql, *a, **k: (
            scans.append(sql), real(sql, *a, **k))[1])
        assert m.tags_starting("image:") == {"image:a"}
        assert not [sql for sql in scans if "page_tags" in sql]
