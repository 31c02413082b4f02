"""The ASGI application of ``ssgen serve`` (Starlette): routes, body limits, access log.

Owns the HTTP surface: ``POST /api/revalidate`` (auth and parsing in serve/webhooks.py,
queueing and rebuilds in serve/worker.py), ``GET /api/status``, ``GET /healthz``, the
live-reload endpoint in dev mode, and the output folder for everything else
(serve/static.py). Services (the worker, the watcher) start and stop with the app's
lifespan; stopping waits for the rebuild in progress.

Every request is untrusted: whatever its bytes, the answer is a 2xx, 3xx or 4xx (a 5xx
only for the server's own trouble: the queue cannot be written, or a rebuild failed),
an unauthenticated request changes nothing, and an access log line shows at most a
bounded, escaped prefix of the path.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ssgen.errors import SsgenError, WebhookError
from ssgen.serve.jobs import Submitted
from ssgen.serve.livereload import ENDPOINT, LiveReload, inject
from ssgen.serve.metrics import CONTENT_TYPE, refusal_reason, signed_publish_time
from ssgen.serve.preview import Preview
from ssgen.serve.replay import ReplayGuard
from ssgen.serve.static import DEFAULT_CACHE_CONTROL, StaticSite
from ssgen.serve.status import full_status, public_status
from ssgen.serve.webhooks import (
    DEFAULT_REPLAY_WINDOW,
    Delivery,
    bearer_matches,
    parse_request,
    secret_matches,
)
from ssgen.serve.worker import RebuildWorker

log = logging.getLogger("ssgen.serve")
access_log = logging.getLogger("ssgen.serve.access")

MAX_BODY = 1024 * 1024
MAX_LOGGED_PATH = 200
# Every route takes every method so that the wrong one gets our JSON 405 with Allow.
_ALL = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class Service(Protocol):
    """Something that runs beside the app (the rebuild worker, the file watcher)."""

    def start(self) -> None:
        """Begin work."""
        ...

    def stop(self, timeout: float | None = None) -> None:
        """Finish the work in progress and stop."""
        ...


@dataclass(frozen=True)
class ServeSettings:
    """How the server answers; ``secret`` None is allowed only in dev mode."""

    secret: str | None = None
    dev: bool = False
    replay_window: float = DEFAULT_REPLAY_WINDOW
    max_body: int = MAX_BODY
    cache_control: str = DEFAULT_CACHE_CONTROL
    wait_timeout: float = 25.0  # under the 30 s after which Sanity gives a delivery up
    metrics_token: str | None = None  # bearer token GET /metrics needs (None: open)
    body_timeout: float = 10.0  # to receive a whole webhook body (408 after it)


def create_app(
    worker: RebuildWorker,
    settings: ServeSettings,
    *,
    livereload: LiveReload | None = None,
    services: Sequence[Service] = (),
    preview: Preview | None = None,
    extra_routes: Sequence[Route] = (),
) -> Starlette:
    """The ASGI app; starts ``worker`` and ``services`` in its lifespan. ``preview``
    (serve/preview/) answers preview sessions from drafts; ``extra_routes`` go before the
    static catch-all (e.g. serve/locations.py)."""
    site = StaticSite(worker.config.output_dir, cache_control=settings.cache_control,
                      inject=inject if livereload is not None else None)
    handlers = _Handlers(worker, settings, site, livereload)
    routes = [
        Route("/api/revalidate", handlers.revalidate, methods=_ALL),
        Route("/api/status", handlers.status, methods=_ALL),
        Route("/healthz", handlers.healthz, methods=_ALL),
        Route("/metrics", handlers.metrics, methods=_ALL),
        *(preview.routes() if preview is not None else ()),
        *extra_routes,
        Route("/{path:path}", preview.wrap(handlers.static) if preview is not None
              else handlers.static, methods=_ALL),
    ]
    if livereload is not None:
        routes.insert(0, Route(ENDPOINT, handlers.livereload, methods=_ALL))
        worker.listeners.append(livereload.update)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        worker.start()
        for service in services:
            service.start()
        log.info("serving %s", worker.config.output_dir, extra={"event": "start"})
        try:
            yield
        finally:
            for service in services:
                await run_in_threadpool(service.stop)
            await run_in_threadpool(worker.stop)
            log.info("stopped", extra={"event": "stop"})

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(AccessLog)
    return app


class _Handlers:
    def __init__(self, worker: RebuildWorker, settings: ServeSettings, site: StaticSite,
                 livereload: LiveReload | None) -> None:
        self.worker = worker
        self.settings = settings
        self.site = site
        self.live = livereload
        self.replays = ReplayGuard(settings.replay_window)

    async def revalidate(self, request: Request) -> Response:
        if request.method != "POST":
            return _not_allowed("POST")
        self.worker.metrics.received.inc()
        reply, refused = await self._accept(request)
        if refused or reply.status_code >= 300:
            self.worker.metrics.refused.labels(refused or refusal_reason(reply.status_code)).inc()
        else:
            self.worker.metrics.accepted.inc()
        return reply

    async def _accept(self, request: Request) -> tuple[Response, str | None]:
        """The reply, and the refusal reason of a 2xx that queued nothing (or None)."""
        try:
            body = await read_body(request, self.settings.max_body,
                                   self.settings.body_timeout)
            delivery = parse_request(
                request.headers, request.query_params, body, secret=self.settings.secret,
                now=time.time(), window=self.settings.replay_window,
                route_paths=[r.path for r in self.worker.config.routes])
        except WebhookError as exc:
            return _error(exc.status, str(exc)), None
        published = signed_publish_time(request.headers.get("sanity-webhook-signature"))
        trace = delivery.key or uuid.uuid4().hex[:16]
        meta = {"trace": trace, "published": published or time.time()}
        submitted = await self._submit(delivery, meta)
        if submitted is None:
            return _error(503, "the change could not be queued; try again"), None
        log.info("accepted job %d", submitted.job, extra={
            "event": "accepted", "trace": trace, "job": submitted.job,
            "duplicate": submitted.duplicate})
        reply: dict[str, Any] = {"accepted": True, "job": submitted.job,
                                 "duplicate": submitted.duplicate, "trace": trace}
        if request.query_params.get("wait", "") not in ("1", "true", "yes"):
            return JSONResponse(reply, status_code=202), None
        return await self._wait(submitted.job, reply), None

    async def _submit(self, delivery: Delivery, meta: dict[str, Any]) -> Submitted | None:
        """Queue the delivery; a replay of signed bytes already queued gets their job."""
        replayed = self.replays.job_of(delivery.signed)
        if replayed is not None:
            return Submitted(replayed, duplicate=True)
        try:
            submitted = await run_in_threadpool(
                functools.partial(self.worker.submit, delivery.change, delivery.key, meta=meta))
        except SsgenError as exc:
            log.error("cannot queue a change: %s", exc, extra={"event": "queue_error"})
            return None
        self.replays.remember(delivery.signed, submitted.job)
        return submitted

    async def _wait(self, job: int, reply: dict[str, Any]) -> Response:
        future = asyncio.wrap_future(self.worker.future(job))
        try:
            result = await asyncio.wait_for(future, self.settings.wait_timeout)
        except TimeoutError:
            reply["error"] = "the rebuild did not finish in time; it stays queued"
            return JSONResponse(reply, status_code=202)
        files = sorted({f for kind in ("new", "changed", "deleted") for f in result.changes[kind]})
        reply.update(result.to_json(), paths=files)
        # Content failures (a left-out document, a shared path) wait for a fix: a 5xx
        # would only make the CMS retry for nothing.
        retry = any(f.get("kind", "page") == "page" for f in result.failures)
        return JSONResponse(reply, status_code=500 if retry else 200)

    async def status(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _not_allowed("GET, HEAD")
        status = await run_in_threadpool(self.worker.status)
        secret = self.settings.secret
        owner = secret is None or bearer_matches(request.headers, secret)
        view = full_status(status) if owner else public_status(status)
        return JSONResponse(view, headers={"cache-control": "no-store"})

    async def metrics(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _not_allowed("GET, HEAD")
        token = self.settings.metrics_token
        if token is not None:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not secret_matches(given.strip(), token):
                return JSONResponse({"error": "unauthorized"}, status_code=401,
                                    headers={"www-authenticate": "Bearer"})
        body = await run_in_threadpool(self.worker.metrics.render)
        return Response(body, media_type=CONTENT_TYPE, headers={"cache-control": "no-store"})

    async def healthz(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _not_allowed("GET, HEAD")
        return JSONResponse({"ok": True}, headers={"cache-control": "no-store"})

    async def livereload(self, request: Request) -> Response:
        assert self.live is not None  # the route exists only with live reload
        return Response(self.live.state_json(), media_type="application/json",
                        headers={"cache-control": "no-store"})

    async def static(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _not_allowed("GET, HEAD")
        return await run_in_threadpool(
            self.site.respond, request.url.path, request.headers,
            head=request.method == "HEAD", query=request.url.query)


async def read_body(request: Request, limit: int, timeout: float | None = None) -> bytes:
    """The request body, refusing (413) more than ``limit`` bytes without reading it all,
    and (408) a body still incomplete after ``timeout`` seconds."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):  # "²".isdigit() is True
            raise WebhookError("invalid Content-Length", 400)
        if int(declared) > limit:
            raise WebhookError(f"body larger than {limit} bytes", 413)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise WebhookError(f"body larger than {limit} bytes", 413)
                chunks.append(chunk)
    except TimeoutError:
        raise WebhookError(f"body not received within {timeout:g} s", 408) from None
    return b"".join(chunks)


