"""Live reload in a real browser: headless Chromium driven over the DevTools protocol.

Opens a page served by ``ssgen serve --dev --watch``, edits its template and waits for
the tab itself to reload with the change; then breaks the template (the error overlay
appears in the page) and fixes it (the page recovers) without restarting anything.
Chromium is required under CI (``.ci/run`` installs it): the test fails there without it.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from servekit import running_server, wait_for
from sitekit import make_site
from websockets.sync.client import ClientConnection, connect

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0",
]


def chromium() -> str:
    """The Chromium binary; missing is a failure under CI and a skip elsewhere."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed; CI installs it")
    return found


class Page:
    """A DevTools protocol session on one tab."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(message["error"])
                result: dict[str, Any] = message["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` in the page (None while it is navigating)."""
        try:
            result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        except RuntimeError:
            return None
        return result.get("result", {}).get("value")


@contextmanager
def browser(url: str, tmp: Path) -> Iterator[Page]:
    """Headless Chromium showing ``url``; yields a DevTools session on its tab."""
    profile = tmp / "profile"
    proc = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={profile}", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"
        wait_for(lambda: port_file.exists() and port_file.read_text().strip() != "",
                 timeout=60, what="chromium's DevTools port")
        port = port_file.read_text().split()[0]
        target = _page_target(f"http://127.0.0.1:{port}")
        with connect(target, max_size=None, open_timeout=30) as ws:
            yield Page(ws)
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop chromium and its helper processes (its own process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(10)
            break
        except subprocess.TimeoutExpired:
            continue


def _page_target(devtools: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            targets = httpx.get(f"{devtools}/json/list", timeout=5).json()
        except httpx.HTTPError:
            targets = []
        pages = [t for t in targets if t.get("type") == "page"]
        if pages:
            return str(pages[0]["webSocketDebuggerUrl"])
        time.sleep(0.1)
    raise AssertionError("chromium opened no page target")


HEADING = "document.querySelector('h1') && document.querySelector('h1').textContent"
OVERLAY = ("document.getElementById('ssgen-error-overlay') && "
           "document.getElementById('ssgen-error-overlay').textContent")


def test_editing_a_template_reloads_the_open_page(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    template = site / "templates" / "post.html"
    with running_server(site, secret=None, dev=True, watch=True) as srv, \
            browser(f"{srv.url}/blog/post-1/", tmp_path) as page:
        wait_for(lambda: page.evaluate(HEADING) == "Post 1", timeout=60, what="the page")
        wait_for(lambda: page.evaluate("document.readyState") == "complete")
        page.evaluate("window.__before_reload = true")

        template.write_text('{% extends "base.html" %}{% block content %}<h1>Live '
                            '{{ page.title }}</h1>{% endblock %}')
        wait_for(lambda: page.evaluate(HEADING) == "Live Post 1", timeout=60,
                 what="the tab to reload with the edit")
        assert page.evaluate("window.__before_reload === undefined") is True
        assert b"data-ssgen-livereload" not in (
            site / "public/blog/post-1/index.html").read_bytes()

        template.write_text('{% extends "base.html" %}{% block content %}\n'
                            '<h1>{{ page.title | broken }}</h1>{% endblock %}')
        wait_for(lambda: "post.html:2" in (page.evaluate(OVERLAY) or ""), timeout=60,
                 what="the error overlay")
        assert page.evaluate(HEADING) == "Live Post 1"  # the last good page stays

        template.write_text('{% extends "base.html" %}{% block content %}<h1>Fixed '
                            '{{ page.title }}</h1>{% endblock %}')
        wait_for(lambda: page.evaluate(HEADING) == "Fixed Post 1", timeout=60,
                 what="recovery without a restart")
        wait_for(lambda: page.evaluate(OVERLAY) is None, what="the overlay to go")
