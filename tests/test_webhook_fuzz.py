"""Issue 13, "Webhook fuzz": generated bodies, headers, URLs and methods against the real
Starlette app (called through ASGI, as uvicorn calls it). Two properties:

- never a 5xx, authenticated or not;
- an unauthenticated request never changes the queue or the output.

Example counts are bounded so both tests together take a few seconds in CI (derandomized
there by conftest's profile); ``SSGEN_FUZZ_SCALE=N`` multiplies them for a long local run.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sitekit import make_site

from ssgen.config.load import load_config
from ssgen.serve.app import ServeSettings, create_app
from ssgen.serve.webhooks import sign
from ssgen.serve.worker import RebuildWorker
from ssgen.sources import open_source

FUZZ_SCALE = max(1, int(os.environ.get("SSGEN_FUZZ_SCALE", "1")))
SECRET = "fuzz-secret-0123456789"
WRONG_SECRETS = [SECRET + "x", SECRET[:-1], SECRET.upper(), "", "Bearer", SECRET + "\ud800",
                 "\udfff", "x" * 300]
KEYS = ["secret", "tags", "tag", "paths", "path", "slug", "documents", "_id", "_type", "_rev",
        "id", "type", "operation", "rev", "_updatedAt"]
HEADER_NAMES = ["content-type", "content-length", "authorization", "sanity-webhook-signature",
                "sanity-operation", "sanity-document-id", "idempotency-key",
                "sanity-transaction-time", "if-none-match", "host", "transfer-encoding"]
SEGMENTS = ["api", "revalidate", "status", "healthz", "blog", "post-1", "..", ".", ".ssgen",
            "%2F", "%2f", "%5C", "%00", "%ED%A0%80", "%FF", "", "index.html", "_ssgen",
            "livereload", "manifest.sqlite", "a" * 300, "%2E%2E", "evil.example"]


@dataclass
class Served:
    app: Any
    worker: RebuildWorker
    site: Path
    loop: asyncio.AbstractEventLoop
    submitted: list[Any]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    site = make_site(tmp_path_factory.mktemp("fuzz"))
    config = load_config(site)
    worker = RebuildWorker(config, settle=0.0, source=open_source(config, kept=True))
    submitted: list[Any] = []
    real_submit = worker.submit

    def spying_submit(*args: Any, **kwargs: Any) -> Any:
        submitted.append(args)
        return real_submit(*args, **kwargs)

    worker.submit = spying_submit  # type: ignore[method-assign]
    app = create_app(worker, ServeSettings(secret=SECRET, wait_timeout=0.2))
    loop = asyncio.new_event_loop()
    lifespan = _Lifespan(app, loop)
    lifespan.start()
    try:
        yield Served(app, worker, site, loop, submitted)
    finally:
        lifespan.stop()
        loop.close()


class _Lifespan:
    """Runs the app's ASGI lifespan (worker start and stop) on ``loop``."""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.app, self.loop = app, loop
        self.inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()

    def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = self.loop.create_task(self.app(scope, self.inbox.get, self.outbox.put))
        self._say("lifespan.startup")

    def stop(self) -> None:
        self._say("lifespan.shutdown")
        self.loop.run_until_complete(self.task)

    def _say(self, event: str) -> None:
        self.inbox.put_nowait({"type": event})
        reply = self.loop.run_until_complete(self.outbox.get())
        assert reply["type"] == event + ".complete", reply


@dataclass(frozen=True)
class Request:
    method: str
    raw_path: bytes
    query: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


async def _call(app: Any, request: Request) -> int:
    """One request through ASGI, with the scope uvicorn would build; returns the status."""
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1", "method": request.method, "scheme": "http",
        "path": unquote(request.raw_path.decode("ascii")), "raw_path": request.raw_path,
        "root_path": "", "query_string": request.query, "headers": list(request.headers),
        "client": ("203.0.113.9", 40000), "server": ("127.0.0.1", 8000), "state": {},
    }
    pending = [{"type": "http.request", "body": request.body, "more_body": False}]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))

    await app(scope, receive, send)
    assert len(statuses) == 1
    return statuses[0]


# --- strategies ----------------------------------------------------------------------------

_text = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=3),
    st.sampled_from(["", "/", "//evil", "post-1", "p1", "type:post", "../x", "a" * 300,
                     "create", "delete", "publish"]),
)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(KEYS) | _text, children, max_size=5),
    max_leaves=12,
)
_json_objects = st.dictionaries(st.sampled_from(KEYS), _json_values, max_size=6)


def _deep(depth: int) -> bytes:
    return b'{"tags": ' + b"[" * depth + b"]" * depth + b"}"


_bodies = st.one_of(
    _json_objects.map(lambda o: json.dumps(o).encode()),
    _json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=120),
    st.integers(1, 20_000).map(_deep),
    st.sampled_from([b"", b"{", b'{"secret": "\\ud800"}', b"\xff\xfe{}", b"null", b"[]"]),
)
_token_chars = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
_methods = st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"]) | \
    st.text(alphabet=_token_chars, min_size=1, max_size=8)
_header_values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                   exclude_characters="\x7f"),
            max_size=40).map(lambda v: v.strip().encode("latin-1")),
    st.sampled_from(["\xb2", "1\xb9", "-1", "1e3", "0x10", "99999999999999999999", "*",
                     'W/"x", "y"', "create", "delete", "9999-12-31T23:59:59Z"]).map(
        lambda v: v.encode("latin-1")),
)
_path_chars = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%/"
_paths = st.one_of(
    st.sampled_from([b"/api/revalidate", b"/api/status", b"/healthz", b"/", b"/blog",
                     b"/blog/", b"//evil.example", b"/_ssgen/livereload"]),
    st.lists(st.sampled_from(SEGMENTS) | st.text(alphabet=_path_chars, max_size=16),
             max_size=6).map(lambda parts: ("/" + "/".join(parts)).encode("ascii")),
)


