"""``ssgen serve`` as a real process: kill -9 during a rebuild, restart, and graceful stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from servekit import SECRET, free_port, sanity_webhook, status_of, wait_for, wait_idle
from sitekit import (
    DEFAULT_TEMPLATES,
    DEFAULT_TOML,
    author,
    make_site,
    output_files,
    post,
    write_docs,
)
from test_serve import clean_build

from ssgen.manifest.store import Manifest

# A page with `spin` set takes a while to render, so a rebuild can be caught in progress.
SLOW_POST = (
    '{% extends "base.html" %}{% block content %}<h1>{{ page.title }}</h1>'
    "<p>by {{ page.author }}</p>{% for i in range(page.spin or 0) %}{% endfor %}{% endblock %}"
)
TOML = DEFAULT_TOML.replace("{_id, title, ", "{_id, title, spin, ")
assert "spin" in TOML


@contextmanager
def serve_process(site: Path) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    """``python -m ssgen serve`` in its own process group, with a client for it."""
    port = free_port()
    env = {**os.environ, "SSGEN_REVALIDATE_SECRET": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ssgen", "--site", str(site), "serve", "--port", str(port),
         "--settle-ms", "0", "--log-format", "json"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        wait_for(lambda: _up(client) or proc.poll() is not None, timeout=60, what="server start")
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        yield proc, client
    finally:
        client.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        if proc.stderr:
            proc.stderr.close()


def _up(client: httpx.Client) -> bool:
    return status_of(client, "/healthz") == 200


def _building(client: httpx.Client) -> bool:
    return client.get("/api/status").json()["state"] == "building"


def _slow_site(tmp_path: Path) -> Path:
    templates = {**DEFAULT_TEMPLATES, "post.html": SLOW_POST}
    return make_site(tmp_path, toml=TOML, templates=templates)


def _edit(site: Path) -> None:
    write_docs(site, [author("a1", "Ada"), post(1, title="Edited"), post(2, spin=4_000_000),
                      post(3)])


def test_kill_9_during_a_rebuild_then_restart_finishes_the_queued_work(tmp_path: Path) -> None:
    site = _slow_site(tmp_path)
    with serve_process(site) as (proc, client):
        wait_idle(client, timeout=60)
        _edit(site)
        for n in (1, 2, 3):
            reply = sanity_webhook(client, {"_id": f"p{n}", "_type": "post"}, wait=False)
            assert reply.status_code == 202
        wait_for(lambda: _building(client), what="the rebuild to start")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    with Manifest.open(site / ".ssgen" / "manifest.sqlite") as manifest:
        assert len(manifest.pending()) >= 1  # accepted, not yet acknowledged
    with serve_process(site) as (proc, client):
        status = wait_idle(client, timeout=60)
        assert status["last_error"] is None
        assert client.get("/blog/post-3/").status_code == 200
    with Manifest.open(site / ".ssgen" / "manifest.sqlite") as manifest:
        assert manifest.pending() == []
    assert output_files(site) == clean_build(site, tmp_path)


def test_sigterm_finishes_the_rebuild_in_progress(tmp_path: Path) -> None:
    site = _slow_site(tmp_path)
    with serve_process(site) as (proc, client):
        wait_idle(client, timeout=60)
        _edit(site)
        reply = sanity_webhook(client, {"_id": "p2", "_type": "post"}, wait=False)
        assert reply.status_code == 202
        wait_for(lambda: _building(client), what="the rebuild to start")
        proc.send_signal(signal.SIGTERM)
        # A clean stop exits 0 (systemd counts it a success), once the lifespan (and so
        # the rebuild) finished.
        assert proc.wait(60) == 0
        assert proc.stderr is not None
        log = proc.stderr.read().decode()
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    events = {r.get("event") for r in records}
    assert {"start", "rebuild", "access", "stop"} <= events
    assert "replay" not in events  # a clean start has nothing to replay
    access = next(r for r in records if r.get("event") == "access")
    assert {"time", "level", "method", "path", "status", "ms"} <= access.keys()
    rebuild = [r for r in records if r.get("event") == "rebuild"][-1]
    assert rebuild["changed"] >= 1 and rebuild["failures"] == 0
    with Manifest.open(site / ".ssgen" / "manifest.sqlite") as manifest:
        assert manifest.pending() == []
    assert b"Edited" in (site / "public/blog/post-1/index.html").read_bytes()
    assert output_files(site) == clean_build(site, tmp_path)


def test_sigint_stops_serve_cleanly_with_exit_0(tmp_path: Path) -> None:
    """examples/ssgen-serve.service stops with KillSignal=SIGINT: that must not be a failure."""
    site = make_site(tmp_path)
    with serve_process(site) as (proc, client):
        wait_idle(client, timeout=60)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        assert proc.stderr is not None
        assert "Traceback" not in proc.stderr.read().decode()
