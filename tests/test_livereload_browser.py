"""Live reload in a real browser: headless Chromium driven by Playwright for Python.

Opens a page served by ``ssgen serve --dev --watch``, edits its template and waits for
the tab itself to reload with the change; then breaks the template (the error overlay
appears in the page) and fixes it (the page recovers) without restarting anything.
Debian's chromium is launched through ``executable_path`` (Playwright's own browser
download is never used). Chromium is required under CI (``.ci/run`` installs it): the
test fails there without it, and skips with a reason elsewhere.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from servekit import running_server
from sitekit import make_site

ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Generous: a loaded 2-core machine starts chromium and rebuilds slowly. These are
# deadlines for eventual state, not timing assertions.
TIMEOUT_MS = 60_000


def chromium() -> str:
    """The Chromium binary; missing is a failure under CI and a skip elsewhere."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed; CI installs it")
    return found


@contextmanager
def open_page(url: str) -> Iterator[Page]:
    """A page showing ``url`` in headless Debian chromium; the browser always closes."""
    executable = chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=ARGS,
                                     timeout=TIMEOUT_MS)
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.set_default_navigation_timeout(TIMEOUT_MS)
            page.goto(url, wait_until="load")
            yield page
        finally:
            browser.close()


def template_text(heading: str) -> str:
    return ('{% extends "base.html" %}{% block content %}<h1>' + heading
            + ' {{ page.title }}</h1>{% endblock %}')


def test_chromium_is_found_or_the_reason_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setattr(os.path, "exists", lambda _path: False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium is not installed"):
        chromium()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="CI installs it"):
        chromium()


def test_editing_a_template_reloads_the_open_page(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    template = site / "templates" / "post.html"
    with running_server(site, secret=None, dev=True, watch=True) as srv, \
            open_page(f"{srv.url}/blog/post-1/") as page:
        heading = page.locator("h1")
        overlay = page.locator("#ssgen-error-overlay")
        expect(heading).to_have_text("Post 1", timeout=TIMEOUT_MS)
        expect(page.locator("script[data-ssgen-livereload]")).to_have_count(1)
        page.evaluate("window.__before_reload = true")

        template.write_text(template_text("Live"), encoding="utf-8")
        expect(heading).to_have_text("Live Post 1", timeout=TIMEOUT_MS)
        # A fresh document, not a DOM patch: the marker set before the edit is gone.
        assert page.evaluate("window.__before_reload === undefined") is True
        assert b"data-ssgen-livereload" not in (
            site / "public/blog/post-1/index.html").read_bytes()

        template.write_text('{% extends "base.html" %}{% block content %}\n'
                            '<h1>{{ page.title | broken }}</h1>{% endblock %}',
                            encoding="utf-8")
        expect(overlay).to_contain_text("post.html:2", timeout=TIMEOUT_MS)
        expect(heading).to_have_text("Live Post 1")  # the last good page stays

        template.write_text(template_text("Fixed"), encoding="utf-8")
        expect(heading).to_have_text("Fixed Post 1", timeout=TIMEOUT_MS)
        expect(overlay).to_have_count(0, timeout=TIMEOUT_MS)
