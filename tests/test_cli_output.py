"""What builds print: plain progress off a terminal, summaries whose counts add up, the
reason for a full build and per-stage timings (``-v``), and identical failures grouped
(in the CLI and in serve's live-reload overlay)."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from servekit import SECRET, running_server, wait_for
from sitekit import author, make_site, output_files, post, run_cli

import ssgen.build.pipeline.pages
from ssgen import __version__
from ssgen.build.opening import full_build_reason
from ssgen.build.progress import Reporter
from ssgen.build.report import PageFailure, group_failures
from ssgen.manifest.schema import TAG_SCHEME


def _plain(text: str) -> str:
    return re.sub(r"\d+\.\d\ds", "X.XXs", text)


def test_off_a_terminal_progress_is_a_plain_line_every_tenth_after_two_seconds() -> None:
    out = io.StringIO()
    now = [0.0]
    reporter = Reporter(Console(file=out, width=200), 1, clock=lambda: now[0])
    with reporter.progress("Rendering", 100) as advance:
        advance(5)  # within the quiet first seconds: nothing
        now[0] = 3.0
        advance(10)  # 15%: crosses a tenth
        advance(2)  # 17%: no new tenth, no time passed
        now[0] = 9.0
        advance(1)  # 18%: 6 s since the last line
        now[0] = 9.5
        advance(82)
    assert out.getvalue().splitlines() == [
        "Rendering: 15/100 (15%), 3.0s",
        "Rendering: 18/100 (18%), 9.0s",
        "Rendering: 100/100 (100%), 9.5s",
    ]


def test_a_quiet_reporter_prints_no_progress() -> None:
    out = io.StringIO()
    reporter = Reporter(Console(file=out), 0, clock=lambda: 100.0)
    with reporter.progress("Rendering", 10) as advance:
        advance(10)
    assert out.getvalue() == ""


def test_summary_of_a_full_rebuild_of_identical_content_adds_up(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    first = run_cli("--site", str(site), "build")
    assert _plain(first.output).splitlines()[-1] == (
        "full build: 3 pages: 3 rendered (3 written, 0 identical, 0 failed), 0 up to date; "
        "0 removed, 2 site files written in X.XXs")
    again = run_cli("--site", str(site), "build", "--full")
    assert _plain(again.output).splitlines()[-1] == (
        "full build: 3 pages: 3 rendered (0 written, 3 identical, 0 failed), 0 up to date; "
        "0 removed in X.XXs")
    (site / "templates" / "list.html").write_text("{{ page | length }} posts")
    edited = run_cli("--site", str(site), "build")
    assert _plain(edited.output).splitlines()[-1] == (
        "incremental build: 3 pages: 1 rendered (1 written, 0 identical, 0 failed), "
        "2 up to date; 0 removed in X.XXs")


def test_verbose_build_gives_stage_timings_and_the_real_reason_for_a_full_build(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path)
    first = run_cli("--site", str(site), "-v", "build")
    assert "full build because: no manifest yet" in first.output
    stages = next(line for line in first.output.splitlines() if line.startswith("stages:"))
    # The five stages, then the others the build ran (the images', the snapshot's).
    assert [part.split()[0] for part in stages[len("stages: "):].split(", ")] == [
        "load", "query", "render", "write", "record", "images", "snapshot"]
    drafts = run_cli("--site", str(site), "-v", "build", "--drafts")
    assert "full rebuild: --drafts given since the last build" in drafts.output
    back = run_cli("--site", str(site), "build")
    assert "full rebuild: --drafts dropped since the last build" in back.output
    full = run_cli("--site", str(site), "-v", "build", "--full")
    assert "full build because: --full" in full.output
    same = run_cli("--site", str(site), "-v", "build")
    assert "full build because" not in same.output and "full rebuild" not in same.output


def test_a_build_after_an_interrupted_first_build_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(ssgen.build.pipeline.pages, "record_build", interrupted)
        assert run_cli("--site", str(site), "build").exit_code == 130
    result = run_cli("--site", str(site), "build")
    assert "full rebuild: the last build did not finish (interrupted)" in result.output
    assert "configuration or ssgen version" not in result.output


def test_full_build_reasons_name_what_changed() -> None:
    key, version = "abc:published", __version__
    assert full_build_reason(version, TAG_SCHEME, key, key) == ""
    assert full_build_reason("0.0.1", TAG_SCHEME, key, key) == (
        f"ssgen version changed (0.0.1 -> {version})")
    # A manifest of this release before ref: tags (pages tagged with their whole type).
    assert full_build_reason(version, None, key, key) == (
        f"tag scheme changed (none recorded -> {TAG_SCHEME})")
    assert full_build_reason(version, "types", key, key) == (
        f"tag scheme changed (types -> {TAG_SCHEME})")
    assert full_build_reason(version, TAG_SCHEME, "old:published", key).startswith(
        "configuration changed")
    assert full_build_reason(version, TAG_SCHEME, "abc:raw", key) == (
        "perspective changed (raw -> published)")


# A manifest as round 14's main left it (the scheme in the version string) and one of
# this release from before the ref: tags (nothing recorded but the version).
@pytest.mark.parametrize("recorded", [f"{__version__}+ref-tags", __version__])
def test_a_manifest_without_a_recorded_tag_scheme_is_rebuilt_in_full(
        tmp_path: Path, recorded: str) -> None:
    site = make_site(tmp_path, [author("a1", "Ada"), *(post(n) for n in range(1, 4))])
    assert run_cli("--site", str(site), "build").exit_code == 0
    with sqlite3.connect(site / ".ssgen" / "manifest.sqlite") as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'tag_scheme'").fetchone() == (
            TAG_SCHEME,)
        conn.execute("DELETE FROM meta WHERE key = 'tag_scheme'")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'ssgen_version'", (recorded,))
    conn.close()
    before = output_files(site)
    again = run_cli("--site", str(site), "-v", "build")
    assert again.exit_code == 0, again.output
    assert f"full rebuild: tag scheme changed (none recorded -> {TAG_SCHEME})" in again.output
    assert "4 rendered" in again.output and output_files(site) == before
    same = run_cli("--site", str(site), "-v", "build")  # recorded now: built on
    assert "full rebuild" not in same.output and "full build because" not in same.output


def test_identical_failures_are_grouped_into_one_line(tmp_path: Path) -> None:
    templates = {"base.html": "<main>{% block content %}{% endblock %}</main>",
                 "post.html": "<h1>{{ page.titel }}</h1>", "list.html": "{{ page | length }}"}
    docs = [author("a1", "Ada"), *(post(n) for n in range(1, 6))]
    site = make_site(tmp_path, docs=docs, templates=templates)
    result = run_cli("--site", str(site), "build", "--jobs", "1")
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1
    assert failed[0].startswith("failed: templates/post.html:1: undefined: ")
    assert failed[0].endswith(
        "— 5 pages (route post): /blog/post-1/, /blog/post-2/, … (+3)")
    verbose = run_cli("--site", str(site), "-v", "build", "--jobs", "1")
    assert "/blog/post-5/" in verbose.output and "(+3)" not in verbose.output


def test_one_failing_page_keeps_its_path_first() -> None:
    groups = group_failures([PageFailure("/b/", "post", "x"), PageFailure("/a/", "post", "y"),
                             PageFailure("/c/", "post", "x"), PageFailure("/c/", "list", "x")])
    assert [g.describe() for g in groups] == [
        "x — 2 pages (route post): /b/, /c/", "/a/ (route post): y", "/c/ (route list): x"]


def test_the_live_reload_overlay_groups_identical_failures(tmp_path: Path) -> None:
    docs = [author("a1", "Ada"), *(post(n) for n in range(1, 5))]
    site = make_site(tmp_path, docs=docs)
    with running_server(site, dev=True) as srv:
        (site / "templates" / "post.html").write_text("{{ page.title | nope }}")
        reply = srv.client.post("/api/revalidate?wait=1",
                                json={"secret": SECRET, "tags": ["posts", "route:post"]})
        assert reply.status_code == 500

        def shown() -> str | None:
            error: str | None = srv.client.get("/_ssgen/livereload").json()["error"]
            return error

        # The overlay is told after the waiting replies went out (the round's listeners).
        wait_for(lambda: shown() is not None, what="the overlay's error")
        error = shown()
    assert error is not None and error.count("\n") == 0
    assert error.endswith("— 4 pages (route post): /blog/post-1/, /blog/post-2/, … (+2)")


def test_a_feed_without_dates_warns_and_uses_the_build_time(tmp_path: Path) -> None:
    from sitekit import DEFAULT_TOML

    toml = DEFAULT_TOML + '\n[feed]\nroute = "post"\n'
    site = make_site(tmp_path, toml=toml)
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 0, result.output
    assert "warning: feed /feed.xml: route 'post': no page has a 'publishedAt' date" in result.output
    assert "[feed] date_field" in result.output
    feed = (site / "public" / "feed.xml").read_text()
    assert "1970-01-01" not in feed
    updated = re.search(r"<updated>(\d{4})-\d\d-\d\dT[\d:]+Z</updated>", feed)
    assert updated and int(updated.group(1)) >= 2024


def test_feed_pages_without_a_date_are_named() -> None:
    from ssgen.config.load import FeedConfig
    from ssgen.render.generated import undated_warning

    feed = FeedConfig(route="post")
    message = undated_warning(feed, ["/a/", "/b/", "/c/"], 10)
    assert message == ("feed /feed.xml: route 'post': 3 of 10 pages have no 'publishedAt' and "
                       "are left out of the feed: /a/, /b/, … (+1)")
    assert undated_warning(feed, [], 10) is None


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.sampled_from(["edit", "add", "delete", "typo", "fix", "full", "none"]),
                      min_size=1, max_size=5))
def test_summary_counts_always_add_up(tmp_path_factory: pytest.TempPathFactory,
                                      steps: list[str]) -> None:
    from sitekit import write_docs

    from ssgen.build.pipeline import build
    from ssgen.config.load import load_config

    site = make_site(tmp_path_factory.mktemp("sum"))
    docs = [author("a1", "Ada"), post(1), post(2), post(3)]
    template = site / "templates" / "post.html"
    good = template.read_text()
    for step in steps:
        if step == "edit":
            docs[1] = {**docs[1], "title": docs[1]["title"] + "!"}
        elif step == "add":
            docs.append(post(len(docs) + 1))
        elif step == "delete" and len(docs) > 2:
            docs.pop()
        elif step == "typo":
            template.write_text("{{ page.titel }}")
        elif step == "fix":
            template.write_text(good)
        write_docs(site, docs)
        report = build(load_config(site), full=step == "full", jobs=1)
        pages = len(docs) - 1 + 1  # one page per post, plus the list page
        assert report.rendered + report.unchanged == pages, report.summary()
        assert report.rendered == report.written + report.identical + report.failed_pages
        assert f"{pages} pages: {report.rendered} rendered" in report.summary()


def test_a_slow_stage_is_reported_when_it_ends() -> None:
    from ssgen.build.report import StageTimer

    out = io.StringIO()
    reporter = Reporter(Console(file=out, width=200), 1)
    timer = StageTimer(on_done=reporter.slow_stage)
    timer.add("load", 0.5)
    reporter.slow_stage("load", 0.5)
    reporter.slow_stage("query", 12.34)
    Reporter(Console(file=out), 0).slow_stage("query", 99.0)
    assert out.getvalue() == "query: done in 12.3s\n"
    with timer("record"):
        pass
    assert list(timer.stages()) == ["load", "query", "render", "write", "record"]
