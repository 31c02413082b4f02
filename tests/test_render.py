"""Tests for ssgen.render.environment / render_filters / render_generated: real templates on disk."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.config.load import (
    Config,
    FeedConfig,
    MarkdownConfig,
    SiteConfig,
    SitemapConfig,
    SourceConfig,
)
from ssgen.errors import RenderError
from ssgen.render import generated
from ssgen.render.environment import Renderer
from ssgen.render.generated import (
    absolute,
    render_feed,
    render_robots,
    render_sitemap,
    sitemap_urls,
    to_rfc3339,
)
from ssgen.routes.page import PageSpec

ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def make_config(
    site_dir: Path, *, project_id: str = "", base_url: str = "https://ex.com"
) -> Config:
    return Config(
        site_dir=site_dir,
        site=SiteConfig(title="Ex", base_url=base_url, description="A site"),
        source=SourceConfig(project_id=project_id, dataset="production" if project_id else ""),
        data={},
        routes=(),
        markdown=MarkdownConfig(),
        feed=None,
        sitemap=SitemapConfig(),
        hash="test",
    )


def site(tmp_path: Path, files: dict[str, str], **kwargs: Any) -> Renderer:
    templates = tmp_path / "templates"
    for name, text in files.items():
        path = templates / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    templates.mkdir(exist_ok=True)
    return Renderer(make_config(tmp_path, **kwargs))


def render_error(renderer: Renderer, name: str, context: dict[str, Any]) -> RenderError:
    with pytest.raises(RenderError) as info:
        renderer.render(name, context)
    return info.value


# --- basics ---------------------------------------------------------------------------


def test_autoescape_html_and_keeps_trailing_newline(tmp_path: Path) -> None:
    r = site(tmp_path, {"a.html": "<p>{{ x }}</p>\n", "a.txt": "{{ x }}"})
    assert r.render("a.html", {"x": "<b>&"}) == "<p>&lt;b&gt;&amp;</p>\n"
    assert r.render("a.txt", {"x": "<b>"}) == "<b>"


def test_builtin_templates_under_prefix(tmp_path: Path) -> None:
    r = site(tmp_path, {})
    out = r.render("_ssgen/robots.txt", {"sitemap_url": None})
    assert out.startswith("User-agent: *")


# --- errors with file:line --------------------------------------------------------------


def test_undefined_variable_names_template_and_line(tmp_path: Path) -> None:
    r = site(tmp_path, {"post.html": "<h1>{{ page.title }}</h1>\n<p>\n{{ pgae.body }}\n</p>\n"})
    err = render_error(r, "post.html", {"page": {"title": "t"}})
    assert err.template == "templates/post.html"
    assert err.line == 3
    assert "pgae" in str(err)
    assert str(err).startswith("templates/post.html:3:")


def test_undefined_in_included_partial_points_at_partial(tmp_path: Path) -> None:
    r = site(
        tmp_path,
        {
            "page.html": "a\n{% include 'partials/meta.html' %}\n",
            "partials/meta.html": "x\ny\n{{ missing_var }}\n",
        },
    )
    err = render_error(r, "page.html", {})
    assert (err.template, err.line) == ("templates/partials/meta.html", 3)


def test_undefined_in_block_of_child_and_in_base(tmp_path: Path) -> None:
    files = {
        "base.html": "<html>\n<title>{% block title %}{% endblock %}</title>\n"
        "{% block body %}{% endblock %}\n{{ site_nme }}\n</html>\n",
        "child.html": "{% extends 'base.html' %}\n{% block title %}T{% endblock %}\n"
        "{% block body %}\n\n{{ page.nope }}\n{% endblock %}\n",
    }
    r = site(tmp_path, files)
    err = render_error(r, "child.html", {"page": {}})
    assert (err.template, err.line) == ("templates/child.html", 5)
    files["child.html"] = "{% extends 'base.html' %}\n{% block body %}ok{% endblock %}\n"
    r = site(tmp_path, files)
    err = render_error(r, "child.html", {"page": {}})
    assert (err.template, err.line) == ("templates/base.html", 4)


def test_error_inside_imported_macro_points_at_macro_file(tmp_path: Path) -> None:
    r = site(
        tmp_path,
        {
            "page.html": "{% import 'macros.html' as m %}\n{{ m.card(page) }}\n",
            "macros.html": "{% macro card(p) %}\n<div>\n{{ p.nope.deeper }}\n</div>\n"
            "{% endmacro %}",
        },
    )
    err = render_error(r, "page.html", {"page": {}})
    assert (err.template, err.line) == ("templates/macros.html", 3)


def test_error_inside_portable_text_macro_points_at_it(tmp_path: Path) -> None:
    r = site(
        tmp_path,
        {
            "portable_text.html": "\n{% macro type_callout(value) %}{{ value.txet }}{% endmacro %}",
            "p.html": "x\n{{ body | portable_text }}",
        },
    )
    err = render_error(r, "p.html", {"body": [{"_type": "callout", "text": "t"}]})
    assert (err.template, err.line) == ("templates/portable_text.html", 2)
    assert "txet" in str(err)


def test_syntax_error_with_line(tmp_path: Path) -> None:
    r = site(tmp_path, {"bad.html": "ok\nok\n{{ x | }}\n", "open.html": "a\n{% if x %}\nb\n"})
    err = render_error(r, "bad.html", {"x": 1})
    assert (err.template, err.line) == ("templates/bad.html", 3)
    assert "syntax" in str(err)
    err = render_error(r, "open.html", {"x": 1})
    assert (err.template, err.line) == ("templates/open.html", 2)
    assert "endif" in str(err)


def test_syntax_error_in_included_template(tmp_path: Path) -> None:
    r = site(tmp_path, {"a.html": "{% include 'b.html' %}", "b.html": "line\n{{ x | }}\n"})
    err = render_error(r, "a.html", {"x": 1})
    assert (err.template, err.line) == ("templates/b.html", 2)


def test_missing_template_and_missing_include(tmp_path: Path) -> None:
    r = site(tmp_path, {"a.html": "one\n{% include 'nope.html' %}\n"})
    err = render_error(r, "missing.html", {})
    assert err.template == "templates/missing.html"
    assert "missing.html" in str(err)
    err = render_error(r, "a.html", {})
    assert (err.template, err.line) == ("templates/a.html", 2)
    assert "nope.html" in str(err)


def test_exception_in_filter_becomes_render_error_with_line(tmp_path: Path) -> None:
    r = site(tmp_path, {"a.html": "\n\n{{ 1 // 0 }}", "b.html": "\n{{ x | image_url }}"})
    err = render_error(r, "a.html", {})
    assert (err.template, err.line) == ("templates/a.html", 3)
    assert "ZeroDivisionError" in str(err)
    err = render_error(r, "b.html", {"x": {"asset": {"_ref": "image-abc-1x1-png"}}})
    assert (err.template, err.line) == ("templates/b.html", 2)
    assert "project_id" in str(err)


# --- filters through real templates ------------------------------------------------------


def test_markdown_filter_returns_markup(tmp_path: Path) -> None:
    r = site(tmp_path, {"m.html": "{{ text | markdown }}"})
    out = r.render("m.html", {"text": "# Hi\n\nsome *em* & <b>"})
    assert "<h1" in out and "<em>em</em>" in out
    assert "&lt;b&gt;" in out  # html = false: raw HTML is escaped once, not twice
    assert "&amp;lt;" not in out


def test_portable_text_default_and_markup(tmp_path: Path) -> None:
    r = site(tmp_path, {"p.html": "<div>{{ body | portable_text }}</div>"})
    blocks = [block("Hello <world>", marks=["strong"])]
    out = r.render("p.html", {"body": blocks})
    assert out == "<div><p><strong>Hello &lt;world&gt;</strong></p></div>"


def test_portable_text_macros_from_convention_template(tmp_path: Path) -> None:
    macros = (
        "{% macro type_callout(value) %}<aside>{{ value.text }}</aside>{% endmacro %}\n"
        "{% macro mark_link(mark_def, children) %}"
        '<a class="x" href="{{ mark_def.href }}">{{ children }}</a>{% endmacro %}\n'
        "{% macro mark_strong(mark_def, children, name) %}<b>{{ children }}</b>{% endmacro %}\n"
    )
    r = site(tmp_path, {"portable_text.html": macros, "p.html": "{{ body | portable_text }}"})
    body = [
        {"_type": "callout", "_key": "c", "text": "Note <1>"},
        block(
            "go",
            marks=["l1", "strong"],
            mark_defs=[{"_key": "l1", "_type": "link", "href": "https://a.b/?q=1&r=2"}],
        ),
    ]
    out = r.render("p.html", {"body": body})
    assert "<aside>Note &lt;1&gt;</aside>" in out
    assert '<a class="x" href="https://a.b/?q=1&amp;r=2">' in out
    assert "<b>go</b>" in out


def test_portable_text_convention_template_created_later_is_used(tmp_path: Path) -> None:
    r = site(tmp_path, {"p.html": "{{ body | portable_text }}"})
    body = [{"_type": "callout", "_key": "c", "text": "hi"}]
    assert "callout" in r.render("p.html", {"body": body})  # the default placeholder
    (tmp_path / "templates" / "portable_text.html").write_text(
        "{% macro type_callout(value) %}<aside>{{ value.text }}</aside>{% endmacro %}"
    )
    assert r.render("p.html", {"body": body}) == "<aside>hi</aside>"


def test_portable_text_components_argument(tmp_path: Path) -> None:
    page = (
        "{% macro em(mark_def, children) %}<i>{{ children }}</i>{% endmacro %}"
        "{% macro styled(block, children) %}<h2 class=t>{{ children }}</h2>{% endmacro %}"
        "{{ body | portable_text(components={'mark_em': em, 'block_styles': {'h1': styled}}) }}"
    )
    r = site(tmp_path, {"p.html": page})
    body = [block("x", marks=["em"]), block("T", style="h1")]
    out = r.render("p.html", {"body": body})
    assert out == "<p><i>x</i></p><h2 class=t>T</h2>"


def test_image_url_with_project(tmp_path: Path) -> None:
    r = site(
        tmp_path, {"i.html": "{{ img | image_url(width=300, fit='crop') }}"}, project_id="proj1"
    )
    out = r.render("i.html", {"img": {"asset": {"_ref": "image-abc123-800x600-jpg"}}})
    assert out.startswith("https://cdn.sanity.io/images/proj1/production/abc123-800x600.jpg?")
    assert "w=300" in out and "fit=crop" in out


def test_image_url_local_uses_asset_url(tmp_path: Path) -> None:
    r = site(tmp_path, {"i.html": "{{ img | image_url(width=300) }}|{{ doc | image_url }}"})
    out = r.render(
        "i.html",
        {
            "img": {"asset": {"url": "/images/a.png"}},
            "doc": {"_type": "sanity.imageAsset", "url": "/b.png"},
        },
    )
    assert out == "/images/a.png|/b.png"


def test_date_absolute_url_slugify(tmp_path: Path) -> None:
    r = site(
        tmp_path,
        {
            "d.html": "{{ d | date('%d %B %Y') }}|{{ '/blog/x/' | absolute_url }}|"
            "{{ 'Hello, World!' | slugify }}"
        },
    )
    out = r.render("d.html", {"d": "2024-03-05T10:00:00Z"})
    assert out == "05 March 2024|https://ex.com/blog/x/|hello-world"


# --- template_chain ----------------------------------------------------------------------


CHAIN_FILES = {
    "base.html": "{% include 'partials/head.html' %}{% block body %}{% endblock %}",
    "partials/head.html": "{% include 'partials/meta.html' %}",
    "partials/meta.html": "<meta>",
    "macros.html": "{% macro m() %}{% endmacro %}",
    "forms.html": "{% macro f() %}{% endmacro %}",
    "post.html": "{% extends 'base.html' %}{% import 'macros.html' as mc %}"
    "{% from 'forms.html' import f %}{% block body %}{% endblock %}",
    "other.html": "plain",
}


def test_template_chain_transitive(tmp_path: Path) -> None:
    r = site(tmp_path, CHAIN_FILES)
    assert r.template_chain("post.html") == (
        "base.html",
        "forms.html",
        "macros.html",
        "partials/head.html",
        "partials/meta.html",
        "post.html",
    )
    assert r.template_chain("other.html") == ("other.html",)
    assert r.template_chain("partials/head.html") == ("partials/head.html", "partials/meta.html")


def test_template_chain_includes_portable_text_macros(tmp_path: Path) -> None:
    r = site(tmp_path, {"a.html": "{% include 'b.html' %}", "b.html": "{{ x | portable_text }}"})
    assert r.template_chain("a.html") == ("a.html", "b.html", "portable_text.html")
    assert r.template_hash("portable_text.html") == "missing"
    (tmp_path / "templates" / "portable_text.html").write_text(
        "{% import 'pt_parts.html' as parts %}"
    )
    assert r.template_chain("a.html") == (
        "a.html",
        "b.html",
        "portable_text.html",
        "pt_parts.html",
    )


def test_template_chain_dynamic_include_is_conservative(tmp_path: Path) -> None:
    r = site(tmp_path, {**CHAIN_FILES, "dyn.html": "{% include page.layout %}"})
    chain = r.template_chain("dyn.html")
    assert set(CHAIN_FILES) <= set(chain)
    assert "dyn.html" in chain
    via = site(tmp_path, {"uses_dyn.html": "{% include 'dyn.html' %}"})
    assert "other.html" in via.template_chain("uses_dyn.html")


def test_template_chain_follows_edits_and_lists_missing(tmp_path: Path) -> None:
    r = site(tmp_path, {"a.html": "{% include 'b.html' %}", "b.html": "b"})
    assert r.template_chain("a.html") == ("a.html", "b.html")
    (tmp_path / "templates" / "b.html").write_text("{% include 'c.html' ignore missing %}")
    assert r.template_chain("a.html") == ("a.html", "b.html", "c.html")
    assert r.template_hash("c.html") == "missing"


def test_bytecode_cache_and_clear_cache(tmp_path: Path) -> None:
    site(tmp_path, {"a.html": "{{ x }}!"})
    cache_dir = tmp_path / ".ssgen" / "jinja"
    first = Renderer(make_config(tmp_path), bytecode_cache_dir=cache_dir)
    assert first.render("a.html", {"x": 1}) == "1!"
    assert any(cache_dir.iterdir())
    second = Renderer(make_config(tmp_path), bytecode_cache_dir=cache_dir, auto_reload=False)
    assert second.render("a.html", {"x": 2}) == "2!"
    (tmp_path / "templates" / "a.html").write_text("{{ x }}?")
    assert second.render("a.html", {"x": 2}) == "2!"  # no reload until told
    second.clear_cache()
    assert second.render("a.html", {"x": 2}) == "2?"


def test_render_string_errors_name_string(tmp_path: Path) -> None:
    r = site(tmp_path, {})
    assert r.render_string("{{ 1 + x }}", {"x": 1}) == "2"
    with pytest.raises(RenderError) as info:
        r.render_string("\n{{ y }}", {})
    assert (info.value.template, info.value.line) == ("<string>", 2)


def test_template_hash_changes_with_source(tmp_path: Path) -> None:
    r = site(tmp_path, {"a.html": "one"})
    first = r.template_hash("a.html")
    assert len(first) == 64
    (tmp_path / "templates" / "a.html").write_text("two")
    assert r.template_hash("a.html") != first


def test_template_chain_syntax_error_is_render_error(tmp_path: Path) -> None:
    r = site(tmp_path, {"a.html": "{% include 'b.html' %}", "b.html": "\n{% for %}"})
    with pytest.raises(RenderError) as info:
        r.template_chain("a.html")
    assert info.value.template == "templates/b.html"
    assert info.value.line == 2


def test_globals_used_through_the_chain(tmp_path: Path) -> None:
    r = site(
        tmp_path,
        {
            "base.html": "{{ data.settings.title }}{% include 'nav.html' %}"
            "{% block b %}{% endblock %}",
            "nav.html": "{% for c in data['categories'] %}{{ c }}{% endfor %}",
            "post.html": "{% extends 'base.html' %}{% block b %}{{ page.title }}{% endblock %}",
            "plain.html": "{{ page }}",
            "dyn.html": "{{ data[key] }}",
            "whole.html": "{% for k, v in data.items() %}{{ k }}{% endfor %}",
            "passed.html": "{% macro m(d) %}{{ d.x }}{% endmacro %}{{ m(data) }}",
        },
    )
    assert r.globals_used("post.html") == {"settings", "categories"}
    assert r.globals_used("plain.html") == frozenset()
    assert r.globals_used("dyn.html") is None
    assert r.globals_used("whole.html") is None
    assert r.globals_used("passed.html") is None


# --- generated files ---------------------------------------------------------------------


def test_sitemap_sorted_deduplicated_no_timestamps() -> None:
    out = render_sitemap(
        ["https://ex.com/b/", ("https://ex.com/a/", None), ("https://ex.com/b/", "2024-01-02")]
    )
    root = ET.fromstring(out)
    locs = [u.findtext(f"{SM}loc") for u in root]
    assert locs == ["https://ex.com/a/", "https://ex.com/b/"]
    assert root[0].find(f"{SM}lastmod") is None
    assert root[1].findtext(f"{SM}lastmod") == "2024-01-02T00:00:00Z"
    assert render_sitemap(reversed(["https://ex.com/b/", "https://ex.com/a/"])) == render_sitemap(
        ["https://ex.com/a/", "https://ex.com/b/"]
    )


def test_sitemap_urls_from_pages() -> None:
    pages = [
        PageSpec(
            "/b/", "post", "p.html", {"page": {"_updatedAt": "2024-05-01T00:00:00Z"}}, frozenset()
        ),
        PageSpec("/", "home", "h.html", {"page": [{"_updatedAt": "2024-05-01"}]}, frozenset()),
        PageSpec("/404.html", "404", "404.html", {"page": {}}, frozenset()),
        PageSpec("/feed.xml", "x", "f.xml", {"page": {}}, frozenset()),
    ]
    assert sitemap_urls(pages, "https://ex.com/") == [
        ("https://ex.com/b/", "2024-05-01T00:00:00Z"),
        ("https://ex.com/", None),
    ]


def test_sitemap_escapes_urls() -> None:
    out = render_sitemap(["https://ex.com/?a=1&b=2"])
    assert b"?a=1&amp;b=2" in out
    ET.fromstring(out)


def feed_page(path: str, page: dict[str, Any]) -> PageSpec:
    return PageSpec(path, "post", "post.html", {"page": page}, frozenset())


def test_atom_feed_deterministic_order_limit_and_updated() -> None:
    feed = FeedConfig(route="post", limit=2)
    site_cfg = SiteConfig(title="Ex & Co", base_url="https://ex.com/", description="d")
    pages = [
        feed_page("/a/", {"title": "A", "publishedAt": "2024-01-01", "excerpt": "sa"}),
        feed_page("/b/", {"title": "B <b>", "publishedAt": "2024-03-01T12:00:00+02:00"}),
        feed_page("/c/", {"title": "C", "publishedAt": "2024-02-01T00:00:00Z"}),
        feed_page("/d/", {"title": "no date"}),
    ]
    out = render_feed(feed, site_cfg, pages)
    assert render_feed(feed, site_cfg, list(reversed(pages))) == out
    root = ET.fromstring(out)
    assert root.findtext(f"{ATOM}title") == "Ex & Co"
    assert root.findtext(f"{ATOM}id") == "https://ex.com/feed.xml"
    assert root.findtext(f"{ATOM}updated") == "2024-03-01T10:00:00Z"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == ["https://ex.com/b/", "https://ex.com/c/"]
    assert entries[0].findtext(f"{ATOM}title") == "B <b>"


def test_atom_feed_summary_from_portable_text_and_empty_feed() -> None:
    feed = FeedConfig(route="post")
    site_cfg = SiteConfig(title="Ex", base_url="https://ex.com")
    body = [block("Hello"), block("World")]
    out = render_feed(
        feed, site_cfg, [feed_page("/a/", {"publishedAt": "2024-01-01", "excerpt": body})]
    )
    entry = ET.fromstring(out).find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}summary") == "Hello\n\nWorld"
    assert entry.findtext(f"{ATOM}title") == "/a/"
    empty = ET.fromstring(render_feed(feed, site_cfg, []))
    assert empty.findtext(f"{ATOM}updated") == "1970-01-01T00:00:00Z"


def test_atom_feed_bad_date_names_page_and_field() -> None:
    feed = FeedConfig(route="post")
    with pytest.raises(RenderError, match=r"publishedAt.*/a/.*'post'"):
        render_feed(feed, SiteConfig(), [feed_page("/a/", {"publishedAt": "yesterday"})])


def test_robots() -> None:
    text = render_robots(SiteConfig(base_url="https://ex.com")).decode()
    assert text == "User-agent: *\nAllow: /\n\nSitemap: https://ex.com/sitemap.xml\n"
    assert b"Sitemap" not in render_robots(SiteConfig(), sitemap=False)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30), st.booleans())
def test_robots_are_the_builtin_templates_bytes(base_url: str, sitemap: bool) -> None:
    """``render_robots`` writes what ``builtin_templates/robots.txt`` renders to (the
    template users can include as ``_ssgen/robots.txt``), for any base URL."""
    site = SiteConfig(base_url=base_url)
    url = absolute(site.base_url, "/sitemap.xml") if sitemap else None
    assert render_robots(site, sitemap=sitemap) == \
        generated._render("robots.txt", sitemap_url=url)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-02", "2024-01-02T00:00:00Z"),
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"),
        ("2024-01-02T03:04:05.123+01:00", "2024-01-02T02:04:05Z"),
        ("2024-01-02T03:04:05", "2024-01-02T03:04:05Z"),
    ],
)
def test_to_rfc3339(value: str, expected: str) -> None:
    assert to_rfc3339(value) == expected


def block(
    text: str,
    *,
    marks: list[str] | None = None,
    style: str = "normal",
    mark_defs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "_type": "block",
        "_key": text[:4],
        "style": style,
        "markDefs": mark_defs or [],
        "children": [{"_type": "span", "_key": "s", "text": text, "marks": marks or []}],
    }


def test_reads_any_follows_the_template_chain(tmp_path: Path) -> None:
    names = frozenset({"prev", "next"})
    renderer = site(tmp_path, {
        "base.html": "<main>{% block content %}{% endblock %}</main>",
        "plain.html": '{% extends "base.html" %}{% block content %}{{ page.title }}{% endblock %}',
        "linked.html": '{% extends "base.html" %}{% block content %}'
                       '{% include "_pager.html" %}{% endblock %}',
        "_pager.html": "{% if next %}<a>{{ next.title }}</a>{% endif %}",
        "assigned.html": "{% set prev = 1 %}{{ prev }}",
        "dynamic.html": "{% include page.layout %}",
        "broken.html": "{% if %}",
        "misspelt.html": "{{ page.body | markdwn }}",
    })
    assert not renderer.reads_any("plain.html", names)
    assert renderer.reads_any("linked.html", names)  # through the included partial
    assert not renderer.reads_any("assigned.html", names)  # its own variable, not the page's
    assert renderer.reads_any("dynamic.html", names)  # any template may be the one
    assert renderer.reads_any("broken.html", names)  # cannot tell: assume it does
    assert renderer.reads_any("misspelt.html", names)  # its render reports the filter
    (tmp_path / "templates" / "plain.html").write_text("{{ prev_url }}{{ prev }}")
    assert renderer.reads_any("plain.html", names)  # the edit is seen


def test_a_shared_renderer_answers_for_the_template_texts_it_compiled(tmp_path: Path) -> None:
    # A build records the hashes and chains of the texts it rendered with: a template
    # saved during the build is seen (hashed, read and compiled) by the next build.
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("one {% include '_a.html' %}")
    (templates / "_a.html").write_text("A")
    config = make_config(tmp_path)
    renderer = Renderer.shared(config)
    before = renderer.template_hash("page.html")
    assert renderer.render("page.html", {}) == "one A"
    (templates / "page.html").write_text("two {% include '_b.html' %}")
    (templates / "_b.html").write_text("B")
    assert renderer.template_hash("page.html") == before  # the text it compiled
    assert renderer.template_chain("page.html") == ("_a.html", "page.html")
    assert renderer.render("page.html", {}) == "one A"
    again = Renderer.shared(config)  # the next build
    assert again.template_hash("page.html") != before
    assert again.template_chain("page.html") == ("_b.html", "page.html")
    assert again.render("page.html", {}) == "two B"
