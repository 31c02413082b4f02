"""Named regression tests for issue 13 items 1-6: the output equals a full build after
outside damage, crashes, special-template changes, hostile slugs and output clashes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sitekit import (
    DEFAULT_TEMPLATES,
    DEFAULT_TOML,
    author,
    make_site,
    output_files,
    post,
    write_docs,
)

from ssgen.build.pipeline import build
from ssgen.config.load import load_config

# A fixed build time: a feed without dated entries carries it.
NOW = datetime(2025, 1, 1, tzinfo=UTC)
_REPO = Path(__file__).resolve().parents[1]


def _build(site: Path, *, full: bool = False) -> dict[str, bytes]:
    report = build(load_config(site), jobs=1, now=NOW, full=full)
    assert report.ok, report.failures
    return output_files(site)


def test_deleted_output_is_written_again(tmp_path: Path) -> None:
    """Item 1: `rm -rf public` restored 4 of 65 files, `rm public/blog/index.html` none."""
    site = make_site(tmp_path)
    before = _build(site)
    os.remove(site / "public" / "blog" / "index.html")
    assert _build(site) == before
    for path in (site / "public").rglob("*"):
        if path.is_file():
            path.unlink()
    assert _build(site) == before


def test_changed_output_is_written_again(tmp_path: Path) -> None:
    """Item 1: a page edited by hand is noticed even when its size is kept (mtime moves)."""
    site = make_site(tmp_path)
    before = _build(site)
    page = site / "public" / "blog" / "post-1" / "index.html"
    text = page.read_bytes()
    page.write_bytes(text.replace(b"Post 1", b"Post X"))
    (site / "public" / "robots.txt").write_text("tampered")
    assert _build(site) == before
    # A touch alone costs one hash and writes nothing.
    os.utime(page, ns=(1, 1))
    report = build(load_config(site), jobs=1, now=NOW)
    assert report.written == 0 and output_files(site) == before


def _crash_build(site: Path, fault: str) -> int:
    env = {**os.environ, "SSGEN_FAULT": fault, "PYTHONPATH": str(_REPO)}
    return subprocess.run([sys.executable, "-m", "ssgen", "build", "--jobs", "1"], cwd=site,
                          env=env, capture_output=True, check=False).returncode


def test_a_killed_build_leaves_no_orphan(tmp_path: Path) -> None:
    """Item 2: a page written by a build killed before recording it stayed for ever."""
    site = make_site(tmp_path)
    _build(site)
    docs = [author("a1", "Ada"), post(1), post(2), post(3)]
    write_docs(site, docs)
    assert _crash_build(site, "after-write:1") == 137
    assert (site / "public" / "blog" / "post-3" / "index.html").is_file()
    write_docs(site, docs[:-1])  # the new post is deleted again before the next build
    after = _build(site)
    assert "blog/post-3/index.html" not in after
    assert after == _build_clean(tmp_path / "clean", docs[:-1])


def test_a_killed_static_copy_leaves_no_orphan(tmp_path: Path) -> None:
    """Item 2, static and generated files: copied, killed, source file deleted."""
    site = make_site(tmp_path)
    _build(site)
    (site / "static").mkdir()
    (site / "static" / "new.css").write_text("a{}")
    assert _crash_build(site, "after-write:1") == 137
    assert (site / "public" / "new.css").is_file()
    (site / "static" / "new.css").unlink()
    assert "new.css" not in _build(site)


def _build_clean(root: Path, docs: list[dict[str, object]],
                 templates: dict[str, str] | None = None) -> dict[str, bytes]:
    return _build(make_site(root, docs, templates=templates), full=True)


def test_adding_and_removing_404_template_is_noticed(tmp_path: Path) -> None:
    """Item 3: templates/404.html was seen only by --full builds."""
    site = make_site(tmp_path)
    _build(site)
    (site / "templates" / "404.html").write_text("<h1>Not here</h1>")
    assert _build(site)["404.html"] == b"<h1>Not here</h1>"
    (site / "templates" / "404.html").unlink()
    assert "404.html" not in _build(site)


_FEED_TOML = DEFAULT_TOML.replace('"author": author->name}', '"author": author->name, date}') + """
[feed]
route = "post"
date_field = "date"
"""


def test_urls_are_percent_encoded_in_sitemap_feed_and_links(tmp_path: Path) -> None:
    """Item 4: a slug with spaces or non-ASCII characters appeared raw in `<loc>`."""
    docs = [author("a1", "Ada"), post(1, date="2024-01-01"),
            post(2, date="2024-01-02", slug={"current": "café au lait"})]
    site = make_site(tmp_path, docs, toml=_FEED_TOML,
                     templates={**DEFAULT_TEMPLATES, "post.html": "<a href='{{ url }}'>x</a>"})
    files = _build(site)
    encoded = "https://example.com/blog/caf%C3%A9%20au%20lait/"
    assert f"<loc>{encoded}</loc>".encode() in files["sitemap.xml"]
    assert encoded.encode() in files["feed.xml"] and b"caf\xc3\xa9 au" not in files["feed.xml"]
    assert files["blog/café au lait/index.html"] == f"<a href='{encoded}'>x</a>".encode()


def test_percent_encoded_twin_is_the_same_page(tmp_path: Path) -> None:
    """Item 4: `why-%77e-moved` passed the uniqueness check and overwrote `why-we-moved`."""
    real = post(1, slug={"current": "why-we-moved"})
    twin = post(2, slug={"current": "why-%77e-moved"})
    nfd = post(3, slug={"current": "cafe\u0301"})
    nfc = post(4, slug={"current": "caf\u00e9"})
    for a, b in ((real, twin), (nfd, nfc)):
        site = make_site(tmp_path / a["_id"], [author("a1", "Ada"), a])
        before = _build(site)
        write_docs(site, [author("a1", "Ada"), a, b])
        report = build(load_config(site), jobs=1, now=NOW)
        assert not report.ok  # the twins' shared path fails them, and only them
        after = output_files(site)
        pages = [name for name in before if name.startswith("blog/") and name != "blog/index.html"]
        assert pages and all(after[name] == before[name] for name in pages)  # last good kept
        assert set(after) == set(before)  # no second file for the twin


def test_hidden_segments_are_refused(tmp_path: Path) -> None:
    """Item 4: `/.well-known/x/` was built and linked, and served as 404: refused."""
    docs = [author("a1", "Ada"), post(1), post(2, slug={"current": ".well-known"})]
    site = make_site(tmp_path, docs)
    report = build(load_config(site), jobs=1, now=NOW)
    assert [f.path for f in report.failures] == ["/blog/.well-known/"]
    assert "starts with a dot" in report.failures[0].message
    assert (site / "public/blog/post-1/index.html").is_file()


def _clash_site(root: Path, slugs: list[str], extra_toml: str = "") -> Path:
    docs = [author("a1", "Ada"), *(post(i, slug={"current": s}) for i, s in enumerate(slugs))]
    return make_site(root, docs, toml=DEFAULT_TOML + extra_toml)


_ROOT_ROUTE = """
[[routes]]
name = "top"
path = "/{slug}"
template = "post.html"
query = '*[_type == "post"]{title, "slug": slug.current, "author": author->name}'
"""


def test_clashes_fail_their_pages_whatever_the_history(tmp_path: Path) -> None:
    """Item 5: slug `index.html` failed the list page on a clean build and the post on an
    existing site; `/feed.xml`, `/robots.txt`, `/sitemap.xml` were silently overwritten."""
    slugs = ["index.html", "feed.xml", "robots.txt", "sitemap.xml", "ok"]
    toml = _ROOT_ROUTE + '\n[feed]\nroute = "post"\n'
    clean = build(load_config(_clash_site(tmp_path / "clean", slugs, toml)), jobs=1, now=NOW)
    failed = {f.path for f in clean.failures}
    assert failed == {"/blog/index.html/", "/feed.xml", "/robots.txt", "/sitemap.xml"}
    # The same inputs reached through history: first without the clashing posts.
    site = _clash_site(tmp_path / "history", ["ok"], toml)
    _build(site)
    write_docs(site, [author("a1", "Ada"),
                      *(post(i, slug={"current": s}) for i, s in enumerate(slugs))])
    again = build(load_config(site), jobs=1, now=NOW)
    assert {f.path for f in again.failures} == failed
    files = output_files(site)
    assert files == output_files(tmp_path / "clean" / "site")
    assert b"User-agent" in files["robots.txt"] and b"<urlset" in files["sitemap.xml"]
    for name in ("robots.txt", "feed.xml", "sitemap.xml", "blog/index.html/"):
        assert f"<loc>https://example.com/{name}</loc>".encode() not in files["sitemap.xml"]
    assert b"<ul>" in files["blog/index.html"]


def test_static_file_added_over_a_page_fails_the_page(tmp_path: Path) -> None:
    """Item 5: a static file added later takes the page's place in incremental builds too."""
    site = make_site(tmp_path)
    _build(site)
    (site / "static/blog/post-1").mkdir(parents=True)
    (site / "static/blog/post-1/index.html").write_text("static copy")
    report = build(load_config(site), jobs=1, now=NOW)
    assert [f.path for f in report.failures] == ["/blog/post-1/"]
    assert "static/blog/post-1/index.html" in report.failures[0].message
    (site / "static/blog/post-1/index.html").unlink()
    assert b"Post 1" in _build(site)["blog/post-1/index.html"]


def test_generated_feed_returns_when_a_static_one_goes(tmp_path: Path) -> None:
    """Found by the crash-and-tamper property: static/feed.xml removed left its copy in
    place of the generated feed when the feed's route was not re-queried."""
    site = make_site(tmp_path, toml=_FEED_TOML)
    generated = _build(site)["feed.xml"]
    (site / "static").mkdir()
    (site / "static" / "feed.xml").write_text("mine")
    assert _build(site)["feed.xml"] == b"mine"
    (site / "static" / "feed.xml").unlink()
    assert _build(site)["feed.xml"] == generated
