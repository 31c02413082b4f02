"""The HTTP half of the Sanity test server: request parsing, routing, faults, replies.

``Handler`` (a ``BaseHTTPRequestHandler``) turns each request into a call on the
``SanityTestServer`` (``server.app``), records it, acts out injected faults (drops,
truncated or malformed bodies, 429/5xx, delays) and writes Sanity-shaped JSON or SSE.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

PERSPECTIVE_NAMES = {"published": "published", "drafts": "drafts", "previewDrafts": "drafts",
                     "raw": "raw"}


class ApiError(Exception):
    """An error answer: HTTP status and the JSON body Sanity would send."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def plain_error(status: int, error: str, message: str) -> ApiError:
    return ApiError(status, {"statusCode": status, "error": error, "message": message})


def typed_error(status: int, etype: str, description: str, **extra: Any) -> ApiError:
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
    ``malformed`` | ``delay`` | ``cut`` (export: the stream stops after ``docs``
    documents and half a line) | ``none`` (a placeholder: answer normally); applies to
    the next matching request of ``api``."""

    kind: str
    api: str = "query"
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    docs: int = 0  # ``cut`` (export): documents sent before the stream breaks off


def _version_ok(segment: str) -> bool:
    if segment in ("v1", "vX"):
        return True
    parts = segment.removeprefix("v").split("-")
    return segment.startswith("v") and len(parts) == 3 and all(p.isdigit() for p in parts)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server_version = "SanityTestServer/1"

    @property
    def app(self) -> Any:
        return self.server.app  # type: ignore[attr-defined]

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
            raise typed_error(400, "httpBadRequest", "Request body is not valid JSON") from exc

    def _route(self, method: str, parts: list[str], api: str, params: dict[str, str],
               body: Any, headers: dict[str, str]) -> None:
        if api not in ("query", "listen", "export") or not _version_ok(parts[0]) or (
                api == "export" and not self.app.export_enabled):
            raise plain_error(404, "Not Found", f"No route for {'/'.join(parts)}")
        if parts[3] != self.app.dataset:
            raise plain_error(404, "Not Found", f'Dataset "{parts[3]}" not found for project '
                                                 f'ID "{self.app.project_id}"')
        if self.app.latency:
            time.sleep(self.app.latency)
        fault = self.app.take_fault(api)
        if fault is not None and fault.kind != "cut" and self._apply_fault(fault):
            return
        authorized = self.app.authorize(headers)
        if api == "export":
            return self._export(authorized, fault.docs if fault is not None else None)
        if api == "listen":
            return self._listen(params, authorized, headers.get("last-event-id"))
        if method == "POST":
            if not isinstance(body, dict) or not isinstance(body.get("query"), str):
                raise typed_error(400, "httpBadRequest", 'Body must be {"query", "params"}')
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
        if fault.kind == "none":
            return False
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
        data = as_json(body)
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

    def _export(self, authorized: bool, cut: int | None) -> None:
        """The Export API: every visible document, one a line, in chunks (a ``cut``
        stream ends without its last chunk, as a dropped connection does)."""
        docs = self.app.export_documents(authorized)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        stop = len(docs) if cut is None else min(cut, len(docs))
        for start in range(0, stop, 64):  # chunks of 64 lines, encoded as they go out
            chunk = b"".join(_line(doc) for doc in docs[start:min(start + 64, stop)])
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if cut is not None:
            if cut < len(docs):
                half = _line(docs[cut])[: len(_line(docs[cut])) // 2]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _listen(self, params: dict[str, str], authorized: bool, last_id: str | None) -> None:
        text = params.get("query")
        if not text:
            raise typed_error(400, "httpBadRequest", 'Query parameter "query" is required')
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


def as_json(value: Any) -> bytes:
    """``value`` as Sanity's API writes JSON: UTF-8, a lone surrogate (a JavaScript
    string cut inside an emoji) escaped as ``\\udXXX``, as ``JSON.stringify`` does."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "backslashreplace")


def _line(doc: dict[str, Any]) -> bytes:
    return as_json(doc) + b"\n"


def _get_query(params: dict[str, str]) -> tuple[str, dict[str, Any]]:
    text = params.get("query")
    if text is None:
        raise typed_error(400, "httpBadRequest", 'Query parameter "query" is required')
    values: dict[str, Any] = {}
    for name, raw in params.items():
        if name.startswith("$"):
            try:
                values[name[1:]] = json.loads(raw)
            except ValueError as exc:
                message = f'Unable to parse value of "{name}={raw}". Please quote string values.'
                raise typed_error(400, "httpBadRequest", message) from exc
    return text, values


def _perspective(params: dict[str, str], version: str) -> str:
    default = "published" if version >= "v2025-02-19" and version != "v1" else "raw"
    name = params.get("perspective", default)
    if name not in PERSPECTIVE_NAMES:
        raise typed_error(400, "httpBadRequest", f"Invalid perspective {name!r}")
    return PERSPECTIVE_NAMES[name]
