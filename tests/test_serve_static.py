"""Static serving of the output folder by ``ssgen serve`` (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from servekit import Running, running_server
from sitekit import DEFAULT_TEMPLATES, DEFAULT_TOML, make_site

TOML_404 = DEFAULT_TOML.split("\n[[routes]]\nname = \"index\"")[0]  # posts only


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    templates = {**DEFAULT_TEMPLATES, "404.html": '{% extends "base.html" %}{% block content %}'
                 "Nothing here{% endblock %}"}
    site = make_site(tmp_path, toml=TOML_404, templates=templates)
    (site / "static" / "css").mkdir(parents=True)
    (site / "static" / "css" / "site.css").write_text("body{color:red}")
    (tmp_path / "secret.txt").write_text("outside the site")
    with running_server(site, cache_control="public, max-age=60") as running:
        yield running


def test_pretty_urls_and_redirects(served: Running) -> None:
    client = served.client
    page = client.get("/blog/post-1/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.content == (served.site / "public/blog/post-1/index.html").read_bytes()
    assert client.get("/blog/post-1/index.html").content == page.content
    bare = client.get("/blog/post-1?x=1")
    assert bare.status_code == 308
    assert bare.headers["location"] == "/blog/post-1/?x=1"
    assert client.get("/css/site.css").headers["content-type"] == "text/css; charset=utf-8"
    assert client.get("/robots.txt").status_code == 200


def test_missing_pages_get_404_html_with_status_404(served: Running) -> None:
    reply = served.client.get("/no/such/page/")
    assert reply.status_code == 404
    assert b"Nothing here" in reply.content
    head = served.client.head("/nope")
    assert head.status_code == 404 and head.content == b""


def test_etag_and_conditional_get(served: Running) -> None:
    first = served.client.get("/blog/post-1/")
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert first.headers["cache-control"] == "public, max-age=60"
    again = served.client.get("/blog/post-1/", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    listed = served.client.get("/blog/post-1/", headers={"if-none-match": f'"x", W/{etag}'})
    assert listed.status_code == 304
    other = served.client.get("/blog/post-1/", headers={"if-none-match": '"other"'})
    assert other.status_code == 200
    file = served.site / "public/blog/post-1/index.html"
    stat = file.stat()
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert served.client.get("/blog/post-1/", headers={"if-none-match": etag}).status_code == 200


def test_head_has_headers_but_no_body(served: Running) -> None:
    get = served.client.get("/blog/post-1/")
    head = served.client.head("/blog/post-1/")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["etag"] == get.headers["etag"]


def test_no_traversal_hidden_files_or_listings(served: Running) -> None:
    raw = httpx.Client(base_url=served.url)
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/blog/%2e%2e/%2e%2e/secret.txt",
                 "/..%2fsecret.txt", "/blog/..%5c..%5csecret.txt", "/.ssgen/manifest.sqlite"):
        reply = raw.get(path)
        assert reply.status_code == 404, path
        assert b"outside the site" not in reply.content
    (served.site / "public" / "blog" / "empty").mkdir()
    assert served.client.get("/blog/empty/").status_code == 404
    assert served.client.get("/css/").status_code == 404
    (served.site / "public" / "link.txt").symlink_to(served.site.parent / "secret.txt")
    assert served.client.get("/link.txt").status_code == 404


def test_pages_are_served_unchanged_without_dev_mode(served: Running) -> None:
    assert b"ssgen-livereload" not in served.client.get("/blog/post-1/").content
    assert served.client.get("/_ssgen/livereload").status_code == 404
