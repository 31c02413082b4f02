"""External link checks: a local HTTP server on 127.0.0.1 (no network), the httpx
transport seam for the per-host politeness limit, and the TTL cache in the manifest."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sitekit import DEFAULT_TEMPLATES, make_site, run_cli

from ssgen.links import LinkOptions, check_links
from ssgen.manifest.store import Manifest

HITS: Counter[str] = Counter()


class _Handler(BaseHTTPRequestHandler):
    def _answer(self, body: bool) -> None:
        HITS[f"{self.command} {self.path}"] += 1
        status = {"/ok": 200, "/gone": 404, "/redirect": 301}.get(self.path, 200)
        if self.path == "/nohead" and self.command == "HEAD":
            status = 405
        self.send_response(status)
        if status == 301:
            self.send_header("Location", "/ok")
        self.send_header("Content-Length", "2")
        self.end_headers()
        if body:
            self.wfile.write(b"ok")

    def do_HEAD(self) -> None:
        self._answer(False)

    def do_GET(self) -> None:
        self._answer(True)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def page(out: Path, links: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_text("".join(f'<a href="{u}">x</a>' for u in links), "utf-8")


def test_statuses_redirects_head_fallback_and_unreachable(tmp_path: Path, server: str) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/x"
    urls = [f"{server}/ok", f"{server}/gone", f"{server}/nohead", f"{server}/redirect#frag", dead]
    page(tmp_path / "public", urls)
    with Manifest.open(tmp_path / "m.sqlite") as manifest:
        off = check_links(tmp_path / "public", manifest, "https://example.com")
        assert off.ok and off.external == 0
        HITS.clear()
        report = check_links(tmp_path / "public", manifest, "https://example.com",
                             options=LinkOptions(external=True, timeout=5))
        assert {(b.link, b.external) for b in report.broken} == {
            (f"{server}/gone", True), (dead, True)}
        assert "HTTP 404" in {b.reason for b in report.broken}
        assert HITS["GET /nohead"] == 1 and HITS["GET /ok"] == 0  # HEAD first, GET on 405
        assert report.external == 5
        HITS.clear()  # within the TTL: answered from the manifest
        cached = check_links(tmp_path / "public", manifest, "https://example.com",
                             options=LinkOptions(external=True))
        assert not HITS and cached.external == 0 and len(cached.broken) == 2
        expired = check_links(tmp_path / "public", manifest, "https://example.com",
                              options=LinkOptions(external=True, ttl=0))
        assert expired.external == 5 and HITS["HEAD /ok"] >= 1


def test_per_host_politeness_limit(tmp_path: Path) -> None:
    flying: Counter[str] = Counter()
    most: Counter[str] = Counter()
    overall = {"now": 0, "most": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        flying[host] += 1
        overall["now"] += 1
        most[host] = max(most[host], flying[host])
        overall["most"] = max(overall["most"], overall["now"])
        await asyncio.sleep(0.02)
        flying[host] -= 1
        overall["now"] -= 1
        return httpx.Response(200)

    urls = [f"https://h{h}.test/{n}" for h in range(3) for n in range(5)]
    page(tmp_path / "public", urls)
    options = LinkOptions(external=True, per_host=2, concurrency=16,
                          transport=httpx.MockTransport(handler))
    with Manifest.open(tmp_path / "m.sqlite") as manifest:
        report = check_links(tmp_path / "public", manifest, "https://example.com", options=options)
    assert report.ok and report.external == 15
    assert max(most.values()) == 2 and overall["most"] > 2


def test_cli_external_flag_and_config(tmp_path: Path, server: str) -> None:
    templates = dict(DEFAULT_TEMPLATES)
    templates["post.html"] = f'<a href="{server}/gone">g</a><a href="{server}/ok">o</a>'
    site = make_site(tmp_path, templates=templates)
    assert run_cli("--site", str(site), "build", "--check").exit_code == 0
    result = run_cli("--site", str(site), "check", "--external")
    assert result.exit_code == 1 and f"{server}/gone" in result.output
    assert "HTTP 404" in result.output and f"'{server}/ok'" not in result.output
    toml = (site / "ssgen.toml").read_text(encoding="utf-8")
    (site / "ssgen.toml").write_text(toml + "\n[check]\nexternal = true\n", encoding="utf-8")
    assert run_cli("--site", str(site), "build", "--check").exit_code == 1
    (site / "ssgen.toml").write_text(toml, encoding="utf-8")
    assert run_cli("--site", str(site), "build", "--check").exit_code == 0  # external off
