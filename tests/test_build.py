"""The site build end to end: output, write-if-changed, failures, bad input, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sitekit import (
    author,
    copy_history,
    make_site,
    no_temp_files,
    output_files,
    post,
    run_cli,
    write_docs,
)

from ssgen.build.pipeline import build
from ssgen.config.load import load_config

REPO = Path(__file__).resolve().parent.parent


def test_small_site_builds_every_page(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 0, result.output
    files = output_files(site)
    assert "blog/post-1/index.html" in files
    assert "blog/post-2/index.html" in files
    assert b"<h1>Post 1</h1><p>by Ada</p>" in files["blog/post-1/index.html"]
    assert b'href="/blog/post-2/"' in files["blog/index.html"]
    assert {"sitemap.xml", "robots.txt"} <= files.keys()
    assert b"https://example.com/blog/post-1/" in files["sitemap.xml"]


def test_second_build_writes_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    config = load_config(site)
    first = build(config)
    assert first.written > 0
    mtimes = {p: p.stat().st_mtime_ns for p in (site / "public").rglob("*") if p.is_file()}
    second = build(config)
    assert (second.written, second.rendered, second.removed) == (0, 0, 0)
    assert second.unchanged == first.rendered
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes


def test_changes_file_lists_new_changed_deleted(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert run_cli("--site", str(site), "build").exit_code == 0
    write_docs(site, [author("a1", "Ada"), post(1, title="Renamed"), post(3)])
    changes = tmp_path / "changes.json"
    result = run_cli("--site", str(site), "build", "--changes", str(changes))
    assert result.exit_code == 0, result.output
    payload = json.loads(changes.read_text())
    assert "blog/post-3/index.html" in payload["new"]
    assert "blog/post-1/index.html" in payload["changed"]
    # The deleted post's page became its 410 stub (docs/redirects.md): changed, not deleted.
    assert "blog/post-2/index.html" in payload["changed"]
    assert b"<title>Gone</title>" in (site / "public/blog/post-2/index.html").read_bytes()


def test_full_build_equals_incremental(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    config = load_config(site)
    build(config)
    write_docs(site, [author("a1", "Grace"), post(1), post(4)])
    build(config)
    incremental = output_files(site)
    shutil.copytree(site / ".ssgen", tmp_path / "kept" / ".ssgen")
    shutil.rmtree(site / "public")
    shutil.rmtree(site / ".ssgen")
    copy_history(tmp_path / "kept", site)  # path history is state (redirects): kept
    build(config)
    assert output_files(site) == incremental


def test_undefined_variable_fails_only_that_page(tmp_path: Path) -> None:
    templates = {
        "base.html": "{% block content %}{% endblock %}\n",
        "post.html": (
            '{% extends "base.html" %}{% block content %}\n'
            "{% if page.slug == 'post-2' %}{{ page.missing_field }}{% endif %}{{ page.title }}"
            "{% endblock %}"
        ),
        "list.html": "{{ page | length }}",
    }
    site = make_site(tmp_path, templates=templates)
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 1
    assert "/blog/post-2/" in result.output
    assert "templates/post.html:2" in result.output
    assert "missing_field" in result.output
    files = output_files(site)
    assert "blog/post-1/index.html" in files
    assert "blog/post-2/index.html" not in files
    assert no_temp_files(site)


def test_failed_page_keeps_last_good_version(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert run_cli("--site", str(site), "build").exit_code == 0
    good = (site / "public/blog/post-1/index.html").read_bytes()
    (site / "templates/post.html").write_text("{% extends 'base.html' %}{% block content %}{{ page.nope }}{% endblock %}")
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 1
    assert (site / "public/blog/post-1/index.html").read_bytes() == good
    # Fixing the template recovers every page.
    (site / "templates/post.html").write_text("{% extends 'base.html' %}{% block content %}ok {{ page.title }}{% endblock %}")
    assert run_cli("--site", str(site), "build").exit_code == 0
    assert b"ok Post 1" in (site / "public/blog/post-1/index.html").read_bytes()


def test_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    templates = {
        "base.html": "x",
        "post.html": "line one\n{% if %}\n",
        "list.html": "list",
    }
    site = make_site(tmp_path, templates=templates)
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 1
    assert "templates/post.html:2" in result.output
    assert not (site / "public/blog/post-1").exists()


def test_groq_syntax_error_in_route_is_config_error(tmp_path: Path) -> None:
    from sitekit import DEFAULT_TOML

    toml = DEFAULT_TOML.replace("order(title asc)", "order(title asc")
    site = make_site(tmp_path, toml=toml)
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 2
    assert "routes[1].query" in result.output
    assert "^" in result.output
    assert not (site / "public").exists()


def test_bad_ndjson_line_names_file_and_line(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    with (site / "content/data.ndjson").open("a") as fh:
        fh.write("{not json}\n")
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 1
    assert "data.ndjson:4" in result.output
    assert (site / "public" / "blog" / "index.html").is_file()  # the rest is published


@pytest.mark.parametrize("slug", ["../../etc", "/etc/passwd", "a/../../b", "..", "x\\..\\y"])
def test_path_traversal_slug_is_rejected(tmp_path: Path, slug: str) -> None:
    site = make_site(tmp_path, docs=[author("a1", "Ada"), post(1), post(2, slug={"current": slug})])
    result = run_cli("--site", str(site), "build")
    assert result.exit_code in (1, 2)
    assert "post" in result.output
    assert not (tmp_path / "etc").exists()
    for path in tmp_path.rglob("*"):
        assert path.is_relative_to(site), path


def test_duplicate_paths_name_both_routes(tmp_path: Path) -> None:
    from sitekit import DEFAULT_TOML

    toml = DEFAULT_TOML + """
