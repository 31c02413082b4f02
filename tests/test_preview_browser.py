"""Draft preview in a real browser (headless Debian chromium through Playwright).

Enables preview through ``/api/preview``, sees the draft's title, edits the draft on the
Sanity test server (a signed webhook tells serve), sees the open page refresh itself with
the edit, then leaves preview through the banner's link and sees the published page.
The page's reload script must not undo that exit: a generation that moves while the
exit is under way (a rebuild round finishing) once reloaded the preview page instead,
cancelling the exit navigation, and ``wait_for_url`` waited out its 60 s.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from mirrorkit import ENV, server_for, write_site
from playwright.sync_api import expect
from servekit import running_server, sanity_webhook
from sitekit import make_site
from starlette.requests import Request
from starlette.responses import Response
from test_incremental import SiteModel
from test_livereload_browser import open_page

from ssgen.serve.preview import Preview
from ssgen.serve.preview.render import DraftPages

PREVIEW = "browser-preview-secret"


def test_preview_shows_refreshes_and_exits(tmp_path: Path) -> None:
    model = SiteModel()
    draft = dict(model.docs["p1"], _id="drafts.p1", title="Draft in the browser")
    model.docs["drafts.p1"] = draft
    with server_for(model) as sanity:
        site = tmp_path / "site"
        write_site(site, model, sanity)
        with running_server(site, preview_secret=PREVIEW, env=ENV) as srv:
            url = f"{srv.url}/api/preview?secret={PREVIEW}&redirect=/blog/beta/"
            with open_page(url) as page:
                heading = page.locator("h1")
                expect(heading).to_have_text("Draft in the browser")
                expect(page.locator("#ssgen-preview-banner")).to_be_visible()
                edited = sanity.put(dict(draft, title="Edited while open"))
                assert sanity_webhook(srv.client, edited).status_code == 200
                expect(heading).to_have_text("Edited while open")
                page.locator("#ssgen-preview-banner a").click()
                page.wait_for_url(f"{srv.url}/")
                page.goto(f"{srv.url}/blog/beta/")
                expect(heading).to_have_text("Title 1")
                expect(page.locator("#ssgen-preview-banner")).to_have_count(0)


def test_a_generation_moving_during_the_exit_does_not_reload_the_preview_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The exit reply is held until the open page has polled a new generation twice:
    the script saw it while the exit was under way, and must not have reloaded."""
    exiting, seen_twice = threading.Event(), threading.Event()
    polls: list[int] = []
    real_generation, real_disable = DraftPages.generation, Preview.disable

    def generation(self: DraftPages) -> str:
        if not exiting.is_set():
            return real_generation(self)
        polls.append(1)
        if len(polls) >= 2:
            seen_twice.set()
        return "moved during the exit"

    async def disable(self: Preview, request: Request) -> Response:
        exiting.set()
        await asyncio.to_thread(seen_twice.wait, 30)  # a cap, not a timing assertion
        return await real_disable(self, request)

    monkeypatch.setattr(DraftPages, "generation", generation)
    monkeypatch.setattr(Preview, "disable", disable)
    site = make_site(tmp_path)
    with running_server(site, preview_secret=PREVIEW) as srv:
        url = f"{srv.url}/api/preview?secret={PREVIEW}&redirect=/blog/post-1/"
        with open_page(url) as page:
            expect(page.locator("#ssgen-preview-banner")).to_be_visible()
            page.locator("#ssgen-preview-banner a").click()
            page.wait_for_url(f"{srv.url}/")
            assert seen_twice.is_set()
            page.goto(f"{srv.url}/blog/post-1/")
            expect(page.locator("h1")).to_have_text("Post 1")
            expect(page.locator("#ssgen-preview-banner")).to_have_count(0)
