"""``ssgen.build.readahead``: serve's rounds read ahead, on a thread, the manifest rows and
output files of the pages they render, and nothing when not asked to. Each test names the
mutant it catches."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sitekit import author, make_site, mutant, post, write_docs

from ssgen.build import readahead
from ssgen.build.change import Change
from ssgen.config.load import load_config
from ssgen.manifest.connect import sqlite_path
from ssgen.serve.worker import RebuildWorker
from ssgen.serve.worker import run as worker_run


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Each read-ahead's arguments, made by the real read."""
    seen: list[tuple[Any, ...]] = []
    real = readahead._read

    def spy(*args: Any) -> None:
        seen.append(args)
        real(*args)

    monkeypatch.setattr(readahead, "_read", spy)
    return seen


def test_a_round_reads_ahead_the_rows_and_files_of_the_pages_it_renders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path)
    config = load_config(site)
    seen = _reads(monkeypatch)
    worker = RebuildWorker(config, settle=0)
    try:
        worker._round()  # the start-up round, and the warm after it, read ahead too:
        readahead.wait()  # waited for, or a read they asked may land in the next count
        seen.clear()
        write_docs(site, [author("a1", "Ada"), post(1, title="Retitled"), post(2)])
        worker.submit(Change(tags=frozenset({"post:post-1"})))
        worker._round()
        result = worker.last
        readahead.wait()
    finally:
        worker.stop()
    assert not any(t.name == "ssgen-read-ahead" for t in threading.enumerate()), \
        "the read-ahead thread outlived the stopped worker"
    assert result is not None and result.ok
    assert b"Retitled" in (site / "public/blog/post-1/index.html").read_bytes()
    assert len(seen) == 1, "no read-ahead, or more than one, in the round"
    manifest, paths, files, output = seen[0]
    assert manifest == sqlite_path(config.state_dir) and output == config.output_dir
    assert "/blog/post-1/" in paths and "/blog/post-2/" not in paths  # the rendered only
    assert "blog/post-1/index.html" in files and len(files) == len(paths)
    # What it reads is there: each page's row and each file's.
    assert readahead.read_rows(manifest, paths, files) == 2 * len(paths)


def test_mutant_no_read_ahead_in_serve_is_caught(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = readahead.reading_ahead
    with mutant(worker_run, "reading_ahead", lambda manifest: real(None)), \
            pytest.raises(AssertionError):
        test_a_round_reads_ahead_the_rows_and_files_of_the_pages_it_renders(
            tmp_path, monkeypatch)


def test_only_when_asked_and_for_a_few_pages(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A build outside serve's round (a new process), on another manifest, or of more
    than ``MOST_PAGES`` pages starts no thread."""
    seen = _reads(monkeypatch)
    db, other = tmp_path / "m.sqlite", tmp_path / "n.sqlite"
    assert not readahead.start(db, ["/a/"], ["a/index.html"], tmp_path)
    with readahead.reading_ahead(db):
        assert not readahead.start(other, ["/a/"], ["a/index.html"], tmp_path)
        many = [f"/p{i}/" for i in range(readahead.MOST_PAGES + 1)]
        assert not readahead.start(db, many, [], tmp_path)
        assert readahead.start(db, ["/a/"], ["a/index.html"], tmp_path)
        thread = readahead._THREAD[0][0]
        assert readahead.start(db, ["/b/"], ["b/index.html"], tmp_path)
        assert readahead._THREAD[0][0] is thread, "a thread started for each read-ahead"
        readahead.wait()  # no manifest there: the thread fails quietly, and goes on
    assert not readahead.start(db, ["/a/"], ["a/index.html"], tmp_path)
    assert [args[1] for args in seen] == [["/a/"], ["/b/"]]
    readahead.stop()
    thread.join(1)
    assert not thread.is_alive() and not readahead._THREAD


def test_mutant_reading_ahead_for_any_manifest_is_caught(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = readahead.start

    def any_manifest(manifest: Path, *args: Any) -> Any:
        return real(readahead._ON[0] if readahead._ON else manifest, *args)

    with mutant(readahead, "start", any_manifest), pytest.raises(AssertionError):
        test_only_when_asked_and_for_a_few_pages(tmp_path, monkeypatch)
