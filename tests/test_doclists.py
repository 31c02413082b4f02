"""Per-document list routes narrowed in a new process (``ssgen.build.doclists``).

A new process's build of a Markdown site evaluates a per-document route's query over the
changed documents alone, from the paths ``.ssgen/doclists.cache`` persisted; its output
must be a clean full build's, whatever the edits (titles, slugs, types that move a page
to another route, deletions, renames, same-size edits with the mtime put back, template
edits) and whatever happened to the file (an older copy, a flipped byte, truncation,
removal). The file a build leaves must hold what a full build of the same files leaves.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import forget_process

from ssgen.build import doclists
from ssgen.build.pipeline import build
from ssgen.build.scope import document_change
from ssgen.config.load import load_config
from ssgen.groq import parse
from ssgen.manifest.store import Manifest
from ssgen.sources import filecache

TOML = """
[site]
title = "Lists"
base_url = "https://example.com"

[source]
type = "local"
files = []
markdown_dir = "content"

[[routes]]
name = "page"
path = "/{slug}/"
template = "page.html"
query = '*[_type == "page"]{title, "slug": slug.current, body}'

[[routes]]
name = "note"
path = "/notes/{slug}/"
template = "note.html"
query = '*[_type == "note" && defined(title)]{_id, title, "slug": slug.current}'

[[routes]]
name = "all"
path = "/all/"
template = "all.html"
query = '*[_type == "page"] | order(title asc){title}'
"""

FILE = Path(".ssgen") / doclists.FILE
NAMES = ["a", "b", "c", "d"]
SLUGS = ["x", "y", "z", ""]  # "" : the file's name
TITLES = ["Alpha", "Beta", "Gamma"]
TYPES = ["page", "note"]


def make_site(root: Path) -> Path:
    (root / "content").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    (root / "ssgen.toml").write_text(TOML)
    (root / "templates" / "page.html").write_text("{{ page.title }}|{{ page.body }}")
    (root / "templates" / "note.html").write_text("note {{ page.title }} {{ page._id }}")
    (root / "templates" / "all.html").write_text("{% for p in page %}{{ p.title }};{% endfor %}")
    return root


def page_file(title: str, slug: str = "", kind: str = "page") -> str:
    return f"---\ntitle: {title}\ntype: {kind}\n" + (f"slug: {slug}\n" if slug else "") \
        + f"---\nBody of {title}.\n"


def public(site: Path) -> dict[str, bytes]:
    out = site / "public"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def new_process_build(site: Path, *, ok: bool = True) -> list[str]:
    """A new process's build; its failures (there must be none when ``ok``)."""
    forget_process()
    report = build(load_config(site), jobs=1)
    assert report.ok or not ok, report.failures
    return sorted(f"{f.path}: {f.message}" for f in report.failures)


def full_build(site: Path, scratch: Path) -> tuple[dict[str, bytes], dict[str, dict[str, str]],
                                                  list[str]]:
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(site, scratch, ignore=shutil.ignore_patterns("public", ".ssgen"))
    failures = new_process_build(scratch, ok=False)
    return public(scratch), saved_paths(scratch), failures


def saved_paths(site: Path) -> dict[str, dict[str, str]]:
    """The paths the next build would start from (none when it refuses the file)."""
    with Manifest.open(site / ".ssgen" / "manifest.sqlite") as manifest:
        found = doclists.load(load_config(site), manifest)
    return {} if found is None else found


def check(site: Path, scratch: Path, failures: list[str] | None = None) -> None:
    """The output (and ``failures``) are a clean full build's, and each route's paths
    the next build would read are those a full build leaves (a route it did not query,
    after the file was refused, is left out). A failing page keeps its last good file in an
    incremental build and has none in a clean one: with failures, only they compare."""
    full, paths, full_failures = full_build(site, scratch)
    assert failures is None or [f.replace(str(scratch), "") for f in full_failures] == \
        [f.replace(str(site), "") for f in failures]
    left = saved_paths(site)
    assert left == {route: paths.get(route) for route in left}, left
    if full_failures:
        return
    assert without_history(public(site)) == without_history(full)