[[routes]]
name = "clash"
path = "/blog/post-1/"
template = "list.html"
query = '*[_type == "post"]'
"""
    site = make_site(tmp_path, toml=toml)
    result = run_cli("--site", str(site), "build")
    # The path fixed in ssgen.toml wins; the document's page fails, the rest is built.
    assert result.exit_code == 1
    assert "document 'p1' (route 'post')" in result.output and "'clash'" in result.output
    assert "/blog/post-1/" in result.output and "another slug" in result.output
    assert (site / "public" / "blog" / "post-2" / "index.html").is_file()


def test_invalid_config_exit_code_two(tmp_path: Path) -> None:
    site = make_site(tmp_path, toml="[site]\ntitel = 'x'\n")
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 2
    assert "titel" in result.output and "title" in result.output


def test_missing_config_suggests_init(tmp_path: Path) -> None:
    result = run_cli("--site", str(tmp_path), "build")
    assert result.exit_code == 2
    assert "ssgen init" in result.output


def test_parallel_build_equals_serial(tmp_path: Path) -> None:
    docs = [author("a1", "Ada")] + [post(n) for n in range(300)]
    site = make_site(tmp_path, docs=docs)
    config = load_config(site)
    report = build(config, jobs=2)
    assert report.ok and report.rendered == 301
    parallel = output_files(site)
    shutil.rmtree(site / "public")
    shutil.rmtree(site / ".ssgen")
    build(config, jobs=1)
    assert output_files(site) == parallel


def test_query_command_prints_json(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    result = run_cli("--site", str(site), "query", '*[_type == "post"] | order(_id)._id')
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == ["p1", "p2"]
    result = run_cli("--site", str(site), "query", "*[_id == $id][0].title", "--param", 'id="p2"')
    assert json.loads(result.stdout) == "Post 2"


def test_query_command_shows_syntax_error_with_caret(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    result = run_cli("--site", str(site), "query", '*[_type == "post"')
    assert result.exit_code == 2
    assert "^" in result.output


def test_init_scaffold_builds(tmp_path: Path) -> None:
    target = tmp_path / "new"
    assert run_cli("init", str(target)).exit_code == 0
    result = run_cli("--site", str(target), "build")
    assert result.exit_code == 0, result.output
    assert (target / "public" / "index.html").is_file()
    assert run_cli("init", str(target)).exit_code == 2


def test_default_site_builds_and_rebuild_writes_nothing(tmp_path: Path) -> None:
    site = tmp_path / "default"
    for name in ("ssgen.toml", "content", "templates", "static"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, site / name)
        else:
            site.mkdir(exist_ok=True)
            shutil.copy(src, site / name)
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 0, result.output
    files = output_files(site)
    assert {"index.html", "404.html", "feed.xml", "sitemap.xml", "blog/index.html"} <= files.keys()
    assert "blog/page/2/index.html" in files
    assert any(name.startswith("authors/") for name in files)
    second = run_cli("--site", str(site), "build")
    assert second.exit_code == 0
    assert "(0 written" in second.output


def test_second_build_waits_for_the_lock(tmp_path: Path) -> None:
    import threading
    import time

    from ssgen.manifest.lock import BuildLock

    site = make_site(tmp_path)
    config = load_config(site)
    holder = BuildLock(site, wait=False)
    holder.acquire()
    done: list[float] = []
    thread = threading.Thread(target=lambda: done.append(build(config).seconds))
    thread.start()
    time.sleep(0.5)
    assert not done, "the build must wait while another holds the lock"
    assert not (site / "public").exists()
    holder.release()
    thread.join(timeout=60)
    assert done and (site / "public/blog/post-1/index.html").is_file()


def test_static_file_clashing_with_a_page_is_an_error(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (site / "static/blog/post-1").mkdir(parents=True)
    (site / "static/blog/post-1/index.html").write_text("static copy")
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 1
    assert "static/blog/post-1/index.html" in result.output
    # Issue 13 item 5: the page fails alone; the static file and every other page are written.
    assert (site / "public/blog/post-1/index.html").read_bytes() == b"static copy"
    assert b"<h1>Post 2</h1>" in (site / "public/blog/post-2/index.html").read_bytes()


def test_webhook_style_path_without_trailing_slash_reaches_the_page(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert run_cli("--site", str(site), "build").exit_code == 0
    page = site / "public/blog/post-1/index.html"
    page.write_text("tampered")
    assert run_cli("--site", str(site), "revalidate", "--path", "/blog/post-1").exit_code == 0
    assert b"<h1>Post 1</h1>" in page.read_bytes()


def test_unchanged_site_is_not_even_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ssgen.build.pipeline.pages as build_module

    site = make_site(tmp_path)
    config = load_config(site)
    build(config)

    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged site must not be loaded")

    monkeypatch.setattr(build_module, "load_source", no_load)
    report = build(config)
    assert report.ok and report.written == 0 and report.unchanged == 3
    monkeypatch.undo()
    # Same size, same second: the fingerprint is the bytes, not the mtime.
    data = (site / "content/data.ndjson").read_text()
    (site / "content/data.ndjson").write_text(data.replace("Post 1", "Post 9"))
    report = build(config)
    assert "blog/post-1/index.html" in report.changed
    assert b"Post 9" in (site / "public/blog/post-1/index.html").read_bytes()


def test_a_json_file_the_source_does_not_read_is_named_in_a_warning(tmp_path: Path) -> None:
    from sitekit import DEFAULT_TOML

    site = make_site(tmp_path, toml=DEFAULT_TOML.replace('files = ["content/data.ndjson"]\n', ""))
    (site / "content/extra").mkdir()
    (site / "content/extra/posts.json").write_text('[{"_id": "p9", "_type": "post"}]')
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "content/extra/posts.json is not read" in result.output
    assert "jq -c" in result.output
    # Listed with `files`, the dataset is exactly those files: nothing to warn about.
    (site / "ssgen.toml").write_text(DEFAULT_TOML)
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 0 and "not read" not in result.output


def test_a_neighbour_edit_renders_only_pages_whose_templates_show_neighbours(
    tmp_path: Path,
) -> None:
    from sitekit import DEFAULT_TEMPLATES

    docs = [author("a1", "Ada"), post(1), post(2), post(3)]
    site = make_site(tmp_path, docs)
    config = load_config(site)
    build(config)
    docs[2] = post(2, title="Retitled")  # p2: the neighbour of p1 and p3
    write_docs(site, docs)
    report = build(config)
    # post.html does not read prev/next: p1's and p3's data did not change.
    assert report.rendered == 2  # /blog/post-2/ and the index
    assert sorted(report.changed) == ["blog/index.html", "blog/post-2/index.html"]
    # Once the template shows the neighbours, every post page has them.
    (site / "templates/post.html").write_text(DEFAULT_TEMPLATES["post.html"].replace(
        "</h1>", "</h1>{% if next %}<a href=\"{{ next_url }}\">{{ next.title }}</a>{% endif %}"))
    build(config)
    assert 'href="/blog/post-2/">Retitled</a>' in (site / "public/blog/post-1/index.html").read_text()
    docs[2] = post(2, title="Again")
    write_docs(site, docs)
    report = build(config)
    assert "blog/post-1/index.html" in report.changed  # its `next` changed
    assert "Again" in (site / "public/blog/post-1/index.html").read_text()
