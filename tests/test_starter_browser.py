"""The starter site in a real browser: layout, images and accessibility at three widths.

Builds the default site (repository root) with its local image pipeline, serves
``public/`` on 127.0.0.1 and opens one page of every template in headless Debian
chromium (Playwright, ``executable_path``) at 360, 768 and 1280 px. Each page must not
scroll sideways (``scrollWidth <= innerWidth``), every image must decode
(``naturalWidth > 0``, lazy ones forced to load) and no two card texts may overlap
(the rendered extent of their text, not their boxes); at 320 and 1920 px the pages must
not scroll sideways even when every image fails to load. axe-core, installed by
``.ci/run`` with npm and injected from disk (nothing fetched at run time), must find no
serious or critical violation. The header's search box must find a post by its title.
Screenshots go to tests/artifacts/ (gitignored).
Under CI a missing chromium or axe-core fails; elsewhere it skips with the reason.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from test_livereload_browser import ARGS, TIMEOUT_MS, chromium

from ssgen.build import build
from ssgen.config import load_config
from ssgen.manifest import Manifest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AXE = Path(os.environ.get("AXE_CORE_JS", REPO / ".ci/node/node_modules/axe-core/axe.min.js"))
WIDTHS = (360, 768, 1280)
CARD_TEXTS = ".card__title, .card .byline, .card__excerpt, .card .tags"

LOAD_IMAGES = """async () => {
  const images = [...document.images];
  for (const img of images) { img.loading = "eager"; }
  await Promise.all(images.map(img => img.complete ? null :
      new Promise(done => { img.onload = img.onerror = done; })));
  return images.filter(img => img.naturalWidth === 0).map(img => img.currentSrc || img.src);
}"""
TEXT_BOXES = """(selector) => [...document.querySelectorAll(selector)].map(el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const r = range.getBoundingClientRect();
  return {text: el.textContent.trim().slice(0, 40), left: r.left, top: r.top,
          right: r.right, bottom: r.bottom};
}).filter(b => b.right > b.left && b.bottom > b.top)"""


def axe_script() -> Path:
    """axe.min.js from the npm package (.ci/run installs it); CI fails without it."""
    if not AXE.is_file():
        message = f"axe-core is not installed ({AXE}): npm install --prefix .ci/node axe-core"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The built default site on a local HTTP server, and one page path per template."""
    site = tmp_path_factory.mktemp("starter") / "site"
    site.mkdir()
    for name in ("ssgen.toml", "content", "templates", "static"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, site / name)
    report = build(load_config(site), jobs=2)
    assert report.ok, report.failures
    with Manifest.open(site / ".ssgen" / "manifest.sqlite") as manifest:
        pages: dict[str, str] = {}
        for record in sorted(manifest.pages(), key=lambda r: r.path):
            pages.setdefault(record.template, record.path)
    handler = partial(_Quiet, directory=str(site / "public"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", pages
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium()
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, headless=True,
                                      args=["--headless", *ARGS], timeout=TIMEOUT_MS)
        try:
            yield launched
        finally:
            launched.close()


def open_at(browser: Browser, url: str, width: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url, wait_until="load")
    return page


def overlaps(boxes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of text boxes that intersect (by more than a pixel's rounding)."""
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (min(a["right"], b["right"]) - max(a["left"], b["left"]) > 1
                    and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 1):
                found.append((a["text"], b["text"]))
    return found


def test_every_template_has_a_page(served: tuple[str, dict[str, str]]) -> None:
    _, pages = served
    templates = {p.relative_to(REPO / "templates").as_posix()
                 for p in (REPO / "templates").glob("*.html")} - {"base.html"}
    assert set(pages) == templates


@pytest.mark.parametrize("width", WIDTHS)
def test_layout_holds_and_images_load(served: tuple[str, dict[str, str]], browser: Browser,
                                      width: int) -> None:
    base, pages = served
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    for template, path in sorted(pages.items()):
        page = open_at(browser, base + path, width)
        try:
            broken = page.evaluate(LOAD_IMAGES)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            inner = page.evaluate("window.innerWidth")
            clashes = overlaps(page.evaluate(TEXT_BOXES, CARD_TEXTS))
            name = template.removesuffix(".html")
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        finally:
            page.close()
        if scroll > inner:
            problems.append(f"{path} at {width}px: {scroll}px wide in a {inner}px window")
        problems += [f"{path} at {width}px: image did not load: {src}" for src in broken]
        problems += [f"{path} at {width}px: card texts overlap: {a!r} / {b!r}"
                     for a, b in clashes]
    assert problems == []


@pytest.mark.parametrize("width", (320, 1920))
def test_layout_holds_at_the_extremes_even_without_images(
        served: tuple[str, dict[str, str]], browser: Browser, width: int) -> None:
    """Images that fail to load (alt text, width attributes) must not widen the page."""
    base, pages = served
    problems = []
    for path in sorted(set(pages.values())):
        page = browser.new_page(viewport={"width": width, "height": 900})
        try:
            page.route("**/_img/**", lambda route: route.abort())
            page.goto(base + path, wait_until="load")
            scroll = page.evaluate("document.documentElement.scrollWidth")
        finally:
            page.close()
        if scroll > width:
            problems.append(f"{path} at {width}px without images: {scroll}px wide")
    assert problems == []


def test_no_serious_accessibility_violations(served: tuple[str, dict[str, str]],
                                             browser: Browser) -> None:
    script = axe_script()
    base, pages = served
    problems = []
    for path in sorted(set(pages.values())):
        page = open_at(browser, base + path, 1280)
        try:
            page.add_script_tag(path=str(script))
            result = page.evaluate("async () => (await axe.run(document)).violations")
        finally:
            page.close()
        problems += [f"{path}: {v['id']} ({v['impact']}): {v['help']} - "
                     f"{[n['target'] for n in v['nodes']][:3]}"
                     for v in result if v["impact"] in ("serious", "critical")]
    assert problems == []


def test_search_box_finds_a_post(served: tuple[str, dict[str, str]], browser: Browser) -> None:
    """Typing a post's title into the header's search box (Pagefind, [search] enabled in
    ssgen.toml) lists that post; the open results pass axe too; the link leads there."""
    base, pages = served
    post = pages["post.html"]
    page = open_at(browser, base + post, 1280)
    try:
        title = page.text_content("article h1") or ""
        page.goto(base + "/", wait_until="load")
        box = page.get_by_role("searchbox", name="Search the site")
        box.fill(title)
        first = page.locator("#site-search-results li a").first
        first.wait_for(state="visible")
        assert first.text_content() == title
        assert "result" in (page.text_content("#site-search-status") or "")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "search-1280.png"))
        page.add_script_tag(path=str(axe_script()))
        violations = page.evaluate("async () => (await axe.run(document)).violations")
        assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
        first.click()
        page.wait_for_url(base + post)
    finally:
        page.close()


def test_the_overlap_check_can_fail() -> None:
    a = {"text": "a", "left": 0, "top": 0, "right": 100, "bottom": 20}
    b = {"text": "b", "left": 50, "top": 10, "right": 150, "bottom": 30}
    c = {"text": "c", "left": 0, "top": 20, "right": 100, "bottom": 40}
    assert overlaps([a, b]) == [("a", "b")] and overlaps([a, c]) == []


def test_the_accessibility_check_can_fail(browser: Browser) -> None:
    script = axe_script()
    page = browser.new_page()
    try:
        page.set_content('<!doctype html><html lang="en"><title>t</title><main>'
                         '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                         '</main></html>')
        page.add_script_tag(path=str(script))
        result = page.evaluate("async () => (await axe.run(document)).violations")
    finally:
        page.close()
    assert any(v["id"] == "image-alt" and v["impact"] == "critical" for v in result)