_GONE = b'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n<meta name="robots"'


def without_history(files: dict[str, bytes]) -> dict[str, bytes]:
    """The output less what the path history makes (a clean build has none): the
    redirect files and the stub pages at old paths (compared with ``twin`` instead)."""
    return {name: data for name, data in files.items()
            if name not in ("_redirects", "redirects.json") and not data.startswith(_GONE)}


def twin_build(twin: Path) -> list[str]:
    """A new process's build that never narrows (the route queries run in full)."""
    with mock.patch.object(doclists.DocLists, "expand", lambda *args: None):
        return new_process_build(twin, ok=False)


@contextmanager
def counting() -> Iterator[list[str]]:
    """The routes each build narrowed (evaluated over changed documents only)."""
    narrowed: list[str] = []
    original = doclists.DocLists.expand

    def spy(self: doclists.DocLists, route: object, *args: object) -> object:
        found = original(self, route, *args)  # type: ignore[arg-type]
        if found is not None:
            narrowed.append(route.name)  # type: ignore[attr-defined]
        return found

    with mock.patch.object(doclists.DocLists, "expand", spy):
        yield narrowed


# --- which routes are per-document ---------------------------------------------------------


@pytest.mark.parametrize(("query", "pure"), [
    ('*[_type == "page"]{title, "slug": slug.current, body}', True),
    ('*[_type == "page" && defined(slug)]', True),
    ('*[_type == "page"]{"t": upper(title), "n": count(tags)}', True),
    ('*[_type == "page"] | order(title asc){title}', False),
    ('*[_type == "page"][0...3]{title}', False),
    ('*[_type == "page"]{title, "author": author->name}', False),
    ('*[_type == "page"]{title, "others": count(*[_type == "page"])}', False),
    ('*[_type == "page"]{title, "refs": *[references(^._id)]{title}}', False),
    ('*[_type == "page" && dateTime(date) < now()]{title}', False),
    ('*[_type == $kind]{title}', False),
    ('*[_type == "page"]{title}[0]', False),
])
def test_per_document_shapes(query: str, pure: bool) -> None:
    assert doclists._pure(parse(query)) is pure


# --- a new process after edits -------------------------------------------------------------


def start(site: Path) -> None:
    for name, title in zip(NAMES[:3], TITLES, strict=False):
        (site / "content" / f"{name}.md").write_text(page_file(title))
    new_process_build(site)  # full: no manifest yet


