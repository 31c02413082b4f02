"""Redirects (issue 17): resolution, ``[[redirects]]`` validation, the files a build
writes, ``ssgen serve``'s answers and the S3 metadata of the stubs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sitekit import DEFAULT_TOML, author, make_site, output_files, post, write_docs

from ssgen.build.pipeline import build
from ssgen.config.deploy import DeployConfig
from ssgen.config.load import load_config
from ssgen.config.redirects import RedirectRule
from ssgen.deploy.plan import object_meta
from ssgen.deploy.sync import redirect_stubs
from ssgen.errors import ConfigError
from ssgen.manifest.store import Manifest
from ssgen.render.redirects import load_redirects, redirects_json
from ssgen.routes.redirects import OldPath, Redirect, RouteRedirects, resolve
from ssgen.serve.static import StaticSite


def _slug(n: int, slug: str) -> dict[str, object]:
    return post(n, slug={"_type": "slug", "current": slug})


def _build(site: Path, docs: list[dict[str, object]] | None = None) -> None:
    if docs is not None:
        write_docs(site, docs)
    report = build(load_config(site))
    assert report.ok, report.failures


# -- resolution (pure) -------------------------------------------------------------------

def test_chains_collapse_and_gone_documents_answer_410() -> None:
    old = [OldPath("/a/", "post", "p1"), OldPath("/b/", "post", "p1"),
           OldPath("/x/", "post", "p2")]
    found = resolve(old, {("post", "p1"): "/c/"}, {}, [], lambda _: False)
    assert found == [Redirect("/a/", "/c/", 301), Redirect("/b/", "/c/", 301),
                     Redirect("/x/", None, 410)]


def test_route_gone_target_opt_out_and_hand_rules() -> None:
    old = [OldPath("/blog/x/", "post", "p2"), OldPath("/n/y/", "note", "p3")]
    routes = {"post": RouteRedirects(gone="/blog/"), "note": RouteRedirects(enabled=False)}
    rules = [RedirectRule("/old", "/blog/x/", 302), RedirectRule("/live/", "/elsewhere/"),
             RedirectRule("/ext", "https://example.org/", 301, external=True)]
    found = resolve(old, {}, routes, rules, lambda path: path == "/live/")
    assert found == [Redirect("/blog/x/", "/blog/", 301),
                     Redirect("/ext", "https://example.org/", 301, external=True),
                     Redirect("/old", "/blog/", 302)]  # collapsed through /blog/x/


def test_a_circle_through_a_gone_path_becomes_410() -> None:
    old = [OldPath("/blog/", "post", "p1")]
    found = resolve(old, {}, {"post": RouteRedirects(gone="/blog/")}, [], lambda _: False)
    assert found == [Redirect("/blog/", None, 410)]


def test_redirects_json_round_trips_and_rejects_damage() -> None:
    items = [Redirect("/a/", "/c/", 301), Redirect("/g/", None, 410)]
    assert sorted(load_redirects(redirects_json(items)).values()) == items
    assert load_redirects(b"{not json") == {}
    assert load_redirects(b'{"version": 1, "redirects": [{"from": "/a/", "status": 301}]}') == {}


# -- [[redirects]] validation ----------------------------------------------------------

@pytest.mark.parametrize(("entries", "message"), [
    ('from = "/a/"\nto = "/b/"\n[[redirects]]\nfrom = "/b/"\nto = "/a/"', "redirect loop"),
    ('from = "/a/"\nto = "/a"', "redirects to itself"),
    ('from = "/a/"\nto = "/b/"\nstatus = 200', "not a redirect status"),
    ('from = "/a/"\nto = "b/"', "must start with '/'"),
    ('from = "/a/"\nto = "https://evil.example/"', "open redirect"),
    ('from = "/a/"\nto = "//evil.example/"', "open redirect"),
    ('from = "/a/"\nto = "javascript:alert(1)"', "open redirect"),
    ('from = "/a/"\nto = "ftp://x/"\nexternal = true', "absolute http"),
    ('from = "https://x.example/a"\nto = "/b/"', "from is a path of this site"),
    ('from = "/a b/"\nto = "/b/"', "percent-encode"),
    ('from = "/a/../b/"\nto = "/b/"', "'..' segments"),
    ('from = "/a/"\nstatus = 410\nto = "/b/"', "410 (gone) has no target"),
    ('from = "/a/"', "required for status 301"),
    ('from = "/a/"\nto = "/b/"\n[[redirects]]\nfrom = "/a/index.html"\nto = "/c/"',
     "also the from of redirects[0]"),
    ('from = "/a/"\nto = "/b/"\nstatus = "301"', "must be an integer"),
    ('from = "/a/"\ntarget = "/b/"', "unknown key"),
])
def test_bad_redirects_are_refused_naming_the_key(tmp_path: Path, entries: str,
                                                  message: str) -> None:
    site = make_site(tmp_path, toml=DEFAULT_TOML + "\n[[redirects]]\n" + entries + "\n")
    with pytest.raises(ConfigError, match="redirects\\[") as caught:
        load_config(site)
    assert message in str(caught.value)
    assert "ssgen.toml:" in str(caught.value)


def test_route_options_are_checked(tmp_path: Path) -> None:
    toml = DEFAULT_TOML.replace('tags = ["post:{slug}"]',
                                'tags = ["post:{slug}"]\nredirects = false\ngone = "/blog/"')
    with pytest.raises(ConfigError, match=r"routes\[0\]\.gone: gone has no effect"):
        load_config(make_site(tmp_path, toml=toml))
    toml = DEFAULT_TOML.replace('tags = ["post:{slug}"]', 'tags = ["post:{slug}"]\ngone = "x"')
    with pytest.raises(ConfigError, match=r"routes\[0\]\.gone: 'x' must start with '/'"):
        load_config(make_site(tmp_path, toml=toml))


def test_external_targets_are_allowed_when_asked(tmp_path: Path) -> None:
    toml = DEFAULT_TOML + ('\n[[redirects]]\nfrom = "/shop/"\nto = "https://shop.example/"'
                           "\nexternal = true\nstatus = 308\n")
    rules = load_config(make_site(tmp_path, toml=toml)).redirects
    assert rules == (RedirectRule("/shop/", "https://shop.example/", 308, True),)


# -- the build, serve and deploy -------------------------------------------------------

def test_a_rename_publishes_every_form(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    _build(site)
    _build(site, [author("a1", "Ada"), _slug(1, "one"), post(2)])
    _build(site, [author("a1", "Ada"), _slug(1, "uno"), post(2)])
    files = output_files(site)
    stub = files["blog/post-1/index.html"]
    assert b'http-equiv="refresh" content="0; url=/blog/uno/"' in stub
    assert b'<link rel="canonical" href="https://example.com/blog/uno/">' in stub
    assert b'content="noindex"' in stub
    assert files["_redirects"].splitlines()[1:] == [b"/blog/one/ /blog/uno/ 301",
                                                    b"/blog/post-1/ /blog/uno/ 301"]
    assert b'"to": "/blog/uno/"' in files["redirects.json"]
    with Manifest.open(site / ".ssgen" / "manifest.sqlite") as manifest:
        owned = manifest.files(kind="generated")
        assert {"blog/one/index.html", "blog/post-1/index.html", "_redirects"} <= set(owned)
    served = StaticSite(site / "public")
    reply = served.respond("/blog/one", {})
    assert (reply.status_code, reply.headers["location"]) == (301, "/blog/uno/")
    assert served.respond("/blog/uno/", {}).status_code == 200


def test_a_new_page_at_an_old_path_replaces_the_redirect(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    _build(site)
    _build(site, [author("a1", "Ada"), _slug(1, "one"), post(2)])
    _build(site, [author("a1", "Ada"), _slug(1, "one"), _slug(2, "post-1")])
    files = output_files(site)
    assert b"<h1>Post 2</h1>" in files["blog/post-1/index.html"]
    assert files["_redirects"].splitlines()[1:] == [b"/blog/post-2/ /blog/post-1/ 301"]


def test_unpublished_documents_get_410_or_the_routes_gone_path(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    _build(site)
    _build(site, [author("a1", "Ada"), post(1)])
    assert output_files(site)["_redirects"].splitlines()[1:] == [
        b"/blog/post-2/ /blog/post-2/ 410"]
    reply = StaticSite(site / "public").respond("/blog/post-2/", {})
    assert reply.status_code == 410 and b"noindex" in reply.body
    toml = DEFAULT_TOML.replace('tags = ["post:{slug}"]', 'tags = ["post:{slug}"]\ngone = "/blog/"')
    (site / "ssgen.toml").write_text(toml)
    _build(site)
    assert output_files(site)["_redirects"].splitlines()[1:] == [
        b"/blog/post-2/ /blog/ 301"]
    _build(site, [author("a1", "Ada"), post(1), post(2)])  # republished: a page again
    assert "_redirects" not in output_files(site)


def test_a_route_can_opt_out(tmp_path: Path) -> None:
    toml = DEFAULT_TOML.replace('tags = ["post:{slug}"]', 'tags = ["post:{slug}"]\nredirects = false')
    site = make_site(tmp_path, toml=toml)
    _build(site)
    _build(site, [author("a1", "Ada"), _slug(1, "one")])
    files = output_files(site)
    assert "_redirects" not in files and "blog/post-1/index.html" not in files


def test_static_files_win_over_stubs(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (site / "static" / "blog" / "post-1").mkdir(parents=True)
    (site / "static" / "blog" / "post-1" / "index.html").write_text("mine")
    _build(site, [author("a1", "Ada"), _slug(1, "one"), post(2)])
    _build(site, [author("a1", "Ada"), _slug(1, "uno"), post(2)])
    assert output_files(site)["blog/one/index.html"].startswith(b"<!doctype html>")


def test_deploy_metadata_of_stubs(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    _build(site)
    _build(site, [author("a1", "Ada"), _slug(1, "one")])
    moved = redirect_stubs(site / "public")
    assert moved == {"blog/post-1/index.html": "/blog/one/", "blog/post-2/index.html": None}
    settings = DeployConfig()
    meta = object_meta("blog/post-1/index.html", "generated", settings, moved=moved)
    assert (meta.redirect, meta.gone) == ("/blog/one/", False)
    gone = object_meta("blog/post-2/index.html", "generated", settings, moved=moved)
    assert (gone.redirect, gone.gone) == (None, True)
    plain = object_meta("blog/one/index.html", "page", settings, moved=moved)
    assert plain.fingerprint == object_meta("blog/one/index.html", "page", settings).fingerprint
    assert meta.fingerprint != object_meta("blog/post-1/index.html", "generated",
                                           settings).fingerprint



def test_editing_redirects_needs_no_full_build(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    _build(site)
    toml = DEFAULT_TOML + '\n[[redirects]]\nfrom = "/old/"\nto = "/blog/"\nstatus = 302\n'
    (site / "ssgen.toml").write_text(toml)
    report = build(load_config(site))
    assert not report.full and report.ok
    assert output_files(site)["_redirects"].splitlines()[1:] == [b"/old/ /blog/ 302"]
    (site / "ssgen.toml").write_text(DEFAULT_TOML)
    _build(site)
    assert not {"_redirects", "old/index.html"} & output_files(site).keys()
