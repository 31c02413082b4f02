"""sources.fanout: chunks run across forked processes give the plain loop's results; a
killed child loses only its chunks; a child's exception reaches the caller. parse_ahead:
Markdown parsed on two processes loads the same documents and faults as parsed in one."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import markdown_site

from ssgen.sources.fanout import MAX_CHUNKS, ChildFailed, chunk_size, fan_out, start


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 40), st.integers(1, 3))
def test_every_chunk_once_with_the_loops_result(count: int, jobs: int) -> None:
    got: dict[int, list[object]] = {}

    def done(index: int, rows: list[object]) -> None:
        assert index not in got
        got[index] = rows

    lost = fan_out(count, lambda i: [(i, "x" * i, None, frozenset({i}))], jobs, done)
    assert lost == []
    assert got == {i: [(i, "x" * i, None, frozenset({i}))] for i in range(count)}


def test_a_killed_child_loses_only_its_chunks() -> None:
    parent = os.getpid()
    got: set[int] = set()

    def run(index: int) -> list[int]:
        if os.getpid() != parent:
            os._exit(137)  # as kill -9 would, at the child's first chunk
        time.sleep(0.005)  # leaves the child time to start and take one
        return [index]

    lost = fan_out(50, run, 2, lambda index, rows: got.add(index))
    assert len(lost) == 1 and set(lost) | got == set(range(50)) and not set(lost) & got


def test_a_childs_exception_reaches_the_caller() -> None:
    parent = os.getpid()

    def run(index: int) -> list[int]:
        if os.getpid() != parent:
            raise KeyError("in the child")
        time.sleep(0.005)
        return [index]

    with pytest.raises(ChildFailed, match="KeyError"):
        fan_out(50, run, 2, lambda index, rows: None)


def test_children_run_ahead_of_a_busy_caller() -> None:
    """Started children fill their pipes while the caller does something else, keep the
    rest of their results, and every result arrives whole; a failure after results that
    did not fit in the pipe still reaches the caller as the child's traceback."""
    parent = os.getpid()
    ran_here: list[int] = []

    def run(index: int) -> list[str]:
        if os.getpid() == parent:
            ran_here.append(index)
        return [str(index) * 300_000]

    started = start(24, run, 2)
    time.sleep(0.5)  # 24 results of 300 KB: far more than a pipe holds
    got: dict[int, list[str]] = {}
    assert started.finish(lambda index, rows: got.setdefault(index, rows)) == []
    assert got == {i: [str(i) * 300_000] for i in range(24)}
    assert len(ran_here) < 24  # the child did its part while this process slept

    def fails_late(index: int) -> list[str]:
        if os.getpid() != parent and index >= 6:
            raise KeyError("late in the child")
        return ["x" * 300_000]

    started = start(12, fails_late, 2)
    time.sleep(0.3)
    with pytest.raises(ChildFailed, match="KeyError"):
        started.finish(lambda index, rows: None)


def test_chunks_stay_within_the_pipe() -> None:
    assert chunk_size(100, 64) == 64
    assert -(-10_000_000 // chunk_size(10_000_000, 64)) <= MAX_CHUNKS


def test_markdown_parsed_ahead_loads_as_parsed_in_one_process(tmp_path: Path) -> None:
    from ssgen.config.load import load_config
    from ssgen.sources import filecache
    from ssgen.sources.local import LocalSource, read_inputs
    from ssgen.sources.parse_ahead import MIN_FILES, parse_ahead

    site = markdown_site(tmp_path)
    for i in range(MIN_FILES + 40):
        folder = "deep/" if i % 3 else ""
        front = f"title: Page {i}\ndate: 2024-01-{i % 28 + 1:02d}\ntags: [a, b]\n"
        if i % 17 == 0:
            front = "title: [unclosed\n"  # a fault: the file is skipped and named
        (site / "content" / f"{folder}p{i}.md").write_text(f"---\n{front}---\n\n*{i}* é\n")
    config = load_config(site)
    plain = LocalSource(config, preread=read_inputs(config))
    filecache.settle()  # its cache's save, forked from MIN_FILES files: done before the move
    (site / ".ssgen" / "markdown.cache").rename(tmp_path / "old-cache")
    read = read_inputs(config)
    assert parse_ahead(config, read, 2) == MIN_FILES + 40
    ahead = LocalSource(config, preread=read)
    assert ahead.documents == plain.documents
    assert [(f.where, f.message) for f in ahead.faults()] == [
        (f.where, f.message) for f in plain.faults()]
    assert ahead.fingerprint() == plain.fingerprint()


def test_pages_of_a_killed_render_worker_fail_the_rest_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ssgen.build import workers
    from ssgen.build.pipeline import build
    from ssgen.config.load import load_config

    site = tmp_path / "site"
    (site / "templates").mkdir(parents=True)
    (site / "content").mkdir()
    (site / "ssgen.toml").write_text(
        '[site]\ntitle = "T"\nbase_url = "https://e.example"\n[source]\ntype = "local"\n'
        'files = []\nmarkdown_dir = "content"\n[[routes]]\nname = "page"\npath = "/{slug}/"\n'
        'template = "page.html"\nquery = \'*[_type == "page"]{title, "slug": slug.current}\'\n'
    )
    (site / "templates" / "page.html").write_text("<h1>{{ page.title }}</h1>")
    count = 300
    for i in range(count):
        (site / "content" / f"p{i}.md").write_text(f"---\ntitle: Page {i}\n---\n")
    parent, run = os.getpid(), workers.PageWriter.run

    def dies_in_a_child(self: workers.PageWriter, spec: object) -> object:
        if os.getpid() != parent:
            os._exit(137)
        time.sleep(0.001)
        return run(self, spec)  # type: ignore[arg-type]

    monkeypatch.setattr(workers.PageWriter, "run", dies_in_a_child)
    report = build(load_config(site), full=True, jobs=2)
    failed = {failure.path for failure in report.failures}
    assert not report.ok and 0 < len(failed) <= 64
    assert all("render worker stopped" in f.message for f in report.failures)
    built = {p.parent.name for p in (site / "public").glob("*/index.html")}
    assert len(built) == count - len(failed)
    assert not built & {path.strip("/") for path in failed}
