"""A command's full build records its pages' rows as their batches come back from the
render (``ssgen.build.record.EarlyRecord``): the manifest it leaves is the one the record
stage alone leaves (over an empty or an earlier manifest, with failing pages and pages
whose rows the record stage builds), the rows are written during the render, and an
exception before the record stage commits leaves none of them."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import manifest_tables, markdown_site, output_files

from ssgen.build import record, workers
from ssgen.build.pipeline import build
from ssgen.build.pipeline import pages as pipeline
from ssgen.config.load import load_config

# Meta rows that differ between any two builds (generations, clocks, random marks; the
# sitemap's key is "" when this process's warm memo made the files).
_VOLATILE = ("files_checked_ns", "last_success", "pages_generation", "doclists", "documents_at",
             "sitemap_key")
_TABLES = ("pages", "page_tags", "files", "documents", "failures", "journal", "templates",
           "template_deps", "globals", "path_history", "page_lastmod")
_TEMPLATE = ("<h1>{{ page.title }}</h1>{% if page.title.startswith('boom') %}"
             "{{ page.nope.deeper }}{% endif %}{{ page.body | markdown }}")

# A page: (name, title, extra front matter); a title "boom..." fails to render.
_PAGE = st.tuples(st.sampled_from([f"p{i}" for i in range(40)]),
                  st.sampled_from(["one", "two", "boom", "boom2", "three"]),
                  st.sampled_from(["", "tags: [a, b]\n", "date: 2024-01-02\n"]))
_PAGES = st.lists(_PAGE, max_size=30, unique_by=lambda page: page[0])


class _Off(record.EarlyRecord):
    """The record stage alone, as before ``EarlyRecord`` (the model)."""

    def __init__(self, manifest: Any, *, on: bool, expected: int = 0,
                 note: Any = None) -> None:
        super().__init__(manifest, on=False)


def _site(root: Path) -> Path:
    site = markdown_site(root)
    (site / "templates" / "page.html").write_text(_TEMPLATE)
    return site


def _write(site: Path, pages: list[tuple[str, str, str]]) -> None:
    shutil.rmtree(site / "content")
    (site / "content").mkdir()
    for name, title, extra in pages:
        (site / "content" / f"{name}.md").write_text(f"---\ntitle: {title}\n{extra}---\n\n*{name}*\n")


def _tables(site: Path) -> dict[str, list[Any]]:
    return manifest_tables(site, _TABLES, _VOLATILE)


def _built(root: Path, before: list[tuple[str, str, str]] | None,
           pages: list[tuple[str, str, str]], monkeypatch: pytest.MonkeyPatch, *, early: bool,
           rowless: str, jobs: int = 1) -> tuple[dict[str, Any], dict[str, bytes]]:
    site = _site(root)
    if before is not None:  # an earlier build's manifest and output under this full build
        _write(site, before)
        build(load_config(site), full=True, jobs=jobs)
    _write(site, pages)
    with monkeypatch.context() as patch:
        if not early:
            patch.setattr(pipeline, "EarlyRecord", _Off)
        patch.setattr(record.EarlyRecord, "BATCH", 2)  # several batches of a few pages
        real_row = workers.PageWriter._row

        def row(writer: workers.PageWriter, spec: Any, *args: Any) -> tuple[str, ...]:
            return () if rowless and rowless in spec.path else real_row(writer, spec, *args)

        patch.setattr(workers.PageWriter, "_row", row)  # those rows: the record stage's
        report = build(load_config(site), full=True, jobs=jobs)
    assert report.rendered == len(pages)
    assert len(report.failures) == sum(title.startswith("boom") for _, title, _ in pages)
    return _tables(site), output_files(site)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.none() | _PAGES, pages=_PAGES, rowless=st.sampled_from(["", "1", "p"]))
def test_early_rows_leave_the_manifest_the_record_stage_leaves(
    monkeypatch: pytest.MonkeyPatch, before: list[tuple[str, str, str]] | None,
    pages: list[tuple[str, str, str]], rowless: str,
) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        early = _built(folder / "early", before, pages, monkeypatch, early=True,
                       rowless=rowless)
        alone = _built(folder / "alone", before, pages, monkeypatch, early=False,
                       rowless=rowless)
        assert early == alone
        built = {f"/{name}/" for name, title, _ in pages if not title.startswith("boom")}
        assert built <= {row[0] for row in early[0]["pages"]}
    finally:
        shutil.rmtree(folder)


def _many(count: int) -> list[tuple[str, str, str]]:
    return [(f"p{i}", "boom" if i % 50 == 7 else f"t{i}", "tags: [a]\n" if i % 3 else "")
            for i in range(count)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_early_rows_with_render_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        jobs: int) -> None:
    pages = _many(260)  # above the render stage's threshold for forking workers
    early = _built(tmp_path / "early", _many(30), pages, monkeypatch, early=True,
                   rowless="9", jobs=jobs)
    alone = _built(tmp_path / "alone", _many(30), pages, monkeypatch, early=False,
                   rowless="9", jobs=jobs)
    assert early == alone
    assert len(early[0]["pages"]) == 260 - 6


def _recording(monkeypatch: pytest.MonkeyPatch) -> list[record.EarlyRecord]:
    """The ``EarlyRecord`` of each build from now on, in order."""
    made: list[record.EarlyRecord] = []
    real_enter = record.EarlyRecord.__enter__

    def enter(self: record.EarlyRecord) -> record.EarlyRecord:
        made.append(self)
        return real_enter(self)

    monkeypatch.setattr(record.EarlyRecord, "__enter__", enter)
    monkeypatch.setattr(record.EarlyRecord, "BATCH", 64)
    return made


def test_rows_are_committed_while_the_render_runs(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(tmp_path)
    _write(site, _many(300))
    made = _recording(monkeypatch)
    seen: list[int] = []
    real = pipeline.render_pages

    def render(*args: Any, **kwargs: Any) -> Any:
        outcomes = real(*args, **kwargs)
        # Read on a connection of its own: committed, not merely written.
        with sqlite3.connect(site / ".ssgen" / "manifest.sqlite") as conn:
            seen.append(conn.execute("SELECT count(*) FROM pages").fetchone()[0])
        return outcomes

    monkeypatch.setattr(pipeline, "render_pages", render)
    report = build(load_config(site), full=True, jobs=2)
    assert report.rendered == 300 and len(report.failures) == 6
    # All but the last, unfilled batch were committed when the render returned.
    assert seen[0] == len(made[0].recorded) > 294 - 64
    assert len(_tables(site)["pages"]) == 294
    # An incremental build (and a build given its source, as serve's) records at the end.
    (site / "content" / "p1.md").write_text("---\ntitle: new\n---\n\nnew\n")
    build(load_config(site), jobs=2)
    assert not made[-1].on and not made[-1].recorded


def test_each_early_batch_notes_its_pages_in_the_path_history(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build killed after a batch leaves rows the next build finds unchanged and does
    not record again: each batch notes its pages' path history in its own transaction
    (what the crash property found: a renamed post's old path said 410, not 301)."""
    site = _site(tmp_path)
    _write(site, _many(300))
    made = _recording(monkeypatch)
    noted: list[list[str]] = []
    real = pipeline.note_history

    def spy(config: Any, manifest: Any, plan: Any, paths: Any, *, full: bool) -> None:
        paths = list(paths)
        noted.append(paths)
        real(config, manifest, plan, paths, full=full)

    monkeypatch.setattr(pipeline, "note_history", spy)
    build(load_config(site), full=True, jobs=2)
    assert made[0].recorded and made[0].recorded <= {p for batch in noted for p in batch}


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_parallel_render_leaves_the_record_stage_its_last_arrival_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """With workers, the rows that arrive once fewer than a batch are still to come are
    committed as they arrive, not left for the record stage after the render (300
    pages: the render's last chunks hold 16; a batch of 200 left ~90 rows behind); a
    serial render commits full batches only, as before (nothing renders beside it)."""
    site = _site(tmp_path)
    _write(site, _many(300))
    made = _recording(monkeypatch)
    monkeypatch.setattr(record.EarlyRecord, "BATCH", 200)
    committed: list[int] = []
    real = record.EarlyRecord.arrived

    def arrived(self: record.EarlyRecord, batch: list[Any]) -> None:
        real(self, batch)
        committed.append(len(self.recorded))

    monkeypatch.setattr(record.EarlyRecord, "arrived", arrived)
    report = build(load_config(site), full=True, jobs=jobs)
    assert report.rendered == 300 and len(report.failures) == 6
    if jobs == 2:
        assert committed[-2] == len(made[0].recorded) >= 294 - 16
    else:
        assert 200 <= len(made[0].recorded) < 294 - 16  # the last 64-page chunk's left
    assert len(_tables(site)["pages"]) == 294


