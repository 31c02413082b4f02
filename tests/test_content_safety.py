"""Issue 13, items 15 and 16: CMS content is untrusted. URLs from content pass one scheme
rule (``safe_url``, shared with Portable Text links), and image asset ids must follow
Sanity's grammar before they reach a CDN URL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jinja2
import pytest
from default_site_data import ROOT, SCAFFOLD
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import DEFAULT_TEMPLATES, author, make_site, post

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.render.filters import local_image_url, safe_url_filter
from ssgen.render.images.url import image_url
from ssgen.render.portabletext.html import to_html

HOSTILE = ["javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:alert(1)",
           "\x01javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
           "vbscript:msgbox(1)", "jav&#x09;ascript:alert(1)".replace("&#x09;", "\n")]
SAFE = ["/blog/", "https://example.com/a?b=c#d", "http://x", "mailto:a@b.c", "tel:+1",
        "#top", "../up", "?page=2", "relative/path", "/a:b", "?x=javascript:1"]


@pytest.mark.parametrize("url", HOSTILE)
def test_item15_safe_url_turns_unsafe_schemes_into_a_fragment(url: str) -> None:
    assert safe_url_filter(url) == "#"


@pytest.mark.parametrize("url", SAFE)
def test_item15_safe_url_keeps_safe_urls(url: str) -> None:
    assert safe_url_filter(url) == url


def test_item15_safe_url_of_nothing_is_empty() -> None:
    assert safe_url_filter(None) == ""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["safe_url"] = safe_url_filter
    assert env.from_string("[{{ x.href | safe_url }}]").render(x={"href": None}) == "[]"
    lenient = jinja2.Environment(autoescape=True)
    lenient.filters["safe_url"] = safe_url_filter
    assert lenient.from_string("[{{ x.href | safe_url }}]").render(x={}) == "[]"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.sampled_from(HOSTILE + SAFE),
                 st.builds(lambda s, r: s + ":" + r,
                           st.text(alphabet="jJavsriptcmlohe\t\n\x00 :/", max_size=12),
                           st.text(max_size=8))))
def test_item15_safe_url_and_portable_text_links_share_one_rule(url: str) -> None:
    block = {"_type": "block", "_key": "b", "markDefs": [{"_key": "l", "_type": "link",
                                                          "href": url}],
             "children": [{"_type": "span", "_key": "s", "text": "x", "marks": ["l"]}]}
    linked = "<a href=" in to_html([block])
    assert linked == (safe_url_filter(url) == url)
    if not linked:
        assert safe_url_filter(url) == "#"


def _inject_navigation(site: Path, href: str) -> None:
    dataset = site / "content" / "dataset.ndjson"
    lines = dataset.read_text(encoding="utf-8").splitlines()
    docs = [json.loads(line) for line in lines]
    for doc in docs:
        if doc["_type"] == "siteSettings":
            doc["navigation"].append({"_type": "navItem", "_key": "evil", "title": "Evil",
                                      "href": href})
    dataset.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")


@pytest.mark.parametrize("origin", [pytest.param(ROOT, id="default"),
                                    pytest.param(SCAFFOLD, id="scaffold")])
def test_item15_bundled_theme_and_starter_never_link_a_javascript_href(
    origin: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    for name in ("ssgen.toml", "templates", "content", "static"):
        source = origin / name
        if source.is_dir():
            shutil.copytree(source, site / name)
        elif source.exists():
            site.mkdir(exist_ok=True)
            shutil.copy(source, site / name)
    _inject_navigation(site, "javascript:alert(document.cookie)")
    report = build(load_config(site), full=True)
    assert report.ok, [f.message for f in report.failures]
    pages = [p for p in (site / "public").rglob("*.html")]
    assert pages
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "javascript:" not in html.lower(), page
        assert '>Evil</a>' in html, page  # the item is shown, its link neutralised


def test_item15_local_image_url_refuses_unsafe_schemes() -> None:
    assert local_image_url({"asset": {"url": "/img/a.jpg"}}) == "/img/a.jpg"
    with pytest.raises(ValueError, match="unsafe image URL 'javascript:alert"):
        local_image_url({"asset": {"url": "javascript:alert(1)"}})


PROJECT = {"project_id": "zp7mbokg", "dataset": "production"}


@pytest.mark.parametrize("asset_id", [
    "image-../../../evil?x=1#-100x100-jpg",
    "image-abc-100x100-jpg/../../x",
    "image-abc-100x100-jpg?x=1",
    "image-a b-100x100-jpg",
    "image-abc-100x100-jpg-extra",
    "image-abc-100x100-",
    "image-%2e%2e-100x100-jpg",
    "image-abc-100x100-jpg\n",
])
def test_item16_crafted_asset_ids_are_refused_naming_the_id(asset_id: str) -> None:
    with pytest.raises(ValueError, match="malformed image asset id") as caught:
        image_url({"asset": {"_ref": asset_id}}, **PROJECT)
    assert repr(asset_id) in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_item16_any_accepted_id_gives_a_url_with_nothing_unencoded(middle: str) -> None:
    try:
        url = image_url(f"image-{middle}-10x20-jpg", **PROJECT)
    except ValueError:
        return
    path = url.removeprefix("https://cdn.sanity.io/images/zp7mbokg/production/")
    assert path == f"{middle}-10x20.jpg"
    assert middle.isascii() and all(c.isalnum() or c == "_" for c in middle)


def test_item16_a_crafted_id_fails_its_page_with_the_id_and_builds_the_rest(
    tmp_path: Path,
) -> None:
    toml = ('[source]\ntype = "local"\nfiles = ["content/data.ndjson"]\n'
            'project_id = "zp7mbokg"\ndataset = "production"\n'
            '[site]\ntitle = "T"\nbase_url = "https://example.com"\n'
            '[[routes]]\nname = "post"\npath = "/blog/{slug}/"\ntemplate = "post.html"\n'
            'query = \'*[_type == "post"]{_id, title, image, "slug": slug.current}\'\n')
    evil = "image-../../../evil?x=1#-100x100-jpg"
    docs = [author("a1", "Ada"),
            post(1, image={"_type": "image", "asset": {"_ref": evil}}),
            post(2, image={"_type": "image", "asset": {
                "_ref": "image-Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000-jpg"}})]
    templates = {**DEFAULT_TEMPLATES, "post.html": (
        '{% extends "base.html" %}{% block content %}'
        '<img src="{{ page.image | image_url(width=100) }}">{% endblock %}')}
    site = make_site(tmp_path, docs=docs, toml=toml, templates=templates)
    report = build(load_config(site), full=True)
    assert [f.path for f in report.failures] == ["/blog/post-1/"]
    assert repr(evil) in report.failures[0].message
    assert not (site / "public/blog/post-1/index.html").exists()
    good = (site / "public/blog/post-2/index.html").read_text()
    assert "cdn.sanity.io/images/zp7mbokg/production/Tb9Ew8CXIwaY6R1kjMvI0uRR" in good
    assert not any("evil" in p.name for p in (site / "public").rglob("*"))
