"""Issue 13, items 8-12: ``ssgen serve`` against hostile webhooks and URLs, over real HTTP.

Each test is named for the item it guards. Hostile input gets a 4xx with one log line and
no traceback; unsigned headers never decide what is published; redirects stay local; the
public status shows no server paths or error text.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from servekit import (
    SECRET,
    Running,
    owner_status,
    running_server,
    sanity_webhook,
    wait_idle,
)
from sitekit import author, make_site, post, write_docs

from ssgen.serve.webhooks import sign


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    site = make_site(tmp_path)
    with running_server(site) as running:
        yield running


def _queue(srv: Running) -> tuple[int, int]:
    status = owner_status(srv.client)
    return status["rebuilds"], status["queue_depth"]


def _signed_post(srv: Running, raw: bytes, headers: dict[str, str], wait: bool = True):  # type: ignore[no-untyped-def]
    return srv.client.post("/api/revalidate" + ("?wait=1" if wait else ""), content=raw,
                           headers={"content-type": "application/json", **headers})


# --- item 8: unsigned ordering header -------------------------------------------------------


def test_item08_replayed_delivery_with_a_far_future_header_never_silences_a_document(
    served: Running,
) -> None:
    site = served.site
    write_docs(site, [author("a1", "Ada"), post(1, title="First edit"), post(2)])
    raw = json.dumps({"_id": "p1", "_type": "post", "_rev": "r1"}).encode()
    signature = sign(SECRET, int(time.time() * 1000), raw)
    genuine = _signed_post(served, raw, {"sanity-webhook-signature": signature,
                                         "idempotency-key": "delivery-1"})
    assert genuine.status_code == 200, genuine.text
    rebuilds = wait_idle(served.client)["rebuilds"]

    # the attacker replays the captured bytes with a far-future header and a new key
    replay = _signed_post(served, raw, {"sanity-webhook-signature": signature,
                                        "sanity-transaction-time": "9999-12-31T23:59:59Z",
                                        "idempotency-key": "attacker-key"})
    assert replay.status_code == 200
    assert replay.json()["duplicate"] is True and replay.json()["job"] == genuine.json()["job"]
    assert "ignored" not in replay.json()
    assert wait_idle(served.client)["rebuilds"] == rebuilds  # nothing new to build

    # every later genuine delivery for the document is applied
    for n in range(2, 4):
        write_docs(site, [author("a1", "Ada"), post(1, title=f"Edit {n}"), post(2)])
        reply = sanity_webhook(served.client, {"_id": "p1", "_type": "post", "_rev": f"r{n}"},
                               transaction_time="2020-01-01T00:00:00Z")
        assert reply.status_code == 200 and reply.json()["accepted"] is True, reply.text
        assert "ignored" not in reply.json()
        page = (site / "public/blog/post-1/index.html").read_text()
        assert f"Edit {n}" in page


def test_item08_an_out_of_order_delivery_rebuilds_from_current_data(served: Running) -> None:
    site = served.site
    write_docs(site, [author("a1", "Ada"), post(1, title="Newest"), post(2)])
    newer = sanity_webhook(served.client, {"_id": "p1", "_type": "post",
                                           "_updatedAt": "2026-11-26T10:00:02Z"})
    older = sanity_webhook(served.client, {"_id": "p1", "_type": "post",
                                           "_updatedAt": "2026-11-26T10:00:01Z"})
    assert newer.status_code == older.status_code == 200
    assert older.json()["accepted"] is True
    assert "Newest" in (site / "public/blog/post-1/index.html").read_text()


# --- item 9: unauthenticated 500s ----------------------------------------------------------


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture,
         monkeypatch: pytest.MonkeyPatch) -> pytest.LogCaptureFixture:
    """Every server record, whatever an earlier ``ssgen serve`` run did to the loggers
    (its ``setup_logging`` stops propagation and raises the access log's level)."""
    monkeypatch.setattr(logging.getLogger("ssgen.serve"), "propagate", True)
    for name in ("ssgen.serve", "ssgen.serve.access", "uvicorn.error"):
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.set_level(logging.DEBUG)
    return caplog


def _problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def _server_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("ssgen", "uvicorn"))]


def _raw_get(srv: Running, raw_path: bytes):  # type: ignore[no-untyped-def]
    """GET with the request target exactly as given (httpx would read ``//x`` as a host)."""
    request = srv.client.build_request("GET", "/")
    request.url = request.url.copy_with(raw_path=raw_path)
    return srv.client.send(request, follow_redirects=False)


def test_item09_deeply_nested_json_is_a_400(served: Running,
                                            logs: pytest.LogCaptureFixture) -> None:
    caplog = logs
    before = _queue(served)
    deep = b'{"secret": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    for headers in ({}, {"authorization": f"Bearer {SECRET}"},
                    {"sanity-webhook-signature": sign(SECRET, int(time.time() * 1000), deep)}):
        reply = served.client.post("/api/revalidate", content=deep, headers=headers)
        assert reply.status_code == 400, reply.text
        assert "nested too deeply" in reply.json()["error"]
    assert _queue(served) == before
    assert _problems(caplog) == []


