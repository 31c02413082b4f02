"""A Sanity Content Lake stand-in for tests: Query and Listen APIs on 127.0.0.1.

Speaks the wire protocol ssgen relies on (see SANITY.md): ``GET/POST
/v<ver>/data/query/<dataset>`` with ``$param`` JSON decoding, perspectives
(published/drafts/raw) over a dataset with drafts, bearer-token auth (anonymous callers
never see drafts; a wrong token is a 401), Sanity error bodies (``queryParseError`` with
start/end), and ``GET /v<ver>/data/listen/<dataset>`` server-sent events (welcome,
mutation events with ``<txid>#<docId>`` ids, keep-alives, ``Last-Event-ID`` resume).
Answers with ssgen's own GROQ engine. Tests mutate the dataset with ``put``/``delete``,
inject faults with ``inject``/``latency``/``serve_stale`` and assert on ``requests``.

    with SanityTestServer(docs, token="secret") as server:
        source = SanitySource(server.settings())
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

try:
    from sanity_sse import ListenHub, Subscription
except ImportError:  # imported as tests.sanity_server
    from tests.sanity_sse import ListenHub, Subscription

from ssgen.errors import GroqError, GroqSyntaxError
from ssgen.sources.sanity_http import SanitySettings

PERSPECTIVE_NAMES = {"published": "published", "drafts": "drafts", "previewDrafts": "drafts",
                     "raw": "raw"}


class ApiError(Exception):
    """An error answer: HTTP status and the JSON body Sanity would send."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def _plain_error(status: int, error: str, message: str) -> ApiError:
    return ApiError(status, {"statusCode": status, "error": error, "message": message})


def _typed_error(status: int, etype: str, description: str, **extra: Any) -> ApiError:
    return ApiError(status, {"error": {"type": etype, "description": description, **extra}})


@dataclass
class RequestRecord:
    """One request the server received (for assertions)."""

    method: str
    path: str
    params: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class Fault:
    """One injected failure: ``status`` | ``rate_limit`` | ``drop`` | ``truncate`` |
    ``malformed`` | ``delay``; applies to the next matching request of ``api``."""

    kind: str
    api: str = "query"
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0


@dataclass
class State:
    """The dataset and its revision bookkeeping (guarded by ``lock``)."""

    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    stale_documents: dict[str, dict[str, Any]] | None = None
    stale_reads: int = 0
    revision: int = 0
    datasets: dict[tuple[str, bool], Any] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


