"""Serve's rounds build on the worker's own manifest connection (``RoundRunner.manifest``),
kept open across rounds with a large page cache, so what a round reads of the manifest
is in serve's memory; SQLite then still sees what another process wrote between rounds.
Each test names the mutant it catches."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest
from sitekit import author, make_site, mutant, new_process, output_files, post, write_docs

from ssgen.build.change import Change
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.manifest import connect, store
from ssgen.serve.worker import RebuildWorker
from ssgen.serve.worker import run as worker_run


def _round(worker: RebuildWorker, site: Path, docs: list[dict[str, Any]], tag: str) -> None:
    write_docs(site, docs)
    worker.submit(Change(tags=frozenset({tag})))
    worker._round()


def test_every_round_builds_on_serves_own_manifest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path)
    opened: list[Any] = []
    real = connect.Manifest.open
    monkeypatch.setattr(connect.Manifest, "open",
                        lambda path: opened.append(real(path)) or opened[-1])
    worker = RebuildWorker(load_config(site), settle=0)
    try:
        worker._round()
        for title in ("Edited", "Again"):
            _round(worker, site, [author("a1", "Ada"), post(1, title=title), post(2)],
                   "post:post-1")
        assert b"Again" in (site / "public/blog/post-1/index.html").read_bytes()
        assert len(opened) == 1, "a round opened a manifest of its own"
        kept = opened[0]
        assert kept._rows("PRAGMA cache_size", what="test")[0][0] == \
            -worker_run.ROUND_CACHE_KIB
        assert kept._rows("PRAGMA wal_autocheckpoint", what="test")[0][0] == 0
    finally:
        worker.stop()


def test_mutant_rounds_that_open_their_own_manifest_is_caught(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with mutant(worker_run.RoundRunner, "build_on", lambda self, manifest, config: None), \
            pytest.raises(AssertionError):
        test_every_round_builds_on_serves_own_manifest(tmp_path, monkeypatch)


def test_a_build_by_another_process_between_rounds_is_seen(tmp_path: Path) -> None:
    """A ``ssgen build`` between two rounds rewrites the manifest through a connection
    of its own: the kept connection's cache must not hide it from the next round,
    whose output then equals a clean full build's."""
    site = make_site(tmp_path)
    worker = RebuildWorker(load_config(site), settle=0)
    final = [author("a1", "Grace"), post(1, title="Third"), post(2, title="Other"), post(3)]
    try:
        worker._round()
        _round(worker, site, [author("a1", "Ada"), post(1, title="One"), post(2)],
               "post:post-1")
        # Another process: a new post, a retitle and an author renamed, all recorded.
        write_docs(site, [author("a1", "Bea"), post(1, title="Two"), post(2), post(3)])
        new_process(site)
        _round(worker, site, final, "post:post-2")  # the webhook names post-2 only
        served = output_files(site)
    finally:
        worker.stop()
    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns(".ssgen", "public"))
    assert build(load_config(clean), full=True, jobs=1).ok
    assert served == output_files(clean)


def test_a_config_that_moved_the_state_builds_on_its_own(tmp_path: Path) -> None:
    """A reloaded config naming PostgreSQL, or another site's folder, is not built on the
    kept SQLite connection (the build opens what the config names)."""
    site = make_site(tmp_path)
    config = load_config(site)
    worker = RebuildWorker(config, settle=0)
    try:
        runner = worker._runner
        assert runner._kept(config) is worker._manifest
        assert runner._kept(dataclasses.replace(config, state_url="postgresql://h/db")) is None
        assert runner._kept(dataclasses.replace(config, site_dir=tmp_path / "other")) is None
    finally:
        worker.stop()


def test_rounds_that_retag_nothing_take_the_kept_image_tags(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The image sync's ``tags_starting`` answer outlives a round on the kept connection:
    a retitle changes no tag row, so later rounds scan the tag index no more; a new post
    (new tag rows) makes the next round scan again."""
    site = make_site(tmp_path)
    scans: list[str] = []
    real = store.Manifest._rows

    def counting(self: Any, sql: str, params: Any = (), *, what: str) -> Any:
        if sql == store._SKIP_SCAN:
            scans.append(what)
        return real(self, sql, params, what=what)

    monkeypatch.setattr(store.Manifest, "_rows", counting)
    worker = RebuildWorker(load_config(site), settle=0)
    try:
        worker._round()
        first = len(scans)
        assert first >= 1
        for title in ("Edited", "Again"):
            _round(worker, site, [author("a1", "Ada"), post(1, title=title), post(2)],
                   "post:post-1")
        assert len(scans) == first, "a round that retagged nothing scanned the tags again"
        _round(worker, site, [author("a1", "Ada"), post(1), post(2), post(3)], "post:post-3")
        assert len(scans) > first
    finally:
        worker.stop()
