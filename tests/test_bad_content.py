"""One bad document fails only its own pages (issue 13 item 7, DESIGN guarantee 5).

Each content fault (a duplicate slug, a slug equal to a list route's path, a bad NDJSON
line, a missing ``_id``, a duplicate ``_id``, invalid front matter) is checked on a fresh
site and on an existing one, with ``ssgen build`` and under ``serve``: the fault is named
with file:line or document id, every other page is built and published, a page that
several documents want keeps its last good version, the build exits 1, /api/status lists
the failure, serve does not retry it, and fixing the content clears it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from servekit import SECRET, running_server, sanity_webhook, wait_idle
from sitekit import (
    DEFAULT_TEMPLATES,
    DEFAULT_TOML,
    author,
    make_site,
    output_files,
    post,
    run_cli,
    write_docs,
)

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.manifest.store import Manifest

TOML = DEFAULT_TOML + """
[[routes]]
name = "page"
path = "/{slug}/"
template = "page.html"
query = '*[_type == "page"]{_id, title, "slug": slug.current}'
"""
TEMPLATES = {**DEFAULT_TEMPLATES, "page.html": (
    '{% extends "base.html" %}{% block content %}<h1>{{ page.title }}</h1>{% endblock %}')}
DOCS = [author("a1", "Ada"), post(1), post(2)]


def _append(site: Path, line: str) -> None:
    with (site / "content" / "data.ndjson").open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def _write(name: str, text: str) -> Callable[[Path], None]:
    return lambda site: (site / "content" / name).write_text(text, encoding="utf-8")


# fault -> (inject it, what the failure says, output files it may change)
FAULTS: dict[str, tuple[Callable[[Path], None], list[str], set[str]]] = {
    "duplicate_slug": (
        lambda site: _append(site, json.dumps(post(9, slug={"current": "post-1"}))),
        ["/blog/post-1/", "document 'p1' (route 'post') and document 'p9' (route 'post')",
         "give one of them another slug"],
        {"blog/index.html", "blog/post-1/index.html", "sitemap.xml"},
    ),
    "slug_is_a_list_path": (
        _write("blog.md", "---\ntitle: Blog\n---\nA page whose slug is blog.\n"),
        ["document 'md.blog' (route 'page') has the path '/blog/' of route 'index'",
         "give it another slug"],
        set(),
    ),
    "bad_line": (
        lambda site: _append(site, '{"_id": "p9", broken'),
        ["content/data.ndjson:4:", "invalid JSON", "the line is skipped"],
        set(),
    ),
    "missing_id": (
        lambda site: _append(site, json.dumps({"_type": "post", "title": "No id"})),
        ["content/data.ndjson:4: missing _id"],
        set(),
    ),
    "duplicate_id": (
        lambda site: _append(site, json.dumps(post(1, title="Impostor"))),
        ["content/data.ndjson:4: duplicate _id 'p1' (first defined at content/data.ndjson:2)"],
        set(),
    ),
    "bad_front_matter": (
        _write("note.md", "---\ntitle: [unclosed\n---\nbody\n"),
        ["content/note.md:3: invalid YAML front matter", "the file is skipped"],
        set(),
    ),
}
NAMES = sorted(FAULTS)


def _site(tmp_path: Path) -> Path:
    return make_site(tmp_path, docs=list(DOCS), toml=TOML, templates=TEMPLATES)


def _clean(tmp_path: Path) -> dict[str, bytes]:
    """The output of a clean build of the site without the fault."""
    site = _site(tmp_path / "reference")
    build(load_config(site), full=True)
    return output_files(site)


def _same_except(got: dict[str, bytes], want: dict[str, bytes], involved: set[str]) -> None:
    assert {k: v for k, v in got.items() if k not in involved} == {
        k: v for k, v in want.items() if k not in involved}


def _fix(site: Path) -> None:
    write_docs(site, list(DOCS))
    for name in ("blog.md", "note.md"):
        (site / "content" / name).unlink(missing_ok=True)


def _failures(site: Path) -> list[str]:
    manifest = Manifest.open(site / ".ssgen" / "manifest.sqlite")
    try:
        return [failure.path for failure in manifest.failures()]
    finally:
        manifest.close()


@pytest.mark.parametrize("fault", NAMES)
def test_fresh_site_builds_everything_else(tmp_path: Path, fault: str) -> None:
    inject, said, involved = FAULTS[fault]
    site = _site(tmp_path)
    inject(site)
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 1, result.output
    for words in said:
        assert words in result.output
    assert "1 content error" in result.output
    _same_except(output_files(site), _clean(tmp_path), involved)
    if fault == "duplicate_slug":  # neither document is published at the shared path
        assert not (site / "public/blog/post-1").exists()
        assert b"/blog/post-1/" not in (site / "public/sitemap.xml").read_bytes()


@pytest.mark.parametrize("fault", NAMES)
def test_existing_site_keeps_the_last_good_page_and_recovers(tmp_path: Path, fault: str) -> None:
    inject, said, involved = FAULTS[fault]
    site = _site(tmp_path)
    assert run_cli("--site", str(site), "build").exit_code == 0
    before = output_files(site)
    inject(site)
    for _ in range(2):  # reported again while it lasts (the build is incremental)
        result = run_cli("--site", str(site), "build")
        assert result.exit_code == 1, result.output
        assert all(words in result.output for words in said)
        assert len(_failures(site)) == 1
        _same_except(output_files(site), before, involved)
    if fault == "duplicate_slug":
        got = output_files(site)
        assert got["blog/post-1/index.html"] == before["blog/post-1/index.html"]
    _fix(site)
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 0, result.output
    assert _failures(site) == []
    assert output_files(site) == _clean(tmp_path)


@pytest.mark.parametrize("fault", NAMES)
@pytest.mark.parametrize("fresh", [True, False], ids=["fresh", "existing"])
def test_serve_publishes_the_rest_and_waits_for_the_fix(tmp_path: Path, fault: str,
                                                        fresh: bool) -> None:
    inject, said, involved = FAULTS[fault]
    site = _site(tmp_path)
    if fresh:
        inject(site)
    with running_server(site, wait_timeout=10) as srv:
        if not fresh:
            before = output_files(site)
            inject(site)
            reply = sanity_webhook(srv.client, {"_id": "p9", "_type": "post"})
            assert reply.status_code == 200 and reply.json()["ok"] is False
            (failure,) = reply.json()["failures"]
            assert all(words in failure["error"] for words in said)
            if fault == "duplicate_slug":
                assert (output_files(site)["blog/post-1/index.html"]
                        == before["blog/post-1/index.html"])
        status = wait_idle(srv.client)
        assert status["state"] == "idle" and status["retry_in"] is None
        assert status["queue_depth"] == 0
        (failure,) = status["failures"]
        assert all(words in failure["error"] for words in said)
        _same_except(output_files(site), _clean(tmp_path), involved)
        # Another editor's unrelated change is published while the fault stays.
        docs = [author("a1", "Ada"), post(1), post(2, title="Edited")]
        text = (site / "content" / "data.ndjson").read_text().splitlines()
        text[2] = json.dumps(docs[2])  # line 3: post 2 (lines after it are the fault's)
        (site / "content" / "data.ndjson").write_text("\n".join(text) + "\n")
        reply = srv.client.post("/api/revalidate?wait=1",
                                json={"secret": SECRET, "tags": ["post:post-2"]})
        assert reply.status_code == 200
        assert b"Edited" in (site / "public/blog/post-2/index.html").read_bytes()
        assert len(wait_idle(srv.client)["failures"]) == 1
        _fix(site)
        write_docs(site, docs)
        reply = sanity_webhook(srv.client, {"_id": "p1", "_type": "post"})
        assert reply.status_code == 200 and reply.json()["ok"] is True, reply.json()
        status = wait_idle(srv.client)
        assert status["failures"] == [] and status["last_error"] is None
        assert output_files(site) == _clean_copy(site, tmp_path)


def _clean_copy(site: Path, tmp_path: Path) -> dict[str, bytes]:
    """The output of a clean full build of the site's current state."""
    copy = tmp_path / "copy"
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("public", ".ssgen"))
    build(load_config(copy), full=True)
    return output_files(copy)


