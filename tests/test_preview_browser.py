"""Draft preview in a real browser (headless Debian chromium through Playwright).

Enables preview through ``/api/preview``, sees the draft's title, edits the draft on the
Sanity test server (a signed webhook tells serve), sees the open page refresh itself with
the edit, then leaves preview through the banner's link and sees the published page.
"""

from __future__ import annotations

from pathlib import Path

from mirrorkit import ENV, server_for, write_site
from playwright.sync_api import expect
from servekit import running_server, sanity_webhook
from test_incremental import SiteModel
from test_livereload_browser import open_page

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