def test_a_one_file_edit_narrows_the_route_and_equals_a_full_build(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    start(site)
    assert (site / FILE).exists()
    (site / "content" / "b.md").write_text(page_file("Beta two", slug="moved"))
    with counting() as narrowed:
        new_process_build(site)
    assert narrowed == ["page"]
    out = public(site)
    assert "moved/index.html" in out and "b/index.html" not in out
    check(site, tmp_path / "scratch")


def test_an_edit_that_moves_no_path_keeps_the_file_and_the_next_build_reads_it(
        tmp_path: Path) -> None:
    """Every document's path as read: the file is left as it is (not written again) and
    the manifest's mark moves to the new pages generation, so the next build narrows."""
    site = make_site(tmp_path / "site")
    start(site)
    before = (site / FILE).read_bytes(), os.stat(site / FILE).st_mtime_ns
    generation = saved_generation(site)
    (site / "content" / "b.md").write_text(page_file("Beta two"))
    with counting() as narrowed:
        new_process_build(site)
    assert narrowed == ["page"] and saved_generation(site) != generation
    assert ((site / FILE).read_bytes(), os.stat(site / FILE).st_mtime_ns) == before
    check(site, tmp_path / "scratch")
    (site / "content" / "c.md").write_text(page_file("Gamma two", slug="moved"))
    with counting() as narrowed:
        new_process_build(site)
    assert narrowed == ["page"]
    assert (site / FILE).read_bytes() != before[0]
    check(site, tmp_path / "scratch")


def test_a_slug_two_documents_want_runs_the_route_in_full(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    start(site)
    (site / "content" / "b.md").write_text(page_file("Beta", slug="a"))
    with counting() as narrowed:
        forget_process()
        report = build(load_config(site), jobs=1)
    assert narrowed == []
    forget_process()
    full = build(load_config(site), full=True, jobs=1)
    assert sorted(f.message for f in report.failures) == sorted(f.message for f in full.failures)
    assert report.failures


def test_a_file_of_an_earlier_generation_is_not_used(tmp_path: Path) -> None:
    """Two pages swap paths; the file from before the swap (the same set of paths, each
    at the other document) is put back: it must not be used."""
    site = make_site(tmp_path / "site")
    start(site)
    old = (site / FILE).read_bytes()
    (site / "content" / "a.md").write_text(page_file("Alpha", slug="b"))
    (site / "content" / "b.md").write_text(page_file("Beta", slug="a"))
    new_process_build(site)
    assert saved_paths(site)["page"]["md.a"] == "/b/"
    (site / FILE).write_bytes(old)  # a at /a/, b at /b/
    (site / "content" / "a.md").write_text(page_file("Alpha", slug="z"))
    with counting() as narrowed:
        new_process_build(site)
    assert narrowed == []
    assert public(site)["a/index.html"].startswith(b"Beta")
    check(site, tmp_path / "scratch")


def test_a_copy_of_the_file_from_the_same_generation_is_not_used(tmp_path: Path) -> None:
    """Two pages' documents swap their content: each document's path moved while each
    page's data stayed the same. The pages are recorded again (their tags, which name
    their documents, changed: ``datahash.tagged``; before round 22 they were not, and the
    pages generation stayed). The file from before the swap, put back, passes its
    checksum and must be refused (by the generation, and by the manifest's mark of the
    last file written: with neither, the next edit's build removed /x/, md.b's page, and
    kept /y/, md.a's old one)."""
    site = make_site(tmp_path / "site")
    start(site)
    content = site / "content"
    (content / "a.md").write_text(page_file("Alpha", slug="x"))
    (content / "b.md").write_text(page_file("Beta", slug="y"))
    new_process_build(site)
    before, generation = (site / FILE).read_bytes(), saved_generation(site)
    a, b = (content / "a.md").read_bytes(), (content / "b.md").read_bytes()
    (content / "a.md").write_bytes(b)
    (content / "b.md").write_bytes(a)
    new_process_build(site)
    assert saved_generation(site) != generation  # the pages were recorded again
    assert saved_paths(site)["page"] == {"md.a": "/y/", "md.b": "/x/", "md.c": "/c/"}
    (site / FILE).write_bytes(before)
    new_process_build(site)  # nothing changed: not even loaded
    assert saved_paths(site) == {}
    (content / "a.md").write_text(page_file("Beta", slug="z"))
    new_process_build(site)
    out = without_history(public(site))
    assert out["x/index.html"].startswith(b"Alpha") and "y/index.html" not in out
    check(site, tmp_path / "scratch")


def saved_generation(site: Path) -> str | None:
    with Manifest.open(site / ".ssgen" / "manifest.sqlite") as manifest:
        return manifest.get_meta(doclists.GENERATION_KEY)


def test_serve_rounds_leave_the_file_alone(tmp_path: Path) -> None:
    """A build given its source (serve, revalidate) neither reads nor writes the file."""
    site = make_site(tmp_path / "site")
    start(site)
    before = (site / FILE).read_bytes()
    from ssgen.sources.local import LocalSource

    config = load_config(site)
    (site / "content" / "b.md").write_text(page_file("Beta", slug="s"))
    with counting() as narrowed:
        assert build(config, source=LocalSource(config), jobs=1).ok
    assert narrowed == [] and (site / FILE).read_bytes() == before


STEPS = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(NAMES), st.sampled_from(TITLES),
              st.sampled_from(SLUGS), st.sampled_from(TYPES)),
    st.tuples(st.just("same-mtime"), st.sampled_from(NAMES), st.sampled_from(TITLES),
              st.sampled_from(SLUGS), st.sampled_from(TYPES)),
    st.tuples(st.just("delete"), st.sampled_from(NAMES), st.just(""), st.just(""),
              st.just("")),
    st.tuples(st.just("rename"), st.sampled_from(NAMES), st.sampled_from(NAMES), st.just(""),
              st.just("")),
    st.tuples(st.just("swap"), st.sampled_from(NAMES), st.sampled_from(NAMES), st.just(""),
              st.just("")),
    st.tuples(st.just("template"), st.sampled_from(["page.html", "note.html"]),
              st.sampled_from(TITLES), st.just(""), st.just("")),
    st.tuples(st.just("file"), st.sampled_from(["stale", "flip", "truncate", "drop"]),
              st.just(""), st.just(""), st.just("")),
)


