"""``serve --watch`` waits for edits to settle: an editor's in-place save (truncate, pause,
write) never publishes the emptied file, and an empty ssgen.toml never deletes the site."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from servekit import Queued, Running, running_server, wait_for, wait_idle
from sitekit import copy_history, make_site, markdown_site, output_files

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.serve.watch import Watcher

PAUSE = 0.6  # the writer's pause: above the 0.2 s settle window, below the empty wait


def truncate(path: Path) -> None:
    """The first half of an in-place save: the file emptied, its writer not yet back."""
    path.open("w").close()


def full_build(site: Path, scratch: Path) -> dict[str, bytes]:
    """A clean full build of ``site``'s files (and its path history) in ``scratch``."""
    shutil.copytree(site, scratch, ignore=shutil.ignore_patterns("public", ".ssgen"))
    copy_history(site, scratch)
    report = build(load_config(scratch), full=True, jobs=1)
    assert report.ok, report.failures
    return output_files(scratch)


def overlay(srv: Running) -> str | None:
    error: str | None = srv.client.get("/_ssgen/livereload").json()["error"]
    return error


def test_an_emptied_file_is_waited_on_longer_and_a_busy_one_no_longer_than_max_wait(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path)
    template = site / "templates" / "post.html"
    text = template.read_text()
    queued, now = Queued(), [100.0]
    watcher = Watcher(load_config(site), queued, settle=0.2, empty_wait=1.0, max_wait=2.0,
                      clock=lambda: now[0])

    def tick(when: float, changed: set[Path] | None = None) -> int:
        now[0] = when
        watcher._handle(changed or set())
        return len(queued.changes)

    truncate(template)
    assert tick(100.0, {template}) == 0
    assert tick(100.5) == 0  # still for 0.5 s, but empty: not yet
    template.write_text(text + "<!-- saved -->")
    assert tick(100.6, {template}) == 0
    assert tick(100.7) == 0
    assert tick(100.85) == 1  # whole and still since 100.6: once
    assert queued.changes[0][0].templates == frozenset({"post.html"})
    assert tick(101.5, {template}) == 1  # the same stamp again: nothing new

    truncate(template)
    assert tick(102.0, {template}) == 1
    assert tick(102.9) == 1
    assert tick(103.0) == 2  # empty for 1.0 s: taken as empty

    for step in range(20):  # written every 0.1 s, never still for 0.2 s
        template.write_text(text * (step + 2))
        assert tick(104.0 + step / 10, {template}) == 2
    template.write_text(text)
    assert tick(106.0, {template}) == 3  # 2.0 s after 104.0, though it just moved


def test_a_template_saved_in_place_is_never_rendered_empty(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    template = site / "templates" / "post.html"
    page = site / "public" / "blog" / "post-1" / "index.html"
    edited = template.read_text().replace("{{ page.title }}", "{{ page.title }} (saved)")
    assert "(saved)" in edited
    with running_server(site, secret=None, dev=True, watch=True,
                        watch_options={"empty_wait": 3.0, "max_wait": 5.0}) as srv:
        before, served = page.read_bytes(), srv.client.get("/blog/post-1/").content
        truncate(template)
        time.sleep(PAUSE)
        wait_idle(srv.client)  # a round the emptied file started, if any, is over
        assert page.read_bytes() == before
        assert srv.client.get("/blog/post-1/").content == served
        template.write_text(edited)
        wait_for(lambda: b"(saved)" in page.read_bytes(), what="the saved template")
        assert overlay(srv) is None
    assert output_files(site) == full_build(site, tmp_path / "full")


def test_a_markdown_page_saved_in_place_is_never_published_empty(tmp_path: Path) -> None:
    site = markdown_site(tmp_path)
    source = site / "content" / "a.md"
    source.write_text("---\ntitle: Aye\n_type: page\n---\nBody of Aye.\n")
    page = site / "public" / "a" / "index.html"
    with running_server(site, secret=None, dev=True, watch=True,
                        watch_options={"empty_wait": 3.0, "max_wait": 5.0}) as srv:
        before, served = page.read_bytes(), srv.client.get("/a/").content
        assert b"Body of Aye" in before
        truncate(source)
        time.sleep(PAUSE)
        wait_idle(srv.client)  # a round the emptied file started, if any, is over
        assert page.read_bytes() == before
        assert srv.client.get("/a/").content == served
        source.write_text("---\ntitle: Aye\n_type: page\n---\nBody of Aye, saved.\n")
        wait_for(lambda: b"Aye, saved" in page.read_bytes(), what="the saved page")
    assert output_files(site) == full_build(site, tmp_path / "full")


def test_an_empty_ssgen_toml_keeps_the_last_good_site_and_shows_why(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    toml = site / "ssgen.toml"
    text = toml.read_text()
    page = site / "public" / "blog" / "post-1" / "index.html"
    with running_server(site, secret=None, dev=True, watch=True,
                        watch_options={"empty_wait": 0.3, "max_wait": 1.0}) as srv:
        before, files = srv.client.get("/blog/post-1/").content, output_files(site)
        truncate(toml)  # the writer pauses past the empty wait: the empty file is read
        wait_for(lambda: overlay(srv) is not None or output_files(site) != files,
                 what="the refused config")
        assert "ssgen.toml" in (overlay(srv) or "") and "no [[routes]]" in (overlay(srv) or "")
        assert output_files(site) == files
        assert srv.client.get("/blog/post-1/").content == before
        assert srv.worker.config.routes
        toml.write_text(text.replace('title = "Test"', 'title = "Saved"'))
        wait_for(lambda: b"<title>Saved</title>" in page.read_bytes(), what="the saved config")
        wait_for(lambda: overlay(srv) is None, what="the overlay cleared")
    assert output_files(site) == full_build(site, tmp_path / "full")