def _wrong_credentials(body: bytes, now_ms: int) -> st.SearchStrategy[tuple[bytes, bytes]]:
    """Headers that look like credentials and are all wrong."""
    forged = [sign("wrong-secret-xyz", now_ms, body), sign(SECRET, now_ms - 3_600_000, body),
              sign(SECRET, now_ms, body + b" "), f"t={now_ms},v1=" + "A" * 43, "t=1,v1=x",
              sign(SECRET, now_ms, body).replace("v1=", "v1=A")]
    return st.one_of(
        st.sampled_from(forged).map(lambda v: (b"sanity-webhook-signature", v.encode())),
        st.sampled_from([s for s in WRONG_SECRETS if s.isascii()]).map(
            lambda s: (b"authorization", f"Bearer {s}".encode())),
        st.just((b"authorization", f"Basic {SECRET}".encode())),
    )


@st.composite
def unauthenticated(draw: st.DrawFn) -> Request:
    body = draw(_bodies)
    if draw(st.booleans()):  # a Next.js body with a wrong secret
        payload = draw(_json_objects)
        payload["secret"] = draw(st.sampled_from(WRONG_SECRETS) | _json_values)
        if payload["secret"] == SECRET:
            payload["secret"] = None
        body = json.dumps(payload).encode()
    headers = [(n.encode(), v) for n, v in draw(st.lists(
        st.tuples(st.sampled_from(HEADER_NAMES) | st.text(alphabet=_token_chars, min_size=1,
                                                          max_size=10), _header_values),
        max_size=5))]
    headers = [(n.lower(), v) for n, v in headers if n.lower() != b"authorization"
               and n.lower() != b"sanity-webhook-signature"]
    if draw(st.booleans()):
        headers.append(draw(_wrong_credentials(body, int(time.time() * 1000))))
    wrong = draw(st.sampled_from([s for s in WRONG_SECRETS if s.isascii()]))
    query = draw(st.sampled_from([b"", b"wait=1", f"secret={wrong}".encode(), b"secret=%ED%A0%80",
                                  b"secret=" + b"%FF" * 3])
                 | st.text(alphabet=_path_chars + "?#[]", max_size=30).map(str.encode))
    method = draw(st.sampled_from(["POST", "POST", "POST"]) | _methods)
    return Request(method, draw(_paths), query, tuple(headers), body)


@st.composite
def authenticated(draw: st.DrawFn) -> Request:
    body = draw(_bodies)
    how = draw(st.sampled_from(["bearer", "signed", "body", "query"]))
    headers: list[tuple[bytes, bytes]] = []
    query = b""
    if how == "bearer":
        headers.append((b"authorization", f"Bearer {SECRET}".encode()))
    elif how == "signed":
        headers.append((b"sanity-webhook-signature",
                        sign(SECRET, int(time.time() * 1000), body).encode()))
        for name in ("sanity-operation", "sanity-document-id", "idempotency-key",
                     "sanity-transaction-time"):
            if draw(st.booleans()):
                headers.append((name.encode(), draw(_header_values)))
    elif how == "body":
        payload = draw(_json_objects)
        payload["secret"] = SECRET
        body = json.dumps(payload).encode()
    else:
        query = f"secret={SECRET}".encode()
        body = _without_body_secret(body)  # a body "secret" would override the query's
    return Request("POST", b"/api/revalidate", query, tuple(headers), body)


def _without_body_secret(body: bytes) -> bytes:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return body
    if isinstance(payload, dict) and "secret" in payload:
        del payload["secret"]
        return json.dumps(payload).encode()
    return body


# --- the properties ------------------------------------------------------------------------


def _snapshot(served: Served) -> tuple[Any, ...]:
    out = served.site / "public"
    files = {p.relative_to(out).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
             for p in out.rglob("*") if p.is_file()}
    path = served.worker.config.state_dir / "manifest.sqlite"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        queue = db.execute("SELECT count(*), coalesce(max(id), 0) FROM queue").fetchone()
    return files, queue, len(served.submitted)


def _idle(served: Served) -> None:
    deadline = time.monotonic() + 30
    while True:
        status = served.worker.status()
        if status["queue_depth"] == 0 and status["state"] == "idle" and status["rebuilds"]:
            return
        assert time.monotonic() < deadline, status
        time.sleep(0.01)


@settings(max_examples=300 * FUZZ_SCALE, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(request=unauthenticated())
@example(request=Request("POST", b"/api/revalidate", b"", ((b"content-length", b"\xb2"),),
                         b"{}"))  # "²".isdigit(), but int("²") raises
@example(request=Request("GET", b"/" + b"a" * 300, b"", (), b""))  # longer than NAME_MAX
def test_webhook_fuzz_unauthenticated_never_5xx_and_changes_nothing(
    served: Served, request: Request
) -> None:
    _idle(served)
    before = _snapshot(served)
    status = served.loop.run_until_complete(_call(served.app, request))
    assert status < 500, (status, request)
    if request.method == "POST" and request.raw_path == b"/api/revalidate":
        assert status in (400, 401, 408, 413), (status, request)
    assert _snapshot(served) == before, request


@settings(max_examples=100 * FUZZ_SCALE, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(request=authenticated())
def test_webhook_fuzz_authenticated_never_5xx(served: Served, request: Request) -> None:
    status = served.loop.run_until_complete(_call(served.app, request))
    assert status < 500, (status, request)
    assert status in (200, 202, 400, 413), (status, request)
