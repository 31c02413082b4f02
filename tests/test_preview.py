"""Draft preview on serve, and /api/locations: the handshake, the cookie, what a preview
session sees, and that drafts reach nobody else (no file, no cookieless request)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mirrorkit import ENV, server_for, write_site
from sanity_server import SanityTestServer
from servekit import Running, running_server, sanity_webhook, wait_for, wait_idle
from sitekit import run_cli
from test_incremental import SiteModel

from ssgen.build.inspect import document_locations
from ssgen.config.load import load_config
from ssgen.serve.preview import DraftPages, site_identity
from ssgen.serve.preview.cookie import COOKIE, mint, safe_redirect, valid

PREVIEW = "preview-secret-for-tests"
DRAFT_TITLE = "Secret draft title"
LOCATIONS = "locations-only-token"


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[Running, SanityTestServer, SiteModel]]:
    model = SiteModel()
    model.docs["drafts.p1"] = dict(model.docs["p1"], _id="drafts.p1", title=DRAFT_TITLE)
    with server_for(model) as sanity:
        site = tmp_path / "site"
        write_site(site, model, sanity)
        with running_server(site, preview_secret=PREVIEW, locations_token=LOCATIONS,
                            env=ENV) as running:
            yield running, sanity, model


def enable(running: Running, **params: str) -> Any:
    return running.client.get("/api/preview", params=params, follow_redirects=False)


def cookie_of(response: Any) -> str:
    header = response.headers["set-cookie"]
    return header.split(";", 1)[0].split("=", 1)[1]


def get(running: Running, path: str, cookie: str | None = None) -> Any:
    headers = {"cookie": f"{COOKIE}={cookie}"} if cookie is not None else {}
    return running.client.get(path, headers=headers)


def no_draft_on_disk(site: Path) -> bool:
    return all(DRAFT_TITLE.encode() not in p.read_bytes()
               for p in (site / "public").rglob("*") if p.is_file())


def test_preview_shows_drafts_to_the_cookie_only(served: Any) -> None:
    running, _, _ = served
    assert enable(running, secret="wrong", redirect="/blog/beta/").status_code == 401
    response = enable(running, secret=PREVIEW, redirect="/blog/beta/")
    assert response.status_code == 307 and response.headers["location"] == "/blog/beta/"
    header = response.headers["set-cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=None", "Max-Age=3600", "Path=/"):
        assert attribute in header
    cookie = cookie_of(response)
    page = get(running, "/blog/beta/", cookie)
    assert page.status_code == 200 and DRAFT_TITLE in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-robots-tag"] == "noindex"
    assert 'href="/api/preview/disable"' in page.text and "/api/preview/state" in page.text
    published = get(running, "/blog/beta/")
    assert published.status_code == 200 and DRAFT_TITLE not in published.text
    assert "Title 1" in published.text
    assert no_draft_on_disk(running.site)
    disabled = running.client.get("/api/preview/disable", follow_redirects=False)
    assert disabled.status_code == 307 and "Max-Age=0" in disabled.headers["set-cookie"]


def test_forged_expired_and_other_site_cookies_get_the_published_site(served: Any) -> None:
    running, _, _ = served
    site = site_identity(load_config(running.site, env=ENV))
    good = mint(PREVIEW, site, time.time())
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    expired = mint(PREVIEW, site, time.time() - 7200)
    other_site = mint(PREVIEW, "https://other.example|/elsewhere", time.time())
    other_secret = mint("another-secret", site, time.time())
    for cookie in (forged, expired, other_site, other_secret, "v1.99999999999.x", ""):
        page = get(running, "/blog/beta/", cookie)
        assert DRAFT_TITLE not in page.text, cookie
        assert get(running, "/api/preview/state", cookie).status_code == 401
    assert DRAFT_TITLE in get(running, "/blog/beta/", good).text


def test_the_studio_secret_is_checked_against_sanity(served: Any) -> None:
    running, sanity, _ = served
    sanity.put({"_id": "drafts.sanity-preview-url-secret.abc", "_type": "sanity.previewUrlSecret",
                "secret": "minted-by-studio", "studioUrl": "https://studio.test"})
    url = "/api/draft-mode/enable"
    params = {"sanity-preview-secret": "minted-by-studio",
              "sanity-preview-pathname": "/blog/beta/", "sanity-preview-perspective": "drafts"}
    response = running.client.get(url, params=params, follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/blog/beta/"
    assert DRAFT_TITLE in get(running, "/blog/beta/", cookie_of(response)).text
    wrong = {**params, "sanity-preview-secret": "guessed"}
    assert running.client.get(url, params=wrong).status_code == 401
    sanity.now = "2099-01-01T00:00:00Z"  # the secret document is now older than an hour
    assert running.client.get(url, params=params).status_code == 401


def test_a_draft_edit_moves_the_reload_generation_and_the_page(served: Any) -> None:
    running, sanity, model = served
    cookie = cookie_of(enable(running, secret=PREVIEW))
    before = get(running, "/api/preview/state", cookie).json()["generation"]
    draft = sanity.put(dict(model.docs["p1"], _id="drafts.p1", title="Edited draft"))
    assert sanity_webhook(running.client, draft).status_code == 200
    wait_idle(running.client)
    wait_for(lambda: get(running, "/api/preview/state", cookie).json()["generation"] != before,
             what="the generation to move")
    assert "Edited draft" in get(running, "/blog/beta/", cookie).text
    assert "Edited draft" not in get(running, "/blog/beta/").text
    assert no_draft_on_disk(running.site)


def test_redirects_stay_on_the_site() -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil", "evil", None, "/\x00"):
        assert safe_redirect(target) == "/"
    assert safe_redirect("/blog/x/?a=1") == "/blog/x/?a=1"
    assert not valid("s", "site", mint("s", "site", 0.0, max_age=10), now=11.0)


def test_locations_lists_the_pages_of_a_document(served: Any) -> None:
    running, _, _ = served
    expected = document_locations(load_config(running.site, env=ENV), "p1")
    hrefs = {item["href"] for item in expected["locations"]}
    assert {"/blog/beta/", "/authors/a2/"} <= hrefs
    titled = {item["href"]: item["title"] for item in expected["locations"]}
    assert titled["/blog/beta/"] == "Site"
    auth = {"authorization": f"Bearer {PREVIEW}", "origin": "https://studio.test"}
    answer = running.client.get("/api/locations", params={"id": "drafts.p1"}, headers=auth)
    assert answer.status_code == 200 and answer.json() == expected
    assert answer.headers["access-control-allow-origin"] == "https://studio.test"
    token = running.client.get("/api/locations", params={"id": "p1", "secret": ENV[
        "SANITY_API_TOKEN"]})
    assert token.json() == expected
    studio = running.client.get("/api/locations", params={"id": "p1"},
                                headers={"authorization": f"Bearer {LOCATIONS}"})
    assert studio.json() == expected
    assert enable(running, secret=LOCATIONS).status_code == 401  # locations only
    assert running.client.get("/api/locations", params={"id": "p1"}).status_code == 401
    other = running.client.get("/api/locations", params={"id": "p1"},
                               headers={**auth, "origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = running.client.options("/api/locations", headers={
        "origin": "https://studio.test", "access-control-request-method": "GET"})
    assert preflight.status_code == 204
    assert "authorization" in preflight.headers["access-control-allow-headers"]


def test_inspect_doc_prints_what_locations_answers(served: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    running, _, _ = served
    monkeypatch.setenv("SANITY_API_TOKEN", ENV["SANITY_API_TOKEN"])
    result = run_cli("--site", str(running.site), "inspect", "--doc", "p1", "--json")
    assert result.exit_code == 0, result.output
    expected = document_locations(load_config(running.site, env=ENV), "p1")
    printed = json.loads(result.stdout)
    assert printed.pop("format") == 1  # every `inspect --json` carries its format version
    assert printed == expected
    text = run_cli("--site", str(running.site), "inspect", "--doc", "p1").stdout
    assert "/blog/beta/\tSite" in text.splitlines()


def test_a_local_site_previews_its_drafts_without_writing_them(tmp_path: Path) -> None:
    model = SiteModel()
    model.docs["drafts.p1"] = dict(model.docs["p1"], _id="drafts.p1", title=DRAFT_TITLE)
    model.write(tmp_path)
    config = load_config(tmp_path)
    pages = DraftPages(config)
    html = pages.render("/blog/beta")
    assert html is not None and DRAFT_TITLE in html
    assert pages.render("/no/such/page/") is None
    assert not (tmp_path / "public").exists()
    before = pages.generation()
    model.docs["drafts.p1"]["title"] = "Saved again"
    model.write(tmp_path)
    assert pages.generation() != before
    assert "Saved again" in (pages.render("/blog/beta/") or "")