def apply(site: Path, step: tuple[str, str, str, str, str], saved: list[bytes]) -> None:
    """One step; ``saved``: the file as each build left it (``saved[-2]``: a stale copy)."""
    kind, what, text, slug, doc_type = step
    page = site / "content" / f"{what}.md"
    file = site / FILE
    if kind == "write":
        page.write_text(page_file(text, slug, doc_type))
    elif kind == "same-mtime" and page.exists():
        before = os.stat(page)
        page.write_text(page_file(text, slug, doc_type))
        os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif kind == "delete":
        page.unlink(missing_ok=True)
    elif kind == "swap" and page.exists() and (other := site / "content" / f"{text}.md").exists():
        mine, theirs = page.read_bytes(), other.read_bytes()
        page.write_bytes(theirs)
        other.write_bytes(mine)
    elif kind == "rename" and page.exists():
        page.rename(site / "content" / f"{text}.md")
    elif kind == "template":
        (site / "templates" / what).write_text(f"{text} {{{{ page.title }}}}")
    elif kind == "file" and file.exists():
        data = file.read_bytes()
        damaged = {"stale": saved[-2] if len(saved) > 1 else data, "flip": data[:-5] + b"!" + data[-4:],
                   "truncate": data[:-3], "drop": b""}[what]
        file.write_bytes(damaged)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEPS, min_size=1, max_size=6))
