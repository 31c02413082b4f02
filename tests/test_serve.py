"""End-to-end tests of ``ssgen serve`` webhooks over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from servekit import SECRET, Running, owner_status, running_server, sanity_webhook, wait_idle
from sitekit import author, copy_history, make_site, output_files, post, write_docs

from ssgen.build.pipeline import build
from ssgen.config.load import load_config


def clean_build(site: Path, tmp: Path) -> dict[str, bytes]:
    """The files a clean full build of the site's current state writes."""
    copy = tmp / "clean"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir()
    shutil.copy(site / "ssgen.toml", copy / "ssgen.toml")
    shutil.copytree(site / "templates", copy / "templates")
    shutil.copytree(site / "content", copy / "content")
    copy_history(site, copy)
    build(load_config(copy), full=True)
    return output_files(copy)


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    site = make_site(tmp_path)
    with running_server(site) as running:
        yield running


def _state(srv: Running) -> tuple[int, int, dict[str, bytes]]:
    status = srv.client.get("/api/status").json()
    return status["rebuilds"], status["queue_depth"], output_files(srv.site)


def test_create_update_slug_rename_delete_each_leave_the_exact_files(
    served: Running, tmp_path: Path
) -> None:
    site = served.site
    docs = [author("a1", "Ada"), post(1), post(2)]

    docs.append(post(3))
    write_docs(site, docs)
    reply = sanity_webhook(served.client, {"_id": "p3", "_type": "post", "_rev": "r1"}, "create")
    assert reply.status_code == 200, reply.text
    assert "blog/post-3/index.html" in reply.json()["paths"]
    assert reply.json()["changes"]["new"] == ["blog/post-3/index.html"]
    assert output_files(site) == clean_build(site, tmp_path)

    docs[3] = post(3, title="Third, edited")
    write_docs(site, docs)
    reply = sanity_webhook(served.client, {"_id": "p3", "_type": "post", "_rev": "r2"})
    assert sorted(reply.json()["changes"]["changed"]) == [
        "blog/index.html", "blog/post-3/index.html"]
    assert b"Third, edited" in (site / "public/blog/post-3/index.html").read_bytes()
    assert output_files(site) == clean_build(site, tmp_path)

    docs[1] = post(1, slug={"_type": "slug", "current": "renamed"})
    write_docs(site, docs)
    reply = sanity_webhook(served.client, {"_id": "p1", "_type": "post", "_rev": "r3"})
    changes = reply.json()["changes"]
    # The old path now holds the redirect (docs/redirects.md).
    assert changes["new"] == ["_redirects", "blog/renamed/index.html", "redirects.json"]
    assert changes["deleted"] == [] and "blog/post-1/index.html" in changes["changed"]
    assert b"url=/blog/renamed/" in (site / "public/blog/post-1/index.html").read_bytes()
    assert output_files(site) == clean_build(site, tmp_path)

    del docs[2]
    write_docs(site, docs)
    reply = sanity_webhook(served.client, {"_id": "p2", "_type": "post"}, "delete")
    assert "blog/post-2/index.html" in reply.json()["changes"]["changed"]  # its 410 stub
    assert output_files(site) == clean_build(site, tmp_path)


def test_202_then_the_page_is_updated(served: Running) -> None:
    write_docs(served.site, [author("a1", "Grace"), post(1), post(2)])
    reply = sanity_webhook(served.client, {"_id": "a1", "_type": "author"}, wait=False)
    assert reply.status_code == 202
    body = reply.json()
    assert body["accepted"] is True and isinstance(body["job"], int)
    wait_idle(served.client)
    for n in (1, 2):
        assert b"by Grace" in (served.site / f"public/blog/post-{n}/index.html").read_bytes()


