"""Helpers for serve tests: a real uvicorn server on 127.0.0.1 and signed webhooks."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from ssgen.build.change import Change
from ssgen.config.load import load_config
from ssgen.serve.app import ServeSettings, Service, create_app
from ssgen.serve.limits import ServerLimits, uvicorn_config
from ssgen.serve.livereload import LiveReload
from ssgen.serve.preview import preview_setup
from ssgen.serve.watch import Watcher
from ssgen.serve.webhooks import sign
from ssgen.serve.worker import RebuildWorker
from ssgen.sources import open_source
from ssgen.sources.local import LocalSource

SECRET = "s3cret-for-tests"


@dataclass
class Running:
    """A started server: its base URL, an httpx client and the worker behind it."""

    url: str
    client: httpx.Client
    worker: RebuildWorker
    site: Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    site: Path,
    *,
    secret: str | None = SECRET,
    dev: bool = False,
    watch: bool = False,
    settle: float = 0.0,
    retry_base: float = 0.05,
    build_fn: Callable[..., Any] | None = None,
    limits: ServerLimits | None = None,
    preview_secret: str | None = None,
    locations_token: str | None = None,
    env: dict[str, str] | None = None,
    watch_options: dict[str, float] | None = None,
    **settings: Any,
) -> Iterator[Running]:
    """Run ``ssgen serve`` for ``site`` in a thread; stops it (gracefully) on exit."""
    config = load_config(site, env=env)
    source = open_source(config, kept=True)
    worker = RebuildWorker(config, settle=settle, source=source, build_fn=build_fn,
                           retry_base=retry_base)
    services: list[Service] = []
    if watch:
        services.append(Watcher(config, worker, source.watched_paths(), debounce_ms=20,
                                **(watch_options or {})))
    preview, routes = preview_setup(config, worker, preview_secret, "https://studio.test",
                                    locations_token)
    app = create_app(worker, ServeSettings(secret=secret, dev=dev, **settings),
                     livereload=LiveReload() if dev else None, services=services,
                     preview=preview, extra_routes=routes)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, limits=limits))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            wait_idle(client)
            yield Running(url, client, worker, site)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def status_of(client: httpx.Client, path: str) -> int | None:
    """The status of a GET of ``path``, or None when the connection failed or was reset
    (a server starting, stopped, or over its concurrency limit: uvicorn answers 503 and
    closes, and a pooled connection it closed may be reset under the next request)."""
    try:
        return client.get(path).status_code
    except httpx.TransportError:
        return None


def wait_idle(client: httpx.Client, timeout: float = 30) -> dict[str, Any]:
    """Poll /api/status until the queue is empty and no rebuild runs; returns the status."""
    deadline = time.monotonic() + timeout
    while True:
        status = owner_status(client)
        if status["queue_depth"] == 0 and status["state"] not in ("building", "warming") \
                and status["rebuilds"]:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"server never became idle: {status}")
        time.sleep(0.02)


def owner_status(client: httpx.Client, secret: str = SECRET) -> dict[str, Any]:
    """The full /api/status document (details are shown only with the secret)."""
    status: dict[str, Any] = client.get(
        "/api/status", headers={"authorization": f"Bearer {secret}"}).json()
    return status


def save(path: Path, text: str) -> None:
    """Save ``text`` to ``path`` as an editor saving by rename does: a watcher sees the old
    file or the new one whole, never the emptied file an in-place save leaves while its
    writer is descheduled (an empty ssgen.toml is a valid site with no pages)."""
    temp = path.with_name(path.name + ".tmp")  # a name the watcher ignores
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


class Queued:
    """A stand-in worker for a ``Watcher``: the changes it submitted."""

    def __init__(self) -> None:
        self.changes: list[tuple[Change, bool]] = []

    def submit(self, change: Change, key: str | None = None, *,
               reload_config: bool = False) -> Any:
        self.changes.append((change, reload_config))
        return None


def wait_for(predicate: Callable[[], bool], timeout: float = 20, what: str = "") -> None:
    """Poll until ``predicate()`` is true (a deadline for eventual state, not a timing test)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


def sanity_webhook(
    client: httpx.Client,
    doc: dict[str, Any],
    operation: str = "update",
    *,
    secret: str = SECRET,
    key: str | None = None,
    t_ms: int | None = None,
    transaction_time: str | None = None,
    wait: bool = True,
    body: bytes | None = None,
) -> httpx.Response:
    """POST a Sanity GROQ-powered webhook signed as Sanity signs it."""
    raw = body if body is not None else json.dumps(doc).encode()
    t_ms = t_ms if t_ms is not None else int(time.time() * 1000)
    headers = {
        "content-type": "application/json",
        "sanity-webhook-signature": sign(secret, t_ms, raw),
        "sanity-operation": operation,
        "sanity-document-id": str(doc.get("_id", "")),
        "idempotency-key": key or f"key-{time.monotonic_ns()}",
    }
    if transaction_time is not None:
        headers["sanity-transaction-time"] = transaction_time
    return client.post("/api/revalidate" + ("?wait=1" if wait else ""), content=raw,
                       headers=headers)


def kept_bytes(worker: RebuildWorker) -> bytes:
    """The bytes the worker's kept source holds of its one NDJSON file."""
    source = worker._runner.source
    assert isinstance(source, LocalSource)
    (entry,) = source._cache.values()
    assert entry.data is not None
    return bytes(entry.data)