def test_item09_lone_surrogate_secret_is_a_401(served: Running,
                                               logs: pytest.LogCaptureFixture) -> None:
    caplog = logs
    before = _queue(served)
    for body in (b'{"secret": "\\ud800", "tags": ["x"]}', b'{"secret": "\\udfff\\ud800"}'):
        reply = served.client.post("/api/revalidate", content=body)
        assert reply.status_code == 401, reply.text
    reply = served.client.post("/api/revalidate?secret=%ED%A0%80", json={"tags": ["x"]})
    assert reply.status_code == 401
    assert _queue(served) == before
    assert _problems(caplog) == []


def test_item09_a_too_long_url_segment_is_a_404_logged_once_and_short(
    served: Running, logs: pytest.LogCaptureFixture
) -> None:
    caplog = logs
    segment = "a" * 300
    for path in (f"/{segment}", f"/{segment}/", f"/blog/{segment}/x", "/x" * 2100 + "/",
                 "/" + "é" * 200):
        caplog.clear()
        reply = served.client.get(path)
        assert reply.status_code == 404, (path[:50], reply.status_code)
        assert _problems(caplog) == []
        access = [r for r in caplog.records if getattr(r, "event", None) == "access"]
        assert len(access) == 1
        assert all(len(r.getMessage()) < 400 for r in _server_records(caplog))
    assert served.client.get("/blog/post-1/").status_code == 200


# --- item 10: authenticated payloads that can never succeed are 400 -------------------------


UNUSABLE_JSON = [
    b'{"tags": ["\\ud800"]}',
    b'{"paths": ["/blog/\\udc80/"]}',
    b'{"_id": "p\\ud83d"}',
    b'{"documents": [{"id": "x", "type": "\\udfff"}]}',
    b'{"documents": "abc"}',
    b'{"documents": {"id": "p1"}}',
    b'{"documents": [["p1"]]}',
    b'{"documents": [{"id": "p1", "operation": ["delete"]}]}',
    b'{"documents": [{"id": "p1", "rev": 5}]}',
    b'{"_id": ["p1"]}',
    b'{"_id": "p1", "_type": 3}',
    b'{"tags": "x", "_rev": {"a": 1}, "_id": "p1"}',
]
UNUSABLE_SANITY = [
    b'{"_id": "p\\ud800", "_type": "post"}',
    b'{"_id": "p1", "_type": "\\udc00"}',
    b'{"_id": "p1", "_rev": "\\ud800"}',
    b'{"_id": 5}',
    b'{"_id": "p1", "_type": ["post"]}',
]


def test_item10_unusable_authenticated_payloads_are_400_not_503(served: Running) -> None:
    before = _queue(served)
    for payload in UNUSABLE_JSON:
        bearer = served.client.post("/api/revalidate", content=payload,
                                    headers={"authorization": f"Bearer {SECRET}"})
        assert bearer.status_code == 400, (payload, bearer.text)
        next_js = served.client.post(f"/api/revalidate?secret={SECRET}", content=payload)
        assert next_js.status_code == 400, (payload, next_js.text)
    for body in UNUSABLE_SANITY:
        signature = sign(SECRET, int(time.time() * 1000), body)
        reply = _signed_post(served, body, {"sanity-webhook-signature": signature}, wait=False)
        assert reply.status_code == 400, (body, reply.text)
    assert _queue(served) == before


# --- item 11: open redirect ----------------------------------------------------------------


def test_item11_redirects_never_leave_the_site(served: Running) -> None:
    folder = served.site / "public" / "evil.example"
    folder.mkdir()
    (folder / "index.html").write_text("<p>a page whose slug looks like a host</p>")
    for path in (b"//evil.example", b"/%2Fevil.example", b"///evil.example",
                 b"/%2F%2Fevil.example", b"/evil.example", b"/%2f/evil.example"):
        reply = _raw_get(served, path)
        assert reply.status_code == 308, path
        location = reply.headers["location"]
        assert location == "/evil.example/", (path, location)
    assert _raw_get(served, b"/blog?page=2").headers["location"] == "/blog/?page=2"
    assert _raw_get(served, b"/%5Cevil.example").status_code == 404
    assert _raw_get(served, b"/\\evil.example").status_code == 404


# --- item 12: status leaks -----------------------------------------------------------------


def test_item12_public_status_has_counts_and_states_details_need_the_secret(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path)
    with running_server(site) as srv:
        (site / "templates" / "post.html").write_text(
            '{% extends "base.html" %}{% block content %}{{ page.title | nope }}{% endblock %}')
        reply = srv.client.post("/api/revalidate?wait=1",
                                json={"secret": SECRET, "tags": ["post:post-1"]})
        assert reply.json()["failures"]
        for headers in ({}, {"authorization": "Bearer wrong-secret-wrong-secret"}):
            public = srv.client.get("/api/status", headers=headers)
            text = public.text
            assert str(tmp_path) not in text and "post.html" not in text and "nope" not in text
            status = public.json()
            assert status["failed_pages"] == 2 and "failures" not in status
            assert "last_error" not in status and "summary" not in status["last_rebuild"]
            assert set(status["deploy"]) == {"configured", "deploys", "owed", "failed"}
            assert status["state"] in ("retrying", "building", "warming")
        full = owner_status(srv.client)
        assert "post.html" in json.dumps(full) and full["failed_pages"] == 2
        assert {f["path"] for f in full["failures"]} == {"/blog/post-1/", "/blog/post-2/"}
        public_keys = set(srv.client.get("/api/status").json())
        assert public_keys <= set(full)