def test_forged_replayed_stale_oversized_and_malformed_are_refused_with_nothing_rebuilt(
    served: Running, tmp_path: Path
) -> None:
    write_docs(served.site, [author("a1", "Mallory"), post(1), post(2)])
    before = _state(served)
    client = served.client
    doc = {"_id": "a1", "_type": "author"}
    old = int((time.time() - 600) * 1000)
    future = int((time.time() + 600) * 1000)
    refused = [
        sanity_webhook(client, doc, secret="wrong-secret"),
        sanity_webhook(client, doc, t_ms=old),
        sanity_webhook(client, doc, t_ms=future),
        client.post("/api/revalidate", content=b'{"_id":"a1"}',
                    headers={"sanity-webhook-signature": "t=1,v1=AAAA"}),
        client.post("/api/revalidate", json={"tags": ["x"]},
                    headers={"authorization": "Bearer wrong"}),
        client.post("/api/revalidate", json={"secret": "wrong", "tags": ["x"]}),
        client.post("/api/revalidate", json={"tags": ["x"]}),
    ]
    for reply in refused:
        assert reply.status_code == 401, reply.text
        assert reply.json() == {"error": "unauthorized"}
    malformed = [
        sanity_webhook(client, doc, body=b"{not json"),
        sanity_webhook(client, {}, body=b'{"title": "no id"}'),
        client.post("/api/revalidate", content=b"[]", headers={"authorization": f"Bearer {SECRET}"}),
        client.post("/api/revalidate", json={"secret": SECRET}),
        client.post("/api/revalidate", json={"secret": SECRET, "tags": 5}),
    ]
    for reply in malformed:
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"]
    big = b'{"_id": "a1", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    oversized = sanity_webhook(client, doc, body=big)
    assert oversized.status_code == 413

    def chunks():  # no Content-Length: the limit holds for a streamed body too
        for _ in range(20):
            yield b"x" * 65536

    streamed = client.post("/api/revalidate", content=chunks(),
                           headers={"authorization": f"Bearer {SECRET}"})
    assert streamed.status_code == 413
    assert _state(served) == before
    assert b"Mallory" not in (served.site / "public/blog/post-1/index.html").read_bytes()


def test_methods(served: Running) -> None:
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        reply = served.client.request(method, "/api/revalidate")
        assert reply.status_code == 405
        assert reply.headers["allow"] == "POST"
    assert served.client.post("/api/status").status_code == 405
    assert served.client.post("/blog/").status_code == 405
    assert served.client.get("/healthz").json() == {"ok": True}


def test_duplicate_idempotency_key_is_applied_once(served: Running) -> None:
    rebuilds = served.client.get("/api/status").json()["rebuilds"]
    doc = {"_id": "p1", "_type": "post"}
    first = sanity_webhook(served.client, doc, key="delivery-1")
    second = sanity_webhook(served.client, doc, key="delivery-1")
    third = sanity_webhook(served.client, doc, key="delivery-1", wait=False)
    assert first.status_code == second.status_code == 200
    assert third.status_code == 202
    assert first.json()["job"] == second.json()["job"] == third.json()["job"]
    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert wait_idle(served.client)["rebuilds"] == rebuilds + 1


def test_wait_returns_the_rebuilt_paths_for_tags_paths_and_bearer(served: Running) -> None:
    reply = served.client.post("/api/revalidate?wait=1",
                               json={"secret": SECRET, "paths": ["/blog/post-2/"]})
    assert reply.status_code == 200
    assert reply.json()["ok"] is True
    assert reply.json()["paths"] == []  # same data, same bytes: nothing rewritten
    write_docs(served.site, [author("a1", "Ada"), post(1), post(2, title="Bearer")])
    reply = served.client.post("/api/revalidate?wait=1", json={"tags": ["post:post-2"]},
                               headers={"authorization": f"Bearer {SECRET}"})
    assert reply.status_code == 200
    assert reply.json()["paths"] == ["blog/index.html", "blog/post-2/index.html"]
    # The round's account: its stages (the source's reload, the build's) and its wait.
    stages, queued = reply.json()["stages"], reply.json()["queued"]
    assert {"reload", "query", "write"} <= stages.keys(), stages
    assert all(seconds >= 0 for seconds in stages.values())
    assert sum(stages.values()) <= reply.json()["seconds"] + 0.001
    assert 0 <= queued < 60
    # and what it spent: the worker thread's CPU (a round renders and writes: never 0 at
    # the thread clock's resolution) and the process's page faults meanwhile
    cpu, faults = reply.json()["cpu"], reply.json()["faults"]
    assert 0 < cpu <= reply.json()["seconds"] + 0.01, cpu
    assert faults.keys() == {"minor", "major"} and min(faults.values()) >= 0, faults


def test_status_document(served: Running) -> None:
    status = owner_status(served.client)
    assert status["state"] == "idle"
    assert status["queue_depth"] == 0
    assert status["pages"] == 3
    assert status["failures"] == []
    assert status["last_rebuild"]["ok"] is True
    assert status["deploy"]["configured"] is False
    assert json.dumps(status)


def test_serve_refuses_to_start_without_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sitekit import run_cli

    site = make_site(tmp_path)
    monkeypatch.delenv("SSGEN_REVALIDATE_SECRET", raising=False)
    result = run_cli("--site", str(site), "serve")
    assert result.exit_code == 2
    assert "SSGEN_REVALIDATE_SECRET" in result.output
    result = run_cli("--site", str(site), "serve", "--log-format", "xml", "--dev")
    assert result.exit_code == 2
    assert "--log-format" in result.output
