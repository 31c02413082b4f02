"""The rebuild worker behind ``ssgen serve``: coalescing, no lost changes, failures, timers."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from servekit import (
    SECRET,
    owner_status,
    running_server,
    sanity_webhook,
    wait_for,
    wait_idle,
)
from sitekit import (
    DEFAULT_TOML,
    author,
    make_site,
    no_temp_files,
    output_files,
    post,
    write_docs,
)
from test_serve import clean_build

from ssgen.build.change import Change
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.serve.heap import GROWTH, FrozenHeap
from ssgen.serve.worker import RebuildWorker


class Recorder:
    """A build function that records every change it was given; ``hold`` makes the
    builds wait until ``release`` (each still records its change first)."""

    def __init__(self) -> None:
        self.changes: list[Change | None] = []
        self.lock = threading.Lock()
        self.open = threading.Event()
        self.open.set()

    def __call__(self, config: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.changes.append(kwargs.get("change"))
        self.open.wait(60)  # bounded: a failing test must still end
        return build(config, **kwargs)

    def hold(self) -> None:
        self.open.clear()

    def release(self) -> None:
        self.open.set()

    def documents(self) -> set[str]:
        return {d.id for c in self.changes if c is not None for d in c.documents}


@pytest.fixture
def fast_tmp(tmp_path: Path) -> Iterator[Path]:
    """A temporary folder on tmpfs when there is one (the queue fsyncs every webhook)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_burst_of_500_webhooks_is_a_few_rebuilds_and_none_is_lost(fast_tmp: Path) -> None:
    # Measures coalescing, not the disk (bench/serve_bench.py measures the disk). The
    # burst's rebuilds wait until every webhook was accepted: what arrives during a
    # rebuild is merged into the next round, however slowly a loaded machine runs them.
    tmp_path = fast_tmp
    docs = [author("a1", "Ada"), *(post(n) for n in range(1, 501))]
    site = make_site(tmp_path, docs=[author("a1", "Ada"), post(1)])
    recorder = Recorder()
    with running_server(site, settle=0.05, build_fn=recorder) as srv:
        start = owner_status(srv.client)["rebuilds"]
        write_docs(site, docs)

        def send(n: int) -> int:
            doc = {"_id": f"p{n}", "_type": "post", "_rev": f"r{n}"}
            return sanity_webhook(srv.client, doc, "create", wait=False).status_code

        recorder.hold()
        try:
            with ThreadPoolExecutor(16) as pool:
                codes = list(pool.map(send, range(1, 501)))
        finally:
            recorder.release()
        assert codes == [202] * 500
        status = wait_idle(srv.client)
    rebuilds = status["rebuilds"] - start
    assert 1 <= rebuilds <= 2, rebuilds  # the round under way, then one for the rest
    assert recorder.documents() == {f"p{n}" for n in range(1, 501)}
    assert output_files(site) == clean_build(site, tmp_path)


def test_only_several_waiting_changes_wait_out_the_settle_window(tmp_path: Path) -> None:
    # A client that sends each webhook when the last one's ?wait=1 reply came (one change
    # waiting, however soon after the last) is built at once; a burst still settles.
    site = make_site(tmp_path)
    recorder = Recorder()
    worker = RebuildWorker(load_config(site), settle=60.0, build_fn=recorder)  # not started
    try:
        worker._round()  # the start-up round
        worker.submit(Change(tags=frozenset({"a"})))
        assert not worker._bursting()  # within the window of nothing: a lone webhook
        worker._round()
        worker.submit(Change(tags=frozenset({"b"})))  # within 60 s of "a", alone
        assert not worker._bursting()
        worker.submit(Change(tags=frozenset({"c"})))
        assert worker._bursting()  # two waiting, seconds apart: a burst
        worker._round()
        assert [sorted(c.tags) for c in recorder.changes if c is not None][-2:] == [
            ["a"], ["b", "c"]]
    finally:
        worker.stop()


