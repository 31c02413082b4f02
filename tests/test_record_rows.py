"""The record stage's bulk writes: page rows built in the render workers record what the
record stage would have built itself; rows written in key order (and a first build's tag
rows expanded from the pages table) give the table the per-page writes give, a repeated
key included (the last row wins); a full build records with fsync off, and back on after."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import markdown_site

from ssgen.manifest.schema import page_row
from ssgen.manifest.store import Manifest, PageRecord

_PATHS = st.sampled_from(["/a/", "/b/", "/c/", "/d/", "/e/"])
_TAGS = st.frozensets(st.sampled_from(["doc:1", "doc:2", "type:p", "route:r", "x"]))
# (path, tags, data hash): a batch may name one path more than once.
_ROWS = st.lists(st.tuples(_PATHS, _TAGS, st.sampled_from(["d1", "d2"])), max_size=12)


def _row(path: str, tags: frozenset[str], data: str) -> tuple[str, ...]:
    record = PageRecord(path, "r", {"slug": path}, "t.html", data, "o", path[1:] + "index.html")
    return page_row(record, tags)


def _tables(m: Manifest) -> tuple[list[object], ...]:
    conn: sqlite3.Connection = m._conn
    return tuple(conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                 for table in ("pages", "page_tags", "files"))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=_ROWS, batch=_ROWS)
def test_bulk_rows_record_as_one_by_one(
    monkeypatch: pytest.MonkeyPatch, before: list[tuple[str, frozenset[str], str]],
    batch: list[tuple[str, frozenset[str], str]],
) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        results = []
        for small in (0, 1000):  # the bulk path, then the per-page one as the model
            monkeypatch.setattr("ssgen.manifest.store._SMALL_BATCH", small)
            with Manifest.open(folder / f"{small}.sqlite") as m:
                m.record_rows([_row(*entry) for entry in before])  # empty when none before
                m.record_rows([_row(*entry) for entry in batch])
                m.set_files((path[1:] + "index.html", f"h{data}{len(tags)}", "page", 1, 2)
                            for path, tags, data in [*before, *batch])
                results.append(_tables(m))
        assert results[0] == results[1]
        expected = {path: (tags, data) for path, tags, data in [*before, *batch]}
        pages, page_tags, files = results[0]
        assert [row[0] for row in pages] == sorted(expected)
        assert {(tag, path) for tag, path in page_tags} == {
            (tag, path) for path, (tags, _) in expected.items() for tag in tags}
        assert {row[0]: row[1] for row in files} == {
            path[1:] + "index.html": f"h{data}{len(tags)}"
            for path, (tags, data) in expected.items()}
    finally:
        shutil.rmtree(folder)


def test_file_kinds_are_still_checked(tmp_path: Path) -> None:
    with Manifest.open(tmp_path / "m.sqlite") as m, pytest.raises(ValueError, match="kind"):
        m.set_files([("a.html", "h", "page"), ("b.html", "h", "other")])


def test_unsynced_turns_fsync_off_inside_and_on_after(tmp_path: Path) -> None:
    with Manifest.open(tmp_path / "m.sqlite") as m:
        conn: sqlite3.Connection = m._conn
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        with pytest.raises(KeyError), m.unsynced(), m.transaction():
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF
            m.set_meta("k", "v")
            raise KeyError("rolled back")
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1
        assert m.get_meta("k") is None


def _built(site: Path, monkeypatch: pytest.MonkeyPatch, *, worker_rows: bool,
           jobs: int) -> tuple[list[object], ...]:
    from ssgen.build import workers
    from ssgen.build.pipeline import build
    from ssgen.config.load import load_config

    if not worker_rows:  # the record stage builds every row, as before the workers did
        monkeypatch.setattr(workers.PageWriter, "_row", lambda *args: ())
    shutil.rmtree(site / "public", ignore_errors=True)
    shutil.rmtree(site / ".ssgen", ignore_errors=True)
    report = build(load_config(site), full=True, jobs=jobs)
    assert report.ok and report.rendered == 260
    monkeypatch.undo()
    with Manifest.open(site / ".ssgen" / "manifest.sqlite") as m:
        pages, tags, files = _tables(m)
    return pages, tags, [row[:3] for row in files]  # (relpath, hash, kind): not the stat


@pytest.mark.parametrize("jobs", [1, 2])
def test_worker_rows_record_what_the_record_stage_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    site = markdown_site(tmp_path)
    for i in range(260):  # above the render stage's threshold for forking workers
        extra = "\ntags: [a, b]" if i % 3 else ""
        (site / "content" / f"p{i}.md").write_text(f"---\ntitle: Page {i}{extra}\n---\n\n*{i}*\n")
    with_rows = _built(site, monkeypatch, worker_rows=True, jobs=jobs)
    without = _built(site, monkeypatch, worker_rows=False, jobs=jobs)
    assert with_rows == without
    assert len(with_rows[0]) == 260


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(_ROWS, max_size=4))
def test_new_rows_in_batches_record_as_one_by_one(
    batches: list[list[tuple[str, frozenset[str], str]]],
) -> None:
    """``record_rows(new=True)``, batch after batch of paths none recorded before (a full
    build's render batches over an empty table), gives the per-page writes' tables."""
    seen: set[str] = set()
    unique = []
    for batch in batches:
        unique.append([entry for entry in dict((e[0], e) for e in batch).values()
                       if entry[0] not in seen])
        seen.update(entry[0] for entry in unique[-1])
    folder = Path(tempfile.mkdtemp())
    try:
        results = []
        for new in (True, False):
            with Manifest.open(folder / f"{new}.sqlite") as m:
                for batch in unique:
                    if new:
                        m.record_rows([_row(*entry) for entry in batch], new=True)
                    else:
                        for entry in batch:
                            m.record_pages([(page_record_of(*entry), entry[1])])
                results.append(_tables(m))
        assert results[0] == results[1]
        assert len(results[0][0]) == len(seen)
    finally:
        shutil.rmtree(folder)


def page_record_of(path: str, tags: frozenset[str], data: str) -> PageRecord:
    return PageRecord(path, "r", {"slug": path}, "t.html", data, "o", path[1:] + "index.html")