class SanityTestServer:
    """The server; start with ``with`` or ``start()``/``stop()``. See the module docstring."""

    def __init__(
        self,
        documents: Iterable[dict[str, Any]] = (),
        *,
        project_id: str = "test",
        dataset: str = "production",
        token: str | None = None,
        private: bool = False,
        keepalive: float = 15.0,
        now: str | None = None,
    ) -> None:
        self.project_id = project_id
        self.dataset = dataset
        self.token = token
        self.private = private
        self.now = now
        self.latency = 0.0
        self.state = State({doc["_id"]: copy.deepcopy(doc) for doc in documents})
        self.requests: list[RequestRecord] = []
        self.faults: list[Fault] = []
        self.hub = ListenHub(keepalive=keepalive)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> SanityTestServer:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.app = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close listeners, stop serving and release the port."""
        self.hub.close()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SanityTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the ``api_host`` for clients."""
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def settings(self, **overrides: Any) -> SanitySettings:
        """Client settings pointing at this server (fast retries for tests)."""
        values: dict[str, Any] = {"project_id": self.project_id, "dataset": self.dataset,
                                  "api_host": self.url, "token": self.token, "use_cdn": False,
                                  "backoff_base": 0.001, "backoff_jitter": 0.001,
                                  "timeout": 5.0}
        values.update(overrides)
        return SanitySettings(**values)

    # --- test controls --------------------------------------------------------------

    def inject(self, kind: str, count: int = 1, **options: Any) -> None:
        """Make the next ``count`` requests (of ``api``, default query) fail with ``kind``."""
        with self._lock:
            self.faults.extend(Fault(kind, **options) for _ in range(count))

    def serve_stale(self, count: int) -> None:
        """Answer the next ``count`` queries from the dataset before the last mutation."""
        with self.state.lock:
            self.state.stale_reads = count

    def clear_log(self) -> None:
        """Forget the request log."""
        with self._lock:
            self.requests.clear()

    def log(self, api: str = "query") -> list[RequestRecord]:
        """Logged requests whose path is under ``/data/<api>/``."""
        with self._lock:
            return [r for r in self.requests if f"/data/{api}/" in r.path]

    def documents(self) -> list[dict[str, Any]]:
        """A copy of every stored document (raw, drafts included)."""
        with self.state.lock:
            return copy.deepcopy(list(self.state.documents.values()))

    def put(self, doc: dict[str, Any]) -> dict[str, Any]:
        """createOrReplace: new ``_rev``/``_updatedAt``; emits a mutation event. Returns it."""
        with self.state.lock:
            before = self.state.documents.get(doc["_id"])
            after = self._stamp(copy.deepcopy(doc), before)
            self._commit(doc["_id"], before, after)
            return copy.deepcopy(after)

    def delete(self, doc_id: str) -> None:
        """Delete a document; emits a mutation event when it existed."""
        with self.state.lock:
            before = self.state.documents.get(doc_id)
            if before is not None:
                self._commit(doc_id, before, None)

    def _stamp(self, doc: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
        self.state.revision += 1
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        doc["_rev"] = f"rev{self.state.revision:06d}"
        doc["_updatedAt"] = stamp
        doc.setdefault("_createdAt", (before or {}).get("_createdAt", stamp))
        return doc

    def _commit(self, doc_id: str, before: dict[str, Any] | None,
                after: dict[str, Any] | None) -> None:
        self.state.stale_documents = dict(self.state.documents)
        if after is None:
            del self.state.documents[doc_id]
        else:
            self.state.documents[doc_id] = after
        self.state.datasets.clear()
        self.hub.publish(f"tx{self.state.revision:06d}", doc_id, before, after)

    # --- query answering (called by the handler) ------------------------------------

    def take_fault(self, api: str) -> Fault | None:
        """The next injected fault for ``api``, consumed."""
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.api == api:
                    return self.faults.pop(i)
        return None

    def record(self, record: RequestRecord) -> None:
        """Append to the request log."""
        with self._lock:
            self.requests.append(record)

    def authorize(self, headers: dict[str, str]) -> bool:
        """True for a valid token; anonymous is False; a wrong token (or none when private)
        is a 401 with Sanity's body."""
        header = headers.get("authorization", "")
        if not header:
            if self.private:
                raise _plain_error(401, "Unauthorized", "Dataset is private: a token is required")
            return False
        if header != f"Bearer {self.token}" or self.token is None:
            raise _plain_error(401, "Unauthorized", "Session not found")
        return True

    def answer_query(self, text: str, params: dict[str, Any], perspective: str,
                     authorized: bool) -> Any:
        """The ``result`` of a query, evaluated with ssgen.groq over the visible documents."""
        from ssgen.groq import parse

        try:
            query = parse(text)
        except GroqSyntaxError as exc:
            raise _typed_error(400, "queryParseError", exc.message, query=text,
                               start=exc.offset, end=min(len(text), exc.offset + 1)) from exc
        dataset = self._dataset(perspective, authorized)
        try:
            return query.evaluate(dataset, params, self.now)
        except GroqError as exc:
            raise _typed_error(400, "queryExecutionError", str(exc), query=text) from exc

    def _dataset(self, perspective: str, authorized: bool) -> Any:
        from ssgen.groq import Dataset

        with self.state.lock:
            if self.state.stale_reads > 0 and self.state.stale_documents is not None:
                self.state.stale_reads -= 1
                return Dataset(view(self.state.stale_documents.values(), perspective, authorized))
            key = (perspective, authorized)
            if key not in self.state.datasets:
                docs = view(self.state.documents.values(), perspective, authorized)
                self.state.datasets[key] = Dataset(docs)
            return self.state.datasets[key]

    def subscribe(self, text: str, params: dict[str, str], authorized: bool,
                  last_event_id: str | None) -> Subscription:
        """A Listen API subscription (query parse errors are 400s like the Query API)."""
        from ssgen.groq import parse

        try:
            query = parse(text)
        except GroqSyntaxError as exc:
            raise _typed_error(400, "queryParseError", exc.message, query=text,
                               start=exc.offset, end=min(len(text), exc.offset + 1)) from exc
        return self.hub.subscribe(query, params, authorized, last_event_id)


def view(docs: Iterable[dict[str, Any]], perspective: str,
         authorized: bool) -> list[dict[str, Any]]:
    """The documents a perspective shows (anonymous callers never see drafts/versions)."""
    visible = [d for d in docs if authorized or not _is_private(d["_id"])]
    if perspective == "raw":
        return visible
    published = [d for d in visible if not _is_private(d["_id"])]
    if perspective == "published":
        return published
    merged = {d["_id"]: {**d, "_originalId": d["_id"]} for d in published}
    for d in visible:
        if d["_id"].startswith("drafts."):
            base = d["_id"].removeprefix("drafts.")
            merged[base] = {**d, "_id": base, "_originalId": d["_id"]}
    return list(merged.values())


def _is_private(doc_id: str) -> bool:
    return doc_id.startswith(("drafts.", "versions."))


def _version_ok(segment: str) -> bool:
    if segment in ("v1", "vX"):
        return True
    parts = segment.removeprefix("v").split("-")
    return segment.startswith("v") and len(parts) == 3 and all(p.isdigit() for p in parts)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server_version = "SanityTestServer/1"

    @property
    def app(self) -> SanityTestServer:
        return self.server.app  # type: ignore[attr-defined, no-any-return]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``requests`` instead."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        body = self._read_body() if method == "POST" else None
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.app.record(RequestRecord(method, url.path, params, body, headers))
        parts = url.path.strip("/").split("/")
        api = parts[2] if len(parts) == 4 and parts[1] == "data" else ""
        try:
            self._route(method, parts, api, params, body, headers)
        except ApiError as exc:
            self._send_json(exc.status, exc.body)

    def _read_body(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise _typed_error(400, "httpBadRequest", "Request body is not valid JSON") from exc

    def _route(self, method: str, parts: list[str], api: str, params: dict[str, str],
               body: Any, headers: dict[str, str]) -> None:
        if api not in ("query", "listen") or not _version_ok(parts[0]):
            raise _plain_error(404, "Not Found", f"No route for {'/'.join(parts)}")
        if parts[3] != self.app.dataset:
            raise _plain_error(404, "Not Found", f'Dataset "{parts[3]}" not found for project '
                                                 f'ID "{self.app.project_id}"')
        if self.app.latency:
            time.sleep(self.app.latency)
        fault = self.app.take_fault(api)
        if fault is not None and self._apply_fault(fault):
            return
        authorized = self.app.authorize(headers)
        if api == "listen":
            return self._listen(params, authorized, headers.get("last-event-id"))
        if method == "POST":
            if not isinstance(body, dict) or not isinstance(body.get("query"), str):
                raise _typed_error(400, "httpBadRequest", 'Body must be {"query", "params"}')
            text, qparams = body["query"], dict(body.get("params") or {})
        else:
            text, qparams = _get_query(params)
        perspective = _perspective(params, parts[0])
        started = time.perf_counter()
        result = self.app.answer_query(text, qparams, perspective, authorized)
        reply: dict[str, Any] = {"result": result,
                                 "ms": int((time.perf_counter() - started) * 1000)}
        if params.get("returnQuery") != "false":
            reply = {"query": text, **reply}
        self._send_json(200, reply)

    def _apply_fault(self, fault: Fault) -> bool:
        """Act out a fault; True when the request is fully handled by it."""
        if fault.kind == "delay":
            time.sleep(fault.seconds)
            return False
        if fault.kind == "drop":
            self.close_connection = True
            return True
        if fault.kind == "rate_limit":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._send_json(429, {"statusCode": 429, "error": "Too Many Requests",
                                  "message": "API rate limit exceeded"}, extra)
            return True
        if fault.kind == "status":
            self._send_json(fault.status, {"statusCode": fault.status, "error": "Server Error",
                                           "message": "injected failure"})
            return True
        payload = b'{"ms":1,"result":[{"_id":"a"},{"_id":"b"}]}'
        if fault.kind == "truncate":
            self._send_raw(200, payload, len(payload), cut=len(payload) // 2)
        elif fault.kind == "malformed":
            self._send_raw(200, payload[:-3] + b"}", len(payload) - 2)
        else:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        return True

    def _send_json(self, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self._send_raw(status, data, len(data), extra=extra)

    def _send_raw(self, status: int, data: bytes, length: int, *, cut: int | None = None,
                  extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(length))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if cut is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data if cut is None else data[:cut])
        self.wfile.flush()

    def _listen(self, params: dict[str, str], authorized: bool, last_id: str | None) -> None:
        text = params.get("query")
        if not text:
            raise _typed_error(400, "httpBadRequest", 'Query parameter "query" is required')
        subscription = self.app.subscribe(text, params, authorized, last_id)
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for chunk in subscription.frames():
                self.wfile.write(chunk)
                self.wfile.flush()
        except OSError:
            pass
        finally:
            self.app.hub.unsubscribe(subscription)


def _get_query(params: dict[str, str]) -> tuple[str, dict[str, Any]]:
    text = params.get("query")
    if text is None:
        raise _typed_error(400, "httpBadRequest", 'Query parameter "query" is required')
    values: dict[str, Any] = {}
    for name, raw in params.items():
        if name.startswith("$"):
            try:
                values[name[1:]] = json.loads(raw)
            except ValueError as exc:
                message = f'Unable to parse value of "{name}={raw}". Please quote string values.'
                raise _typed_error(400, "httpBadRequest", message) from exc
    return text, values


def _perspective(params: dict[str, str], version: str) -> str:
    default = "published" if version >= "v2025-02-19" and version != "v1" else "raw"
    name = params.get("perspective", default)
    if name not in PERSPECTIVE_NAMES:
        raise _typed_error(400, "httpBadRequest", f"Invalid perspective {name!r}")
    return PERSPECTIVE_NAMES[name]