def test_a_bad_line_fails_only_its_document_and_recovers(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    data = site / "content" / "data.ndjson"
    with running_server(site, wait_timeout=5) as srv:
        good = (site / "public/blog/post-1/index.html").read_bytes()
        data.write_text(data.read_text() + '{"_id": "p9", broken\n')
        reply = sanity_webhook(srv.client, {"_id": "p9", "_type": "post"})
        assert reply.status_code == 200  # answered at once: a retry cannot fix content
        assert reply.json()["ok"] is False
        ((failure,),) = [reply.json()["failures"]]
        assert failure["path"] == "content/data.ndjson:4" and failure["kind"] == "document"
        status = wait_idle(srv.client)  # idle: not retrying, nothing left queued
        assert status["state"] == "idle" and status["retry_in"] is None
        assert [f["path"] for f in status["failures"]] == ["content/data.ndjson:4"]
        assert "data.ndjson:4" in status["last_error"]
        assert (site / "public/blog/post-1/index.html").read_bytes() == good
        assert srv.client.get("/blog/post-1/").content == good
        write_docs(site, [author("a1", "Ada"), post(1, title="Fixed"), post(2)])
        reply = sanity_webhook(srv.client, {"_id": "p1", "_type": "post"})
        assert reply.status_code == 200 and reply.json()["ok"] is True
        status = wait_idle(srv.client)
        assert status["last_error"] is None and status["failures"] == []
        assert b"Fixed" in (site / "public/blog/post-1/index.html").read_bytes()


def test_a_template_error_keeps_the_page_reports_file_line_and_recovers(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    template = site / "templates" / "post.html"
    with running_server(site) as srv:
        good = (site / "public/blog/post-2/index.html").read_bytes()
        template.write_text('{% extends "base.html" %}{% block content %}\n{{ page.title | nope }}'
                            '{% endblock %}')
        reply = srv.client.post("/api/revalidate?wait=1", json={"secret": SECRET,
                                                                "tags": ["post:post-2"]})
        assert reply.status_code == 500
        failures = reply.json()["failures"]
        assert {f["path"] for f in failures} == {"/blog/post-1/", "/blog/post-2/"}
        assert "post.html" in failures[0]["error"]
        assert (site / "public/blog/post-2/index.html").read_bytes() == good
        status = owner_status(srv.client)
        assert len(status["failures"]) == 2
        # retries re-render the failed pages (and fail again) until the template is fixed
        wait_for(lambda: owner_status(srv.client)["rebuilds"]
                 >= status["rebuilds"] + 2, what="two retries")
        status = owner_status(srv.client)
        assert "post.html:2" in status["last_error"]
        assert len(status["failures"]) == 2
        template.write_text('{% extends "base.html" %}{% block content %}<h2>{{ page.title }}'
                            '</h2>{% endblock %}')
        wait_for(lambda: owner_status(srv.client)["failures"] == [],
                 what="the retry to re-render the failed pages")
        assert b"<h2>Post 2</h2>" in (site / "public/blog/post-2/index.html").read_bytes()
        assert owner_status(srv.client)["last_error"] is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_time_based_revalidation_requeries_due_routes_and_rewrites_only_changes(
    tmp_path: Path,
) -> None:
    toml = DEFAULT_TOML.replace('tags = ["post:{slug}"]', 'tags = ["post:{slug}"]\nrevalidate = 60')
    site = make_site(tmp_path, toml=toml)
    config = load_config(site)
    recorder = Recorder()
    clock = Clock()
    worker = RebuildWorker(config, settle=0, build_fn=recorder, clock=clock)
    worker.start()
    try:
        wait_for(lambda: worker.rebuilds == 1, what="the initial build")
        post_file = site / "public/blog/post-2/index.html"
        mtime = post_file.stat().st_mtime_ns
        clock.now += 30
        worker.submit(Change(reasons=("poke",)))
        wait_for(lambda: worker.rebuilds == 2)
        assert recorder.changes[-1] is None  # not due yet: no route tag
        clock.now += 31
        worker.wake()
        wait_for(lambda: worker.rebuilds == 3)
        change = recorder.changes[-1]
        assert change is not None and change.tags == frozenset({"route:post"})
        assert worker.last is not None and worker.last.changes["changed"] == []
        assert post_file.stat().st_mtime_ns == mtime  # same data: not rewritten
        write_docs(site, [author("a1", "Ada"), post(1), post(2, title="Timed")])
        clock.now += 61
        worker.wake()
        wait_for(lambda: worker.rebuilds == 4)
        assert worker.last.changes["changed"] == ["blog/index.html", "blog/post-2/index.html"]
        assert worker.status()["revalidate"] == {"post": 60}
    finally:
        worker.stop()


def test_queued_changes_survive_a_restart(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    build(load_config(site))
    config = load_config(site)
    worker = RebuildWorker(config, settle=0)  # never started: stands in for a crash
    write_docs(site, [author("a1", "Ada"), post(1, title="Queued"), post(2)])
    job = worker.submit(Change(tags=frozenset({"post:post-1"})), key="k1").job
    worker.stop()
    recorder = Recorder()
    with running_server(site, build_fn=recorder) as srv:
        status = wait_idle(srv.client)
        assert status["queue_depth"] == 0
        assert any(c is not None and "post:post-1" in c.tags for c in recorder.changes)
        assert b"Queued" in (site / "public/blog/post-1/index.html").read_bytes()
        again = srv.client.post("/api/revalidate", json={"tags": ["x"]},
                                headers={"authorization": f"Bearer {SECRET}",
                                         "idempotency-key": "k1"})
        assert again.json() == {"accepted": True, "job": job, "duplicate": True, "trace": "k1"}


class FakeDeployReport:
    def summary(self) -> str:
        return "deployed"


def test_rebuilds_are_deployed_and_a_failed_deploy_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ssgen.errors import DeployError

    calls: list[dict[str, list[str]] | None] = []

    def fake_deploy(config: Any, *, changes: Any = None, **kwargs: Any) -> FakeDeployReport:
        calls.append(None if changes is None else {k: list(v) for k, v in changes.items()})
        if len(calls) == 1:
            raise DeployError("bucket unreachable")
        return FakeDeployReport()

    monkeypatch.setattr("ssgen.deploy.sync.deploy_site", fake_deploy)
    toml = DEFAULT_TOML + '\n[deploy]\ntarget = "s3://bucket/site"\n'
    site = make_site(tmp_path, toml=toml)
    with running_server(site) as srv:
        wait_for(lambda: owner_status(srv.client)["deploy"]["deploys"] == 1,
                 what="the retried deploy")
        deploy = owner_status(srv.client)["deploy"]
        assert deploy == {"configured": True, "deploys": 1, "last": "deployed", "error": None,
                          "owed": 0, "failed": False}
        assert calls[0] == calls[1]  # the failed deploy's files were still owed
        assert calls[0] is not None and "blog/post-1/index.html" in calls[0]["new"]
        write_docs(site, [author("a1", "Ada"), post(1, title="Deployed"), post(2)])
        sanity_webhook(srv.client, {"_id": "p1", "_type": "post"})
        wait_for(lambda: len(calls) == 3, what="the deploy after the webhook")
    assert calls[2] == {"new": [], "changed": ["blog/index.html", "blog/post-1/index.html"],
                        "deleted": []}


def test_an_idle_worker_collects_the_garbage_its_rounds_deferred(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    worker = RebuildWorker(load_config(site), settle=0, idle_gc=0.05)
    worker.start()
    try:
        wait_for(lambda: worker.rebuilds == 1 and worker.collections == 1)
        worker.submit(Change(reasons=("poke",)))
        # the round's own garbage went at its settle; the frozen heap barely grew, so the
        # idle pass that follows skips the full collection (a webhook would wait for it)
        wait_for(lambda: worker.rebuilds == 2 and not worker._runner.heap.owed)
        assert worker.collections == 1 and worker.status()["state"] == "idle"
    finally:
        worker.stop()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_an_idle_collection_waits_until_the_frozen_heaps_garbage_could_matter() -> None:
    heap = FrozenHeap()
    try:
        with heap.building():
            pass
        assert heap.collect_idle() and heap.collections == 1  # the first: nothing to go by
        with heap.building():
            kept = [[] for _ in range(1000)]
        assert not heap.collect_idle() and not heap.owed and heap.collections == 1
        # cyclic garbage among frozen objects: only a full collection frees it
        with heap.building():
            cycles = [_Cycle() for _ in range(int(gc.get_freeze_count() * GROWTH) + 1)]
        frozen, dead = gc.get_freeze_count(), len(cycles)
        del cycles
        assert gc.get_freeze_count() == frozen - 1  # the list went; its cycles stay
        assert heap.collect_idle() and heap.collections == 2
        assert gc.get_freeze_count() <= frozen - dead
        assert kept
    finally:
        heap.release()


def test_a_rounds_garbage_is_collected_after_its_waiting_replies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The pass over what a round allocated is no part of the webhook's wait.
    site = make_site(tmp_path)
    worker = RebuildWorker(load_config(site), settle=0, build_fn=Recorder())  # not started
    replied: list[bool] = []
    collect = gc.collect

    def noting(*args: Any) -> int:
        replied.append(bool(waiting) and waiting[0].done())
        return collect(*args)

    waiting: list[Any] = []
    try:
        worker._round()  # the start-up round
        write_docs(site, [author("a1", "Ada"), post(1, title="Edited"), post(2)])
        job = worker.submit(Change(tags=frozenset({"post:post-1"}))).job
        waiting.append(worker.future(job))
        monkeypatch.setattr(gc, "collect", noting)
        worker._round()
        monkeypatch.undo()
        assert waiting[0].done() and replied and replied[-1], replied
        assert b"Edited" in (site / "public/blog/post-1/index.html").read_bytes()
        assert worker._runner.freer.wait(10)  # the frees run on a thread of their own
        held = load_config(site).state_dir / "displaced"  # what its writes replaced: freed
        assert no_temp_files(site) and held.is_dir() and not any(held.iterdir())
    finally:
        monkeypatch.undo()
        worker.stop()


def test_a_corrupt_manifest_is_replaced_and_the_site_rebuilt(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    state = site / ".ssgen"
    state.mkdir()
    (state / "manifest.sqlite").write_bytes(b"this is not a database" * 100)
    with running_server(site) as srv:
        status = wait_idle(srv.client)
        assert status["last_rebuild"]["ok"] is True
        assert status["pages"] == 3
        assert (site / "public/blog/post-1/index.html").exists()


def test_a_waiter_that_gave_up_does_not_stop_the_worker(tmp_path: Path) -> None:
    """?wait=1 past its timeout cancels the job's future; the worker must still resolve
    the job (and later ones) instead of dying on the cancelled future."""
    site = make_site(tmp_path)
    gate = threading.Event()

    def slow(config: Any, **kwargs: Any) -> Any:
        gate.wait(10)
        return build(config, **kwargs)

    worker = RebuildWorker(load_config(site), settle=0, build_fn=slow)
    worker.start()
    try:
        gate.set()
        wait_for(lambda: worker.rebuilds == 1, what="the initial build")
        gate.clear()
        job = worker.submit(Change(tags=frozenset({"post:post-1"}))).job
        assert worker.future(job).cancel()
        again = worker.future(job)  # a new waiter gets a live future
        assert not again.cancelled()
        gate.set()
        assert again.result(30).ok
        later = worker.submit(Change(tags=frozenset({"post:post-2"}))).job
        assert worker.future(later).result(30).ok
    finally:
        worker.stop()
