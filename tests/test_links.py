"""Link checking: extraction, resolution, ``ssgen check`` / ``build --check`` on broken links
of every kind, and the incremental check equal to a full one (hypothesis)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import DEFAULT_TOML, author, make_site, post, run_cli, write_docs

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.errors import ConfigError
from ssgen.links import Changes, check_links
from ssgen.links.extract import extract, srcset_urls
from ssgen.links.resolve import External, Internal, Outside, Site, files_for, paths_for, resolve
from ssgen.manifest.store import Manifest

SITE = Site.of("https://example.com")


def test_extract_links_ids_and_srcset_descriptors() -> None:
    found = extract(
        '<link rel="preconnect" href="https://fonts.example"><link rel="stylesheet" href="/s.css">'
        '<base href="/ignored/"><h2 id="intro">x</h2><a name="old"></a>'
        '<img src="/a.png" srcset="/a-1.png 1x, /a,2.png 2x,/a-3.png (x, y) 3w, /a-4.png,">'
        '<a href=" /spaced/ ">y</a><pre>&lt;a href="/not-a-link/"&gt;</pre>')
    assert found.ids == {"intro", "old"}
    assert found.links == [("href", "/s.css"), ("src", "/a.png"), ("srcset", "/a-1.png"),
                           ("srcset", "/a,2.png"), ("srcset", "/a-3.png"), ("srcset", "/a-4.png"),
                           ("href", "/spaced/")]
    assert srcset_urls("") == [] and srcset_urls(" , ") == []


@pytest.mark.parametrize(("link", "page", "expected"), [
    ("/a/", "x/index.html", Internal("/a/", None)),
    ("a/", "blog/p/index.html", Internal("/blog/p/a/", None)),
    ("../x", "blog/p/index.html", Internal("/blog/x", None)),
    ("#m", "blog/p/index.html", Internal("/blog/p/", "m")),
    ("?page=2", "index.html", Internal("/", None)),
    ("https://EXAMPLE.com/b#c", "index.html", Internal("/b", "c")),
    ("//cdn.example.org/y.png", "index.html", External("https://cdn.example.org/y.png")),
    ("http://other.org/x?q=1#f", "index.html", External("http://other.org/x?q=1")),
    ("mailto:a@b", "index.html", None), ("tel:1", "index.html", None),
    ("javascript:void(0)", "index.html", None), ("data:image/png;base64,xx", "index.html", None),
    ("", "index.html", None),
    ("/caf%C3%A9/#%C3%A9t%C3%A9", "index.html", Internal("/café/", "été")),
    ("/cafe\u0301/", "index.html", Internal("/café/", None)),  # NFD is NFC on disk
    ("/a/../../../etc/passwd", "index.html", Internal("/etc/passwd", None)),
    ("/%ff/", "index.html", Outside("not a valid UTF-8 path")),
    ("/a%00b", "index.html", Outside("not a valid path")),
    ("/404-me", "404.html", Internal("/404-me", None)),
])
def test_resolve(link: str, page: str, expected: object) -> None:
    assert resolve(link, page, SITE) == expected


def test_resolve_under_a_base_path() -> None:
    site = Site.of("https://example.com/docs/")
    assert resolve("/docs/a/", "index.html", site) == Internal("/a/", None)
    assert resolve("b/", "a/index.html", site) == Internal("/a/b/", None)
    assert resolve("https://example.com/docs/x", "index.html", site) == Internal("/x", None)
    assert isinstance(resolve("/a/", "index.html", site), Outside)
    assert isinstance(resolve("/docsx/", "index.html", site), Outside)


def test_files_and_paths_are_inverse() -> None:
    assert files_for("/") == ("index.html",)
    assert files_for("/a") == ("a", "a/index.html")
    assert files_for("/a/") == ("a/index.html",)
    assert paths_for("a/b/index.html") == ("/a/b/index.html", "/a/b/", "/a/b")
    for rel in ("index.html", "a/index.html", "a/b.css", "café/index.html"):
        assert all(rel in files_for(path) or path == "/" + rel for path in paths_for(rel))


# --- a site with broken links of every kind ---------------------------------------------

BROKEN_TEMPLATES = {
    "base.html": (
        '<!doctype html><title>t</title><main id="main">{% block content %}{% endblock %}'
        '</main>\n<a href="#main">skip</a><a href="/blog/">blog</a>\n'
        '<a href="/feed-missing.xml">feed</a>\n'),
    "post.html": (
        '{% extends "base.html" %}{% block content %}<h1 id="top-{{ page.slug }}">'
        '{{ page.title }}</h1>\n<img src="/img/missing.png" srcset="/style.css 1x, '
        '/img/missing@2x.png 2x">\n<a href="/blog/post-1/#no-such-id">frag</a>\n'
        '<a href="#top-{{ page.slug }}">self</a><a href="/blog/caf%C3%A9/">enc</a>'
        '<a href="/blog/café/">raw</a><a href="mailto:x@example.com">m</a>'
        '<a href="https://elsewhere.example/x">ext</a>{% endblock %}'),
    "list.html": (
        '{% extends "base.html" %}{% block content %}{% for p in page %}'
        '<a href="/blog/{{ p.slug }}/#top-{{ p.slug }}">{{ p.title }}</a>{% endfor %}'
        '{% endblock %}'),
    "404.html": '<!doctype html><title>404</title><a href="/gone-home/">home</a>\n',
}


def broken_site(tmp_path: Path, base_url: str = "https://example.com") -> Path:
    docs = [author("a1", "Ada"), post(1), post(2, slug={"_type": "slug", "current": "café"})]
    toml = DEFAULT_TOML.replace("https://example.com", base_url)
    site = make_site(tmp_path, docs, toml=toml, templates=BROKEN_TEMPLATES)
    (site / "static").mkdir()
    (site / "static" / "style.css").write_text("body{}", encoding="utf-8")
    return site


def reported(report_lines: str) -> set[tuple[str, str]]:
    return {(line.removeprefix("broken link: ").split(": ")[0], line.split("'")[1])
            for line in report_lines.splitlines() if line.startswith("broken link: ")}


def test_build_check_reports_every_kind_with_template_lines(tmp_path: Path) -> None:
    site = broken_site(tmp_path)
    result = run_cli("--site", str(site), "-v", "build", "--check")
    assert result.exit_code == 1, result.output
    found = reported(result.output)
    for page in ("blog/post-1/index.html", "blog/caf\u00e9/index.html"):
        assert (page, "/img/missing.png") in found
        assert (page, "/img/missing@2x.png") in found
        assert (page, "/blog/post-1/#no-such-id") in found
        assert (page, "/feed-missing.xml") in found
    assert ("404.html", "/gone-home/") in found
    links = {link for _, link in found}
    assert not links & {"/style.css", "#main", "/blog/caf%C3%A9/", "/blog/café/", "/blog/",
                        "https://elsewhere.example/x", "mailto:x@example.com"}
    assert "templates/post.html:3" in result.output  # the #no-such-id line
    assert "templates/404.html:1" in result.output
    again = run_cli("--site", str(site), "check")
    assert again.exit_code == 1 and reported(again.output) == found
    assert "full link check" in again.output


def test_fixed_links_pass_and_exit_zero(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    result = run_cli("--site", str(site), "build", "--check")
    assert result.exit_code == 0, result.output
    assert run_cli("--site", str(site), "check").exit_code == 0


def test_base_url_prefix(tmp_path: Path) -> None:
    templates = dict(BROKEN_TEMPLATES)
    templates["post.html"] = ('{% extends "base.html" %}{% block content %}'
                              '<a href="{{ url(\'/blog/\') }}">in</a><a href="/blog/">out</a>'
                              '{% endblock %}')
    site = make_site(tmp_path, templates=templates, toml=DEFAULT_TOML.replace(
        "https://example.com", "https://example.com/sub"))
    result = run_cli("--site", str(site), "-v", "build", "--check")
    found = reported(result.output)
    assert ("blog/post-1/index.html", "/blog/") in found
    assert not [link for _, link in found if link == "/sub/blog/"]
    assert "outside the site's base path /sub/" in result.output


def test_incremental_follows_removed_pages_and_lost_ids(tmp_path: Path) -> None:
    site = broken_site(tmp_path)
    config = load_config(site)
    from ssgen.build.linkcheck import link_options
    first = build(config, check=link_options(config))
    assert first.links is not None and first.links.full
    before = {(b.page, b.link) for b in first.links.broken}
    write_docs(site, [author("a1", "Ada"), post(2, slug={"_type": "slug", "current": "café"})])
    second = build(config, check=link_options(config))
    assert second.links is not None and not second.links.full
    after = {(b.page, b.link) for b in second.links.broken}
    # post-1 is gone: its own rows go, and café's link to it now lacks a file
    assert ("blog/caf\u00e9/index.html", "/blog/post-1/#no-such-id") in after
    assert not [b for b in after if b[0] == "blog/post-1/index.html"]
    assert before - after == {b for b in before if b[0] == "blog/post-1/index.html"}
    full = run_cli("--site", str(site), "-v", "check")
    assert reported(full.output) == after
    build(config)  # unchecked: the next --check is full
    third = build(config, check=link_options(config))
    assert third.links is not None and third.links.full


def test_check_without_output_is_an_error(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    result = run_cli("--site", str(site), "check")
    assert result.exit_code == 1 and "run `ssgen build` first" in result.output


@pytest.mark.parametrize(("table", "key"), [
    ("external_ttl = -1", "check.external_ttl"), ("external_per_host = 0", "check.external_per_host"),
    ("external = 1", "check.external"), ("exclude = []", "check.exclude"),
])
def test_check_config_errors(tmp_path: Path, table: str, key: str) -> None:
    site = make_site(tmp_path, toml=DEFAULT_TOML + f"\n[check]\n{table}\n")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(site)


def test_ignore_prefixes(tmp_path: Path) -> None:
    site = broken_site(tmp_path)
    (site / "ssgen.toml").write_text(DEFAULT_TOML + '\n[check]\nignore = ["/img/", "/feed"]\n',
                                     encoding="utf-8")
    result = run_cli("--site", str(site), "-v", "build", "--check")
    links = {link for _, link in reported(result.output)}
    assert links == {"/blog/post-1/#no-such-id", "/gone-home/"}


# --- incremental equals full --------------------------------------------------------------

PAGES = [f"p{i}/index.html" for i in range(5)] + ["404.html"]
ASSETS = ["a.png", "b.css"]
TARGETS = ["/p0/", "/p1/", "/p2", "/p3/#x", "/p4/#y", "/a.png", "/b.css", "#x", "../p1/#y",
           "/missing/", "/p0/index.html#x"]

page_body = st.tuples(st.sets(st.sampled_from(["x", "y"])), st.lists(st.sampled_from(TARGETS),
                                                                     max_size=4))
step = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(PAGES), page_body),
    st.tuples(st.just("delete"), st.sampled_from(PAGES + ASSETS), st.none()),
    st.tuples(st.just("asset"), st.sampled_from(ASSETS), st.none()),
)


def _html(ids: set[str], links: list[str]) -> str:
    return ("".join(f'<p id="{i}"></p>' for i in sorted(ids))
            + "".join(f'<a href="{link}">l</a>' for link in links))


def _broken(report: object) -> list[tuple[str, str, str]]:
    return sorted((b.page, b.link, b.reason) for b in report.broken)  # type: ignore[attr-defined]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(step, min_size=1, max_size=6))
def test_incremental_check_equals_full(tmp_path: Path, steps: list[tuple[str, str, object]]) -> None:
    root = tmp_path / "case"
    shutil.rmtree(root, ignore_errors=True)
    out = root / "public"
    out.mkdir(parents=True)
    for rel in ("p0/index.html", "p1/index.html", "a.png"):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(_html({"x"}, ["/p1/#x", "/p0/#x", "/a.png"]), encoding="utf-8")
    with Manifest.open(root / "inc.sqlite") as inc:
        check_links(out, inc, "https://example.com")
        for kind, rel, body in steps:
            path = out / rel
            existed = path.exists()
            if kind == "delete":
                if not existed:
                    continue
                path.unlink()
                changes = Changes(removed=frozenset({rel}))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                text = _html(*body) if body else "asset"  # type: ignore[misc]
                if existed and path.read_text(encoding="utf-8") == text:
                    continue  # a build reports only files whose bytes changed
                path.write_text(text, encoding="utf-8")
                changes = Changes(written=frozenset({rel}),
                                  appeared=frozenset() if existed else frozenset({rel}))
            incremental = check_links(out, inc, "https://example.com", changes=changes)
            with Manifest.open(root / f"full{len(list(root.iterdir()))}.sqlite") as fresh:
                full = check_links(out, fresh, "https://example.com")
            assert _broken(incremental) == _broken(full)
            assert incremental.total == full.total


# --- the same through real builds ----------------------------------------------------------

GRAPH_TOML = DEFAULT_TOML.replace('"author": author->name}',
                                  '"author": author->name, anchor, link, frag}')
GRAPH_TEMPLATES = {
    **BROKEN_TEMPLATES,
    "post.html": ('{% extends "base.html" %}{% block content %}<h1 id="{{ page.anchor }}">'
                  '{{ page.title }}</h1><a href="/blog/{{ page.link }}/#{{ page.frag }}">n</a>'
                  '{% endblock %}'),
}
SLUGS = ["a", "b", "c", "d"]
doc_state = st.fixed_dictionaries({"slug": st.sampled_from(SLUGS), "anchor": st.sampled_from("xy"),
                                   "link": st.sampled_from(SLUGS), "frag": st.sampled_from("xy")})


def graph_docs(states: list[dict[str, str] | None]) -> list[dict[str, object]]:
    docs: list[dict[str, object]] = [author("a1", "Ada")]
    used: set[str] = set()
    for n, state in enumerate(states):
        if state is not None and state["slug"] not in used:  # one page per path
            used.add(state["slug"])
            docs.append(post(n, slug={"_type": "slug", "current": state["slug"]},
                             anchor=state["anchor"], link=state["link"], frag=state["frag"]))
    return docs


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(doc_state, min_size=3, max_size=3),
       st.lists(st.tuples(st.integers(0, 2), st.one_of(st.none(), doc_state)),
                min_size=1, max_size=3))
def test_build_check_equals_full_check(tmp_path: Path, first: list[dict[str, str]],
                                       edits: list[tuple[int, dict[str, str] | None]]) -> None:
    """One document edited, renamed or deleted per build; the others' pages stay as they
    are, so only the link graph can bring them into the check."""
    from ssgen.build.linkcheck import link_options

    root = tmp_path / "graph"
    shutil.rmtree(root, ignore_errors=True)
    states: list[dict[str, str] | None] = list(first)
    site = make_site(root, graph_docs(states), toml=GRAPH_TOML, templates=GRAPH_TEMPLATES)
    config = load_config(site)
    build(config, check=link_options(config))
    for index, state in edits:
        states[index] = state
        write_docs(site, graph_docs(states))
        report = build(config, check=link_options(config))
        assert report.links is not None and not report.links.full
        incremental = {(b.page, b.link) for b in report.links.broken}
        full = run_cli("--site", str(site), "-v", "check")
        assert "full link check" in full.output
        assert incremental == reported(full.output)