def test_a_page_that_moves_to_another_route_is_not_removed(tmp_path: Path) -> None:
    """A path that changes route in an incremental build is written, not deleted."""
    toml = TOML + """
[[routes]]
name = "landing"
path = "/{slug}/"
template = "page.html"
query = '*[_type == "landing"]{_id, title, "slug": slug.current}'
"""
    page = {"_id": "x", "_type": "page", "title": "X", "slug": {"current": "x"}}
    site = make_site(tmp_path, docs=[*DOCS, page], toml=toml, templates=TEMPLATES)
    assert run_cli("--site", str(site), "build").exit_code == 0
    write_docs(site, [*DOCS, {**page, "_type": "landing", "title": "Moved"}])
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 0, result.output
    assert b"Moved" in (site / "public/x/index.html").read_bytes()
    assert output_files(site) == _clean_copy(site, tmp_path)


def test_a_partial_build_sees_the_page_of_a_route_it_did_not_requery(tmp_path: Path) -> None:
    """A new page whose path a page of another (not re-queried) route holds: the same
    clash as a full build finds, whichever build sees it first."""
    toml = TOML + """
[[routes]]
name = "landing"
path = "/{slug}/"
template = "page.html"
query = '*[_type == "landing"]{_id, title, "slug": slug.current}'
"""
    landing = {"_id": "y", "_type": "landing", "title": "Landing", "slug": {"current": "y"}}
    site = make_site(tmp_path, docs=[*DOCS, landing], toml=toml, templates=TEMPLATES)
    assert run_cli("--site", str(site), "build").exit_code == 0
    before = output_files(site)
    page = {"_id": "z", "_type": "page", "title": "Page", "slug": {"current": "y"}}
    write_docs(site, [*DOCS, landing, page])
    for full in ([], ["--full"], []):
        result = run_cli("--site", str(site), "build", *full)
        assert result.exit_code == 1, result.output
        assert "document 'z' (route 'page') and document 'y' (route 'landing')" in (
            result.output.replace("\n", " ")) or (
            "document 'y' (route 'landing') and document 'z' (route 'page')" in result.output)
        assert output_files(site)["y/index.html"] == before["y/index.html"]
    write_docs(site, [*DOCS, landing, {**page, "slug": {"current": "z"}}])
    assert run_cli("--site", str(site), "build").exit_code == 0
    assert output_files(site) == _clean_copy(site, tmp_path)


def test_query_warns_of_left_out_documents(tmp_path: Path) -> None:
    site = _site(tmp_path)
    _append(site, '{"_id": "p9", broken')
    result = run_cli("--site", str(site), "query", 'count(*[_type == "post"])')
    assert result.exit_code == 0 and result.stdout.strip() == "2"
    assert "warning: content/data.ndjson:4:" in result.stderr