def test_new_processes_equal_a_full_build(steps: list[tuple[str, str, str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, \
            mock.patch.object(filecache, "RACY_NS", 20_000_000):
        site, twin = make_site(Path(tmp) / "site"), make_site(Path(tmp) / "twin")
        start(site)
        start(twin)
        saved = [(site / FILE).read_bytes()]
        for step in steps:
            apply(site, step, saved)
            apply(twin, step, []) if step[0] != "file" else None
            time.sleep(0.025)  # past the racy window: stamps are trusted
            failures = new_process_build(site, ok=False)
            if (site / FILE).exists():
                saved.append((site / FILE).read_bytes())
            check(site, Path(tmp) / "scratch", failures)
            # Path history and failing pages' kept files: as an unnarrowed build has them.
            assert twin_build(twin) == failures
            assert public(site) == public(twin)


def test_the_property_narrows(tmp_path: Path) -> None:
    """The property's steps do reach the narrowed path (and so can catch its faults)."""
    site = make_site(tmp_path / "site")
    start(site)
    with counting() as narrowed:
        for step in [("write", "a", "Beta", "y", "page"), ("write", "b", "Beta", "", "note"),
                     ("write", "b", "Gamma", "", "note"), ("rename", "c", "d", "", ""),
                     ("delete", "a", "", "", "")]:
            apply(site, step, [])
            new_process_build(site)
    # b's type change runs the routes in full (see test_a_type_change_reaches_...);
    # every other step narrows the page route, but b's edit as a note, which narrows the
    # note route only: since b left the page route, no page's record names it (the pages
    # whose tags lost it were recorded again, ``datahash.tagged``).
    assert narrowed.count("page") == 3 and narrowed.count("note") == 1


def test_the_feeds_route_is_not_narrowed(tmp_path: Path) -> None:
    """The feed is made from every planned page of its route: narrowed to the edited
    document, it listed that one alone (found by test_crash_property)."""
    site = make_site(tmp_path / "site")
    (site / "ssgen.toml").write_text(
        TOML.replace("{title, \"slug\": slug.current, body}",
                     "{title, \"slug\": slug.current, body, date}")
        + '\n[feed]\nroute = "page"\ndate_field = "date"\n')
    for name, title in zip(NAMES[:3], TITLES, strict=False):
        (site / "content" / f"{name}.md").write_text(
            page_file(title).replace("---\nBody", "date: '2026-01-0" + str(len(title) % 9)
                                     + "T00:00:00Z'\n---\nBody"))
    new_process_build(site)
    text = (site / "content" / "b.md").read_text()
    (site / "content" / "b.md").write_text(text.replace("Beta", "Beta two"))
    with counting() as narrowed:
        new_process_build(site)
    assert narrowed == []
    assert public(site)["feed.xml"].count(b"<entry>") == 3
    check(site, tmp_path / "scratch")


def test_a_type_change_reaches_the_pages_of_the_old_type(tmp_path: Path) -> None:
    """Found by the property: a.md renamed to b.md leaves /all/ with the same data (so
    not recorded again: its tags still name md.a); b then becomes a note. Its change
    must reach /all/ and the page route through the old type, or /all/ keeps listing
    it (in main before this branch too)."""
    site = make_site(tmp_path / "site")
    start(site)
    content = site / "content"
    (content / "b.md").write_text(page_file("Alpha", slug="x", kind="note"))
    new_process_build(site)
    (content / "a.md").rename(content / "b.md")
    new_process_build(site)
    (content / "b.md").write_text(page_file("Alpha", slug="x", kind="note"))
    new_process_build(site)
    assert public(site)["all/index.html"] == b"Gamma;"
    check(site, tmp_path / "scratch")


def test_the_change_of_a_type_tags_the_old_type() -> None:
    before = {"a": ("page", "1"), "b": ("page", "2"), "c": ("note", "3")}
    after = {"a": ("note", "1x"), "b": ("page", "2x"), "d": ("page", "4")}
    change = document_change(before, after)
    assert change.tags == {"type:page"}
    assert sorted((d.id, d.type, d.operation) for d in change.documents) == [
        ("a", "note", "update"), ("b", "page", "update"), ("c", "note", "delete"),
        ("d", "page", "create")]


def test_a_new_document_that_leaves_the_route_takes_its_page_along(tmp_path: Path) -> None:
    """A page made by a narrowed build carries its document's tag, so that an edit that
    takes the document out of every route's types still finds the page."""
    site = make_site(tmp_path / "site")
    start(site)
    (site / "content" / "d.md").write_text(page_file("Delta"))
    with counting() as narrowed:
        new_process_build(site)
    assert narrowed == ["page"] and "d/index.html" in public(site)
    (site / "content" / "d.md").write_text(page_file("Delta", kind="note"))
    new_process_build(site)
    assert "d/index.html" not in public(site)
    check(site, tmp_path / "scratch")


def test_paths_that_are_not_the_routes_recorded_ones_are_not_used(tmp_path: Path) -> None:
    """A file of the right generation whose paths differ from the manifest's records (a
    writer's fault) is not used: the route runs in full."""
    site = make_site(tmp_path / "site")
    start(site)
    config = load_config(site)
    path = site / FILE
    found = doclists._load(path, doclists.cache_key(config))
    assert found is not None
    _, paths = found
    paths["page"]["md.a"] = "/elsewhere/"
    body = doclists.marshal.dumps((doclists.cache_key(config), paths))
    checksum = doclists.checksum(body)
    path.write_bytes(doclists.MAGIC + checksum + body)
    with Manifest.open(site / ".ssgen" / "manifest.sqlite") as manifest:
        generation = manifest.get_meta(doclists.GENERATION_KEY)
        manifest.set_meta(doclists.MARK_KEY, f"{checksum.hex()} {generation}")  # its writer's
    (site / "content" / "b.md").write_text(page_file("Beta again"))
    with counting() as narrowed:
        new_process_build(site)
    assert narrowed == []
    check(site, tmp_path / "scratch")