def _interrupted(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full build stopped (Ctrl-C) after its render, before the record stage."""
    real = pipeline.render_pages

    def render(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "render_pages", render)
        with pytest.raises(KeyboardInterrupt):
            build(load_config(site), full=True, jobs=2)


def _rows_match_files(site: Path, paths: set[str]) -> bool:
    """The recorded file of each page of ``paths`` has the bytes recorded (a row committed
    during the render is never ahead of its file)."""
    import hashlib

    with sqlite3.connect(site / ".ssgen" / "manifest.sqlite") as conn:
        rows = conn.execute("SELECT p.path, f.relpath, f.hash FROM pages p"
                            " JOIN files f ON f.relpath = p.file").fetchall()
    found = {path: (rel, digest) for path, rel, digest in rows if path in paths}
    return len(found) == len(paths) and all(
        hashlib.sha256((site / "public" / rel).read_bytes()).hexdigest() == digest
        for rel, digest in found.values())


@pytest.mark.parametrize("earlier", [False, True])
def test_a_full_build_stopped_after_its_render_then_builds_as_a_clean_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, earlier: bool
) -> None:
    """Stopped with most pages committed: the manifest is behind the files, and the next
    build (full after a first build, incremental over an earlier one) gives the files
    and rows of a clean full build."""
    site = _site(tmp_path / "a")
    if earlier:  # an earlier build, then edits: added, changed, removed pages
        _write(site, [(f"p{i}", f"old{i}", "") for i in range(100, 400) if i % 50 != 7])
        build(load_config(site), jobs=2)
    _write(site, _many(300))
    made = _recording(monkeypatch)
    _interrupted(site, monkeypatch)
    assert len(made[0].recorded) > 294 - 64
    assert _rows_match_files(site, made[0].recorded)
    report = build(load_config(site), jobs=2)
    assert report.full != earlier and len(report.failures) == 6
    clean = _site(tmp_path / "b")
    _write(clean, _many(300))
    build(load_config(clean), jobs=2)
    assert output_files(site) == output_files(clean)
    assert _tables(site) == _tables(clean)
