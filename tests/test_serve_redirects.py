"""Redirects as ``ssgen serve`` answers them, through the real server on 127.0.0.1: the
request's query string rides along on a redirect unless the target has its own, and
``[[redirects]]`` edits take effect under ``--watch`` (which reloads ssgen.toml)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st
from servekit import running_server, wait_for
from sitekit import DEFAULT_TOML, make_site

from ssgen.serve.static import with_query

RULES = """
[[redirects]]
from = "/old/"
to = "/blog/"

[[redirects]]
from = "/moved/"
to = "/blog/post-1/"
status = 308

[[redirects]]
from = "/shop/"
to = "https://shop.example/?ref=site"
external = true
"""


def location(srv: object, url: str) -> tuple[int, str | None]:
    reply = srv.client.get(url)  # type: ignore[attr-defined]
    return reply.status_code, reply.headers.get("location")


def test_the_query_string_is_kept_unless_the_target_has_one(tmp_path: Path) -> None:
    site = make_site(tmp_path, toml=DEFAULT_TOML + RULES)
    with running_server(site, secret=None) as srv:
        assert location(srv, "/old/?x=1") == (301, "/blog/?x=1")
        assert location(srv, "/old?x=1&y=%C3%A9") == (301, "/blog/?x=1&y=%C3%A9")
        assert location(srv, "/old/") == (301, "/blog/")
        assert location(srv, "/moved/?utm_source=mail") == (308, "/blog/post-1/?utm_source=mail")
        assert location(srv, "/shop/?x=1") == (301, "https://shop.example/?ref=site")
        reply = srv.client.get("/old/?x=1", follow_redirects=True)
        assert reply.status_code == 200 and str(reply.url).endswith("/blog/?x=1")


def test_redirect_edits_take_effect_while_serve_watches(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    toml = site / "ssgen.toml"
    with running_server(site, secret=None, dev=True, watch=True) as srv:
        assert location(srv, "/old/?x=1")[0] == 404
        toml.write_text(DEFAULT_TOML + RULES, encoding="utf-8")
        wait_for(lambda: location(srv, "/old/?x=1") == (301, "/blog/?x=1"),
                 what="the new redirect")
        toml.write_text(DEFAULT_TOML + RULES.replace('to = "/blog/"\n', 'to = "/blog/post-2/"\n'
                                                     'status = 302\n', 1), encoding="utf-8")
        wait_for(lambda: location(srv, "/old/") == (302, "/blog/post-2/"),
                 what="the edited redirect")
        toml.write_text(DEFAULT_TOML, encoding="utf-8")
        wait_for(lambda: location(srv, "/old/")[0] == 404, what="the removed redirect")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["/new/", "/a/b.html", "https://ex.com/x", "https://ex.com/x?own=1",
                        "/new/#top"]),
       st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30))
def test_with_query_keeps_the_query_as_one_plain_header_line(target: str, query: str) -> None:
    out = with_query(target, query)
    assert out.isascii() and not any(c.isspace() or ord(c) < 32 or c == "\x7f" for c in out)
    parts, own = urlsplit(out), urlsplit(target)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        own.scheme, own.netloc, own.path, own.fragment)
    if own.query or not query:
        assert out == target
    else:
        assert parts.query and "#" not in parts.query
