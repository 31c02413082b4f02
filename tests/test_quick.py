"""A new ``ssgen build`` through the quick plan (``ssgen.build.quick``): after an edit of
Markdown files that keeps each file's pages, only those pages are rendered, nothing else
loaded. Through every edit of ``test_lazy_markdown``'s property and template, static,
configuration and output changes, each new process's output equals a clean full build's
and its twin's (which never takes the quick path); mutants of the proof are caught."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import forget_process, mutant
from test_lazy_markdown import (
    NAMES,
    STEPS,
    apply,
    failures,
    full_build,
    make_site,
    page_file,
    public,
    settle,
)

import ssgen.build.quick as quick
from ssgen.build.pipeline import build
from ssgen.build.quick import plan as plans
from ssgen.build.quick import stats
from ssgen.config.load import load_config
from ssgen.sources import filecache


def ordinary(site: Path, jobs: int, remember: bool) -> list[tuple[str, str]]:
    """A new process's ordinary build (``remember``: leaving the quick plan, as a plain
    ``ssgen build`` does); its failures."""
    forget_process()
    report = build(load_config(site), jobs=jobs, remember=remember)
    return failures(report)


def quick_or_ordinary(site: Path, jobs: int) -> tuple[bool, list[tuple[str, str]]]:
    """A plain ``ssgen build`` in a new process: the quick path when it takes the build,
    else the ordinary one; whether the quick path took it, and the failures."""
    forget_process()
    report = quick.attempt(site, jobs)
    if report is not None:
        assert report.ok and report.rendered >= 0
        return True, []
    return False, ordinary(site, jobs, remember=True)


@contextmanager
def _short_racy() -> Iterator[None]:
    with mock.patch.object(filecache, "RACY_NS", 20_000_000), \
            mock.patch.object(plans, "RACY_NS", 20_000_000):
        yield


def quick_apply(site: Path, step: tuple[str, str, str], saved: dict[str, bytes]) -> None:
    kind, name, arg = step
    page = site / "content" / f"{name}.md"
    if kind == "body" and page.exists():
        page.write_text(page.read_text() + f"\nMore {arg}.\n")
    elif kind == "bodies":  # every file's content
        for path in sorted((site / "content").rglob("*.md")):
            path.write_text(path.read_text() + f"\nMore {arg}.\n")
    elif kind == "template":
        (site / "templates" / "page.html").write_text(f"{arg}{{{{ page.title }}}}|"
                                                      "{{ page.body }}")
    elif kind == "static":
        (site / "static").mkdir(exist_ok=True)
        (site / "static" / f"{name}.txt").write_text(arg)
    elif kind == "title":
        toml = site / "ssgen.toml"
        toml.write_text(toml.read_text().replace('title = "Lazy', f'title = "Lazy{arg}', 1))
    else:
        apply(site, step, saved)


QUICK_STEPS = st.one_of(
    STEPS,
    st.tuples(st.just("body"), st.sampled_from(NAMES), st.text("xyz", min_size=1, max_size=3)),
    st.tuples(st.just("template"), st.just(""), st.sampled_from(["<b>", "<i>"])),
    st.tuples(st.just("static"), st.sampled_from(["s", "t"]), st.sampled_from(["1", "22"])),
    st.tuples(st.just("title"), st.just(""), st.sampled_from(["1", "2"])),
)


def run_steps(steps: list[tuple[str, str, str]], listed: bool = False,
              jobs: list[int] | None = None) -> int:
    """Each step then a plain ``ssgen build`` of the site (quick when it can be) and an
    ordinary build of a twin: equal to each other, and to a clean full build when no page
    fails. How many builds the quick path took."""
    jobs = jobs or [1]
    took = 0
    with tempfile.TemporaryDirectory() as tmp, _short_racy():
        roots = [make_site(Path(tmp) / name, listed) for name in ("site", "twin")]
        for root in roots:
            for name in NAMES[:2]:
                (root / "content" / f"{name}.md").write_text(page_file(name.upper()))
            settle()
            ordinary(root, 1, remember=True)
        for index, step in enumerate(steps):
            settle()
            for root in roots:
                quick_apply(root, step, {})
            settle()
            went, got_failures = quick_or_ordinary(roots[0], jobs[index % len(jobs)])
            took += went
            twin = ordinary(roots[1], jobs[index % len(jobs)], remember=False)
            got, other = (public(roots[0]), got_failures), (public(roots[1]), twin)
            assert got == other, f"{step}: a new process differs from its twin's"
            expected = full_build(roots[0], Path(tmp) / "scratch")
            assert expected[1] or got == expected, \
                f"{step}: a new process differs from a full build"
    return took


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(QUICK_STEPS, min_size=1, max_size=6), listed=st.booleans(),
       jobs=st.lists(st.sampled_from([1, 2]), min_size=1, max_size=3))
def test_new_processes_through_the_quick_plan_equal_a_full_build(
        steps: list[tuple[str, str, str]], listed: bool, jobs: list[int]) -> None:
    run_steps(steps, listed, jobs)


BODIES = [("body", "a", "x"), ("body", "b", "y"), ("write", "a", "z"), ("body", "a", "w")]


def test_content_edits_that_keep_the_pages_go_quick() -> None:
    assert run_steps(BODIES, jobs=[2]) == 4
    assert run_steps(BODIES, jobs=[1]) == 4


def test_a_site_with_a_list_route_goes_quick_for_edits_of_what_it_does_and_does_not_read(
        ) -> None:
    # The list reads the titles: the bodies go quick, and so does the title write (the
    # list page made again from the plan's list documents, ``quick.relist``).
    assert run_steps(BODIES, listed=True, jobs=[2]) == 4


@pytest.mark.parametrize("step", [
    ("slug", "a", "s1"), ("type", "a", "note"), ("delete", "b", ""), ("rename", "a", "c"),
    ("bad", "a", ""), ("template", "", "<b>"), ("static", "s", "1"), ("title", "", "1"),
    ("output", "delete", "0"), ("output", "change", "1"), ("output", "all", "0"),
])
def test_what_is_not_a_content_edit_of_the_pages_goes_the_ordinary_way(
        step: tuple[str, str, str]) -> None:
    # A content edit first (quick), then the step (ordinary), then content edits again:
    # an ordinary build leaves a plan (not one whose lazy source loaded the full one: its
    # parse cache is not marked as the manifest's state), which the last one takes. A file
    # that fails to parse leaves a failing build: no plan while it stays so.
    bodies = ("bodies", "", "x")
    assert run_steps([bodies, step, bodies, bodies, bodies], jobs=[2]) >= (
        1 if step[0] == "bad" else 2)


def test_the_plan_is_forgotten_by_any_build_and_pending_after_a_quick_one(
        tmp_path: Path) -> None:
    with _short_racy():
        site = make_site(tmp_path / "site", listed=False)
        (site / "content" / "a.md").write_text(page_file("A"))
        settle()
        ordinary(site, 1, remember=True)
        assert plans.read(str(site)) is not None and not plans.pending(str(site))
        settle()
        (site / "content" / "a.md").write_text(page_file("A") + "more\n")
        assert quick_or_ordinary(site, 2)[0]
        assert plans.pending(str(site))
        ordinary(site, 1, remember=False)  # serve's or revalidate's build
        assert plans.read(str(site)) is None and not plans.pending(str(site))


def test_settle_records_what_quick_builds_wrote(tmp_path: Path) -> None:
    """``ssgen deploy`` and ``ssgen check`` read the manifest's hashes and links: after
    a quick build, ``settle`` has an ordinary build record its pages first."""
    import sqlite3

    from ssgen.build.output import sha256
    from ssgen.build.pipeline import settle_quick

    def recorded(site: Path) -> str:
        with sqlite3.connect(site / ".ssgen" / "manifest.sqlite") as db:
            return str(db.execute("SELECT hash FROM files WHERE relpath = 'a/index.html'")
                       .fetchone()[0])

    with _short_racy():
        site = make_site(tmp_path / "site", listed=False)
        (site / "content" / "a.md").write_text(page_file("A"))
        settle()
        ordinary(site, 1, remember=True)
        settle()
        (site / "content" / "a.md").write_text(page_file("A") + "more\n")
        assert quick_or_ordinary(site, 2)[0]
        page = site / "public" / "a" / "index.html"
        assert recorded(site) != sha256(page.read_bytes())
        forget_process()
        settle_quick(load_config(site))
        assert not plans.pending(str(site)) and recorded(site) == sha256(page.read_bytes())


@pytest.mark.parametrize("then", ["quick", "ordinary"])
def test_an_edit_put_back_is_built_back(tmp_path: Path, then: str) -> None:
    """The manifest still records the file's first content when a quick build wrote the
    second: put back, the first is built again, by the next quick build or by an
    ordinary one (which finds the page's bytes not the manifest's)."""
    with _short_racy():
        site = make_site(tmp_path / "site", listed=False)
        first = page_file("A")
        (site / "content" / "a.md").write_text(first)
        settle()
        ordinary(site, 1, remember=True)
        settle()
        (site / "content" / "a.md").write_text(first + "more\n")
        assert quick_or_ordinary(site, 2)[0]
        assert b"more" in (site / "public" / "a" / "index.html").read_bytes()
        settle()
        (site / "content" / "a.md").write_text(first)
        if then == "quick":
            assert quick_or_ordinary(site, 2)[0]
        else:
            ordinary(site, 2, remember=False)
        assert public(site) == full_build(site, tmp_path / "scratch")[0]


def test_a_page_found_intact_keeps_the_hash_a_quick_build_noted(tmp_path: Path) -> None:
    """A quick build notes the pages it wrote with their hashes; a later one that finds
    such a page racy and its bytes intact notes its stat again, and the plan keeps the
    written page's hash (not the last ordinary build's: the next check would fail)."""
    import hashlib

    from ssgen.build import damage_ahead

    with _short_racy(), mock.patch.object(damage_ahead, "RACY_NS", 60_000_000_000):
        site = make_site(tmp_path / "site", listed=False)
        for name in ("a", "b"):
            (site / "content" / f"{name}.md").write_text(page_file(name.upper()))
        settle()
        ordinary(site, 1, remember=True)
        for name in ("a", "b"):
            settle()
            path = site / "content" / f"{name}.md"
            path.write_text(path.read_text() + "more\n")
            assert quick_or_ordinary(site, 2)[0]
        plan = plans.read(str(site))
        assert plan is not None
        files = __import__("marshal").loads(plan["files"])
        for at, rel in enumerate(files):
            data = (site / "public" / rel).read_bytes()
            assert plan["hashes"][at * 32:(at + 1) * 32] == hashlib.sha256(data).digest(), rel


def test_ssgen_build_goes_quick_in_a_new_process(tmp_path: Path) -> None:
    """The console entry point: a plain ``ssgen build`` after a content edit takes the
    quick path (``-v`` names its stage), ``--changes`` lists the page, and the output is
    a full build's."""
    import json
    import os
    import subprocess
    import sys
    import time

    site = make_site(tmp_path / "site", listed=False)
    (site / "content" / "a.md").write_text(page_file("A"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

    def ssgen(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "ssgen", *args], cwd=site, env=env,
                              capture_output=True, text=True, check=True)
        return done.stderr

    time.sleep(1.1)  # the templates out of the plan's racy window
    ssgen("build", "--full")  # a clean build (CI's) leaves no plan: it costs ~12 us a page
    assert not (site / ".ssgen" / plans.FILE).exists()
    assert "quick" not in ssgen("-v", "build")
    assert (site / ".ssgen" / plans.FILE).exists()
    (site / "content" / "a.md").write_text(page_file("A") + "more\n")
    out = ssgen("-v", "build", "--changes", "changes.json")
    assert "stages: quick" in out and "1 rendered (1 written" in out
    assert json.loads((site / "changes.json").read_text())["changed"] == ["a/index.html"]
    assert public(site) == full_build(site, tmp_path / "scratch")[0]


def test_a_killed_writers_temp_file_is_swept(tmp_path: Path) -> None:
    """A quick build's first write sweeps the temp files a killed writer left in the
    output folder, from the listing its output child took (as an ordinary build does)."""
    with _short_racy():
        site = make_site(tmp_path / "site", listed=False)
        (site / "content" / "a.md").write_text(page_file("A"))
        settle()
        ordinary(site, 1, remember=True)
        left = site / "public" / ".ssgen-tmp-999999999-0"
        left.write_text("half a page")
        settle()
        (site / "content" / "a.md").write_text(page_file("A") + "more\n")
        assert quick_or_ordinary(site, 2)[0]
        assert not left.exists()
        assert public(site) == full_build(site, tmp_path / "scratch")[0]


def test_mutant_temp_listing_not_taken_is_caught(tmp_path: Path) -> None:
    real = stats.output

    def unlisted(plan: dict[str, object]) -> list[object]:
        return [real(plan)[0], []]

    with mutant(stats, "output", unlisted), pytest.raises(AssertionError):
        test_a_killed_writers_temp_file_is_swept(tmp_path)


def test_a_damaged_plan_or_journal_is_ignored(tmp_path: Path) -> None:
    with _short_racy():
        site = make_site(tmp_path / "site", listed=False)
        (site / "content" / "a.md").write_text(page_file("A"))
        settle()
        ordinary(site, 1, remember=True)
        path = Path(plans.path_of(str(site)))
        data = path.read_bytes()
        path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
        assert plans.read(str(site)) is None
        path.write_bytes(data)
        assert plans.read(str(site)) is not None
        journal = Path(str(path) + plans.JOURNAL)
        journal.write_bytes(b"\0\0\0\0junk")
        assert plans.read(str(site)) is None


# --- mutants ----------------------------------------------------------------------------------

TAMPER = [("body", "a", "x"), ("output", "delete", "0"), ("body", "b", "y"),
          ("output", "change", "1"), ("body", "a", "z")]


def test_the_sequences_the_mutants_fail_pass() -> None:
    assert run_steps(TAMPER, jobs=[2]) >= 1
    assert run_steps([("body", "a", "x"), ("template", "", "<b>"), ("body", "a", "y"),
                      ("body", "b", "z")], jobs=[2]) >= 2
    assert run_steps([("body", "a", "x"), ("slug", "a", "s1")], jobs=[2]) == 1


def test_mutant_output_not_checked_is_caught() -> None:
    with mutant(stats, "suspects", lambda plan: []), \
            pytest.raises(AssertionError, match="differs from"):
        run_steps(TAMPER, jobs=[2])


def test_mutant_templates_not_compared_is_caught() -> None:
    with mutant(plans, "tree_stamps", lambda root: []), \
            pytest.raises(AssertionError, match="differs from"):
        run_steps([("body", "a", "x"), ("template", "", "<b>"), ("body", "a", "y"),
                   ("body", "b", "z")], jobs=[2])


def test_mutant_pages_paired_by_position_is_caught() -> None:
    """A page whose path moved (a slug edit) must not take its file's old place: a mutant
    pairing the pages with the recorded files by position writes it there."""

    def by_position(pages: list[object], recorded: list[tuple[str, str, str, int]]
                    ) -> list[tuple[object, str, int]] | None:
        if len(pages) != len(recorded):
            return None
        return [(spec, file, index) for spec, (_, _, file, index)
                in zip(pages, recorded, strict=True)]

    with mutant(quick, "_paired", by_position), \
            pytest.raises(AssertionError, match="differs from"):
        run_steps([("body", "a", "x"), ("slug", "a", "s1")], jobs=[2])


def test_mutant_suspects_not_hashed_is_caught() -> None:
    """An output file whose stat changed is intact only if its bytes are the plan's: a
    mutant taking every suspect as intact leaves a file changed in place."""
    with mutant(quick, "_intact", lambda plan, suspects: {}), \
            pytest.raises(AssertionError, match="differs from"):
        run_steps([("body", "a", "x"), ("output", "change", "0")], jobs=[2])