def _error(status: int, message: str) -> Response:
    # backslashreplace: a message may quote request text, which may not be valid UTF-8
    safe = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return JSONResponse({"error": safe}, status_code=status)


def _not_allowed(allow: str) -> Response:
    return JSONResponse({"error": "method not allowed"}, status_code=405,
                        headers={"allow": allow})


class AccessLog:
    """Pure ASGI middleware: one structured log record per HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        logged = False

        async def sending(message: Message) -> None:
            nonlocal status, logged
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Written before the last bytes go out: a client holding the whole reply
                # finds its line already logged, never one arriving after its next request.
                logged = True
                _log_access(scope, status, started)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if not logged:  # no complete reply (an error, a disconnect)
                _log_access(scope, status, started)


def _log_access(scope: Scope, status: int, started: float) -> None:
    client = scope.get("client")
    path = loggable_path(scope["path"])
    access_log.info(
        '%s %s %d', scope["method"], path, status,
        extra={"event": "access", "method": scope["method"], "path": path,
               "status": status, "ms": round((time.perf_counter() - started) * 1000, 2),
               "client": client[0] if client else None})


def loggable_path(path: str) -> str:
    """``path`` for a log line: control characters escaped, at most ``MAX_LOGGED_PATH`` long."""
    if len(path) <= MAX_LOGGED_PATH and path.isprintable():
        return path
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                    for c in path[:MAX_LOGGED_PATH])
    return shown + (f"...({len(path)} chars)" if len(path) > MAX_LOGGED_PATH else "")


__all__ = ["MAX_BODY", "AccessLog", "ServeSettings", "Service", "create_app", "loggable_path",
           "read_body"]
