"""Everyday commands as a new user meets them: inspect's text and JSON, a missing --site
folder, serve on a busy port, --base-url and the url() helper, clean, new, and deploy's
AWS-style options."""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path

import pytest
from sitekit import make_site, run_cli

from ssgen.build.inspect import _title
from ssgen.render.text import site_url

REPO = Path(__file__).resolve().parent.parent


def _hashless(text: str) -> str:
    return re.sub(r"[0-9a-f]{64}", "<sha256>", text)


def test_inspect_prints_readable_text(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert run_cli("--site", str(site), "build").exit_code == 0
    page = run_cli("--site", str(site), "inspect", "/blog/post-1/")
    assert _hashless(page.stdout) == """\
/blog/post-1/
  route       post
  file        blog/post-1/index.html
  template    post.html
  templates   base.html, post.html
  params      slug="post-1"
  data hash   <sha256>
  output hash <sha256>
  last error  none (the last build of this page succeeded)
  tags (7)
    doc:a1
    doc:p1
    post:post-1
    route:post
    template:base.html
    template:post.html
    type:post
"""
    tag = run_cli("--site", str(site), "inspect", "--tag", "route:post")
    assert tag.stdout == "2 pages have the tag route:post:\n  /blog/post-1/\n  /blog/post-2/\n"
    none = run_cli("--site", str(site), "inspect", "--tag", "nope")
    assert none.stdout == "no page has the tag nope\n"


def test_a_page_title_is_read_unescaped(tmp_path: Path) -> None:
    """The title ``inspect`` shows of a page's file, entities unescaped (``html`` is
    imported where a title is read, not with the module ``revalidate`` imports)."""
    page = tmp_path / "index.html"
    page.write_text("<html><head><title> A &amp; B\n  &lt;C&gt; </title></head>")
    assert _title(page) == "A & B <C>"


def test_inspect_json_is_stable(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert run_cli("--site", str(site), "build").exit_code == 0
    page = json.loads(run_cli("--site", str(site), "inspect", "/blog/post-1/", "--json").stdout)
    assert sorted(page) == ["data_hash", "file", "format", "last_error", "output_hash",
                            "params", "path", "route", "tags", "template", "templates"]
    assert page["format"] == 1 and page["params"] == {"slug": "post-1"}
    assert page["last_error"] is None
    tag = json.loads(run_cli("--site", str(site), "inspect", "--tag", "posts", "--json").stdout)
    assert tag == {"format": 1, "pages": [], "tag": "posts"}


def test_a_missing_site_folder_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = run_cli("--site", str(missing), "build")
    assert result.exit_code == 2
    assert f"site folder {missing} does not exist" in result.output
    assert "no ssgen.toml here" not in result.output
    (tmp_path / "file").write_text("x")
    result = run_cli("--site", str(tmp_path / "file"), "build")
    assert result.exit_code == 2 and "is a file, not a folder" in result.output


def test_serve_on_a_busy_port_says_so_exits_2_and_builds_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("--site", str(site), "serve", "--dev", "--port", str(port))
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.output
    assert "Errno" not in result.output
    assert not (site / "public").exists() and not (site / ".ssgen").exists()


def test_site_url_honours_the_base_path() -> None:
    base = "https://example.com/sub/"
    assert site_url("/style.css", base) == "/sub/style.css"
    assert site_url("/", base) == "/sub/"
    assert site_url("blog/a b/", base) == "/sub/blog/a%20b/"
    assert site_url("/x/", "https://example.com") == "/x/"
    for kept in ("https://other.org/", "//cdn.example/x.js", "mailto:a@b.c", "#top", "?q=1"):
        assert site_url(kept, base) == kept


def test_base_url_override_reaches_links_and_absolute_urls(tmp_path: Path) -> None:
    templates = {
        "base.html": '<link href="{{ url(\'/style.css\') }}"><a href="{{ url(\'/\') }}">home</a>'
                     '<link rel="canonical" href="{{ url }}">'
                     '{% block content %}{% endblock %}',
        "post.html": '{% extends "base.html" %}{% block content %}'
                     '<a href="{{ url(\'/blog/\', absolute=True) }}">all</a>{% endblock %}',
        "list.html": '{% for p in page %}<a href="{{ url(\'/blog/\' ~ p.slug ~ \'/\') }}">'
                     '{{ p.title }}</a>{% endfor %}',
    }
    site = make_site(tmp_path, templates=templates)
    result = run_cli("--site", str(site), "build", "--base-url", "https://preview.test/sub/")
    assert result.exit_code == 0, result.output
    post = (site / "public/blog/post-1/index.html").read_text()
    assert '<link href="/sub/style.css"><a href="/sub/">home</a>' in post
    assert '<link rel="canonical" href="https://preview.test/sub/blog/post-1/">' in post
    assert '<a href="https://preview.test/sub/blog/">all</a>' in post
    assert 'href="/sub/blog/post-2/"' in (site / "public/blog/index.html").read_text()
    assert "https://preview.test/sub/blog/" in (site / "public/sitemap.xml").read_text()
    bad = run_cli("--site", str(site), "build", "--base-url", "preview.test")
    assert bad.exit_code == 2 and "--base-url 'preview.test' must start with http" in bad.output


@pytest.mark.parametrize("theme", ["init starter", "bundled theme"])
def test_the_starter_and_bundled_theme_link_under_a_base_path(tmp_path: Path, theme: str) -> None:
    site = tmp_path / "site"
    if theme == "init starter":
        assert run_cli("init", str(site)).exit_code == 0
    else:
        for name in ("ssgen.toml", "content", "templates", "static"):
            copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
            site.mkdir(exist_ok=True)
            copy(REPO / name, site / name)
    result = run_cli("--site", str(site), "build", "--base-url", "https://example.com/sub/")
    assert result.exit_code == 0, result.output
    html = "".join(p.read_text() for p in (site / "public").rglob("*.html"))
    hrefs = set(re.findall(r'(?:href|src)="(/[^"]*)"', html))
    # Links written inside Markdown content are the author's, not the theme's.
    written = {m for md in (site / "content").rglob("*.md")
               for m in re.findall(r"\]\((/[^)\s]*)\)", md.read_text())}
    assert hrefs and all(h.startswith("/sub/") for h in hrefs - written), sorted(hrefs)


def test_clean_removes_only_the_output_folder_and_state(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert run_cli("--site", str(site), "build").exit_code == 0
    (site / "notes.txt").write_text("mine")
    dry = run_cli("--site", str(site), "clean", "--dry-run")
    assert dry.stdout == "would remove public/\nwould remove .ssgen/\n"
    assert (site / "public").is_dir()
    result = run_cli("--site", str(site), "clean")
    assert result.exit_code == 0 and "removed public/ and .ssgen/" in result.output
    assert sorted(p.name for p in site.iterdir()) == ["content", "notes.txt", "ssgen.toml",
                                                      "templates"]
    again = run_cli("--site", str(site), "clean")
    assert again.exit_code == 0 and "nothing to clean" in again.output
    assert not (site / ".ssgen").exists()
    rebuilt = run_cli("--site", str(site), "-v", "build")
    assert "full build because: no manifest yet" in rebuilt.output


def test_clean_refuses_an_output_folder_it_does_not_own(tmp_path: Path) -> None:
    from sitekit import DEFAULT_TOML

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    site = make_site(tmp_path, toml=DEFAULT_TOML.replace('[site]\n', '[site]\noutput = "../elsewhere"\n'))
    result = run_cli("--site", str(site), "clean")
    assert result.exit_code == 2 and "only a folder inside the site folder" in result.output
    assert outside.is_dir()
    project = make_site(tmp_path / "p", toml=DEFAULT_TOML.replace('[site]\n', '[site]\noutput = "docs"\n'))
    (project / "docs" / "content").mkdir(parents=True)
    result = run_cli("--site", str(project), "clean")
    assert result.exit_code == 2 and "does not look like build output" in result.output
    assert (project / "docs" / "content").is_dir()


def test_new_writes_a_markdown_document_that_builds(tmp_path: Path) -> None:
    site = tmp_path / "starter"
    assert run_cli("init", str(site)).exit_code == 0
    result = run_cli("--site", str(site), "new", "post", "Hello, World")
    assert result.exit_code == 0 and "created content/post/hello-world.md" in result.output
    text = (site / "content/post/hello-world.md").read_text()
    assert re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<now>", text) == (
        '---\n_type: post\ntitle: "Hello, World"\nslug: "hello-world"\npublishedAt: <now>\n'
        "---\n\n")
    page = run_cli("--site", str(site), "new", "page", "Colophon", "--slug", "colophon")
    assert page.exit_code == 0 and (site / "content/colophon.md").is_file()
    build = run_cli("--site", str(site), "build")
    assert build.exit_code == 0, build.output
    assert "Hello, World" in (site / "public/blog/hello-world/index.html").read_text()
    twice = run_cli("--site", str(site), "new", "post", "Hello, World")
    assert twice.exit_code == 2 and "already exists" in twice.output


def test_new_needs_a_markdown_folder(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (site / "ssgen.toml").write_text((site / "ssgen.toml").read_text().replace(
        'files = ["content/data.ndjson"]', 'files = ["content/data.ndjson"]\nmarkdown_dir = ""'))
    result = run_cli("--site", str(site), "new", "post", "Hi")
    assert result.exit_code == 2 and "writes Markdown for the local source" in result.output
    bad = run_cli("--site", str(make_site(tmp_path / "b")), "new", "a/b", "Hi")
    assert bad.exit_code == 2 and "type 'a/b'" in bad.output


def test_serve_passes_base_url_to_the_site_it_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssgen.cli.serve
    import ssgen.config.load

    site = make_site(tmp_path)
    seen: dict[str, object] = {}
    real = ssgen.config.load.load_config

    def spy(site_dir: Path, env: object = None, *, base_url: str | None = None) -> object:
        seen["base_url"] = base_url
        return real(site_dir, base_url=base_url)

    monkeypatch.setattr(ssgen.config.load, "load_config", spy)
    monkeypatch.setattr(ssgen.cli.serve, "run_until_stopped", lambda server, sock: sock.close())
    result = run_cli("--site", str(site), "serve", "--dev", "--port", "0",
                     "--base-url", "http://localhost:8000")
    assert result.exit_code == 0, result.output
    assert seen["base_url"] == "http://localhost:8000"
