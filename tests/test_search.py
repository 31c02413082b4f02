"""[search]: the Pagefind bundle as owned output, re-indexed only when HTML changed.

Covers the config's bad values, a missing Pagefind (a setup error naming the fix), the
bundle's files recorded as "generated", a no-op build that does not run Pagefind, damage
repaired, search turned off, and (hypothesis) incremental builds after random edits whose
output equals a clean full build's byte for byte, bundle included.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import (
    DEFAULT_TOML,
    author,
    copy_history,
    make_site,
    output_files,
    post,
    run_cli,
    write_docs,
)

from ssgen.build import build, verify
from ssgen.build import search as search_mod
from ssgen.build.change import Change, DocChange
from ssgen.config import load_config
from ssgen.errors import ConfigError
from ssgen.manifest import Manifest
from ssgen.sources import open_source

# The shared test site, its posts' bodies indexed: search turned on.
TOML = DEFAULT_TOML.replace('{_id, title, "slug"', '{_id, title, body, "slug"') + """
[search]
enabled = true
"""
TEMPLATES = {
    "base.html": '<!doctype html><html lang="en"><title>{% block title %}{% endblock %}</title>'
                 "<body>{% block content %}{% endblock %}</body></html>\n",
    "post.html": '{% extends "base.html" %}{% block title %}{{ page.title }}{% endblock %}'
                 "{% block content %}<article data-pagefind-body><h1>{{ page.title }}</h1>"
                 "<p>{{ page.body }}</p><p>by {{ page.author }}</p></article>{% endblock %}",
    "list.html": '{% extends "base.html" %}{% block content %}{% for p in page %}'
                 '<a href="/blog/{{ p.slug }}/">{{ p.title }}</a>{% endfor %}{% endblock %}',
}
WORDS = ["otter", "heron", "maple", "granite", "lantern", "orbit", "saffron", "tundra"]


def docs(bodies: dict[int, str]) -> list[dict[str, Any]]:
    return [author("a1", "Ada"), *(post(n, body=text) for n, text in sorted(bodies.items()))]


def search_site(tmp_path: Path, bodies: dict[int, str] | None = None) -> Path:
    return make_site(tmp_path, docs(bodies or {1: "otter heron", 2: "maple granite"}),
                     toml=TOML, templates=TEMPLATES)


def bundle(site: Path) -> dict[str, bytes]:
    return {rel: data for rel, data in output_files(site).items() if rel.startswith("pagefind/")}


def config_error(tmp_path: Path, table: str) -> str:
    site = make_site(tmp_path, toml=TOML.replace("[search]\nenabled = true\n", table))
    with pytest.raises(ConfigError) as caught:
        load_config(site)
    return str(caught.value)


@pytest.mark.parametrize(("table", "expected"), [
    ('[search]\nenabled = "yes"\n', "search.enabled: must be true or false, not a string"),
    ("[search]\nenable = true\n", "search.enable: unknown key (did you mean enabled?)"),
    ('[search]\nexclude_selectors = "nav"\n', "search.exclude_selectors: must be a list"),
    ('[search]\nexclude_selectors = ["  "]\n', "each entry must be one CSS selector"),
    ('[search]\nlanguage = "English"\n', "search.language: 'English': use an ISO 639-1"),
    ('[search]\nlanguage = 5\n', "search.language: must be a string, not an integer"),
])
def test_bad_search_config_names_the_key(tmp_path: Path, table: str, expected: str) -> None:
    message = config_error(tmp_path, table)
    assert expected in message
    assert "ssgen.toml:" in message


def test_missing_pagefind_is_a_setup_error_naming_the_fix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = search_site(tmp_path)
    monkeypatch.setitem(__import__("sys").modules, "pagefind.service", None)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    monkeypatch.delenv("PAGEFIND_BINARY_PATH", raising=False)
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 2
    assert "[search] enabled = true needs Pagefind" in result.output
    assert "pip install 'ssgen[search]'" in result.output
    assert not (site / "public").exists()  # found before any work


def test_a_bad_pagefind_binary_path_is_named(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "pagefind"))
    with pytest.raises(ConfigError, match=r"PAGEFIND_BINARY_PATH=.* is not an executable"):
        build(load_config(search_site(tmp_path)))


def test_bundle_is_owned_generated_output_and_kept_by_a_noop_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = search_site(tmp_path)
    assert build(load_config(site)).ok
    files = bundle(site)
    assert "pagefind/pagefind.js" in files and "pagefind/pagefind-entry.json" in files
    assert sum(rel.startswith("pagefind/fragment/") for rel in files) == 2  # the posts only
    with Manifest.open(site / ".ssgen" / "manifest.sqlite") as manifest:
        owned = manifest.files()
    assert {rel: owned[rel].kind for rel in files} == dict.fromkeys(files, "generated")

    def not_again(*args: object, **kwargs: object) -> str:
        raise AssertionError("Pagefind ran although no HTML file changed")

    monkeypatch.setattr(search_mod, "run_pagefind", not_again)
    # A template edit that changes no page's bytes does not re-index either.
    (site / "templates" / "list.html").write_text(TEMPLATES["list.html"] + "{# note #}")
    report = build(load_config(site))
    assert report.ok and not report.new and not report.changed and not report.deleted
    assert bundle(site) == files


def test_one_edit_rewrites_only_the_bundle_files_it_changes(tmp_path: Path) -> None:
    bodies = {n: f"{WORDS[n % 8]} {WORDS[(n * 3) % 8]} page {n}" for n in range(1, 13)}
    site = search_site(tmp_path, bodies)
    build(load_config(site))
    before = bundle(site)
    bodies[5] = "zeppelin"
    write_docs(site, docs(bodies))
    report = build(load_config(site))
    touched = [rel for rel in report.new + report.changed if rel.startswith("pagefind/")]
    assert "pagefind/pagefind-entry.json" in touched
    assert len(touched) < len(before) // 2  # fragments of untouched pages are kept
    assert [rel for rel in report.deleted if rel.startswith("pagefind/")]  # the old fragment


def test_damaged_bundle_is_repaired(tmp_path: Path) -> None:
    site = search_site(tmp_path)
    build(load_config(site))
    files = bundle(site)
    fragment = next(rel for rel in files if rel.startswith("pagefind/fragment/"))
    (site / "public" / fragment).unlink()
    (site / "public" / "pagefind" / "pagefind-entry.json").write_text("{}")
    assert build(load_config(site)).ok
    assert bundle(site) == files


def test_turning_search_off_removes_the_bundle(tmp_path: Path) -> None:
    site = search_site(tmp_path)
    build(load_config(site))
    (site / "ssgen.toml").write_text(TOML.replace("enabled = true", "enabled = false"))
    build(load_config(site))
    assert bundle(site) == {}
    assert not (site / "public" / "pagefind").exists()


def test_a_site_with_no_html_warns_and_writes_no_bundle(tmp_path: Path) -> None:
    site = make_site(tmp_path, [author("a1", "Ada")], toml=TOML, templates=TEMPLATES)
    (site / "ssgen.toml").write_text(TOML.split("[[routes]]")[0] + "[search]\nenabled = true\n")
    report = build(load_config(site))
    assert report.ok and bundle(site) == {}
    assert any("Pagefind found no page to index" in warning for warning in report.warnings)


def _rewritten_in_reverse(out: Path) -> None:
    """Every HTML file and folder of ``out`` made again, same bytes, in reverse order."""
    pages = sorted(out.rglob("*.html"))
    kept = {page: page.read_bytes() for page in pages}
    for folder in sorted((p for p in out.iterdir() if p.is_dir() and p.name != "pagefind"),
                         reverse=True):
        shutil.rmtree(folder)
    for page in reversed(pages):
        page.unlink(missing_ok=True)
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_bytes(kept[page])


def test_the_bundle_does_not_depend_on_the_order_the_output_folder_lists_files() -> None:
    """tmpfs lists a folder in the order its files were made, so an output folder that
    builds rewrote in part lists differently from a clean one: Pagefind, which indexes
    in listing order, must be handed the pages in a fixed order. On tmpfs on purpose
    (a disk that lists by a hash of the name would hide the difference)."""
    shm = Path("/dev/shm")
    assert shm.is_dir(), "this test needs a tmpfs at /dev/shm"
    root = Path(tempfile.mkdtemp(prefix="ssgen-search-order-", dir=shm))
    try:
        bodies = {n: f"{WORDS[n % 8]} {WORDS[(n * 5) % 8]} page {n}" for n in range(1, 25)}
        sites = [search_site(root / name, dict(bodies)) for name in ("first", "second")]
        for site in sites:
            assert build(load_config(site)).ok
        _rewritten_in_reverse(sites[1] / "public")
        listed = [os.listdir(site / "public" / "blog") for site in sites]
        assert listed[0] != listed[1]  # the two folders do list differently
        indexes = []
        for site in sites:
            with Manifest.open(site / ".ssgen" / "manifest.sqlite") as manifest:
                search_mod.forget_index(manifest)
                indexes.append(search_mod.search_index(load_config(site), manifest).files)
        assert indexes[0] == indexes[1]
    finally:
        shutil.rmtree(root, ignore_errors=True)


EDITS = st.lists(st.tuples(st.integers(1, 6), st.sampled_from([*WORDS, None])),
                 min_size=1, max_size=4)


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_incremental_bundle_equals_a_clean_full_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        edits: list[tuple[int, str | None]]) -> None:
    """After each edit (a post's body rewritten, or the post deleted or restored), the
    incremental build's whole output, bundle included, equals a fresh full build's. With
    no racy window, files recorded intact are trusted by their stat, as on a real site."""
    monkeypatch.setattr(verify, "RACY_NS", 0)
    root = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    bodies = {n: f"{WORDS[n]} first" for n in range(1, 7)}
    site = search_site(root, dict(bodies))
    build(load_config(site))
    for n, word in edits:
        if word is None:
            bodies.pop(n, None) if n in bodies else bodies.setdefault(n, "restored")
        else:
            bodies[n] = f"{word} {bodies.get(n, '')}"
        write_docs(site, docs(bodies))
        assert build(load_config(site)).ok
    fresh = search_site(root / "fresh", dict(bodies))
    copy_history(site, fresh)  # deleted posts' 410 stubs come from the path history
    assert build(load_config(fresh)).ok
    assert output_files(site) == output_files(fresh)
    shutil.rmtree(root)


def test_a_webhook_rebuild_updates_the_bundle(tmp_path: Path) -> None:
    """The way serve's worker builds: one kept source, reloaded, the change named."""
    site = search_site(tmp_path)
    source = open_source(load_config(site), kept=True)
    assert build(load_config(site), source=source).ok
    write_docs(site, docs({1: "otter heron", 2: "zeppelin"}))
    source.reload()
    change = Change(documents=(DocChange("p2", "post"),))
    assert build(load_config(site), source=source, change=change).ok
    fresh = search_site(tmp_path / "fresh", {1: "otter heron", 2: "zeppelin"})
    build(load_config(fresh))
    assert bundle(site) == bundle(fresh) != {}


def test_pages_pagefind_skips_are_reported(tmp_path: Path) -> None:
    site = search_site(tmp_path)
    (site / "templates" / "base.html").write_text(
        "<title>{% block title %}{% endblock %}</title>{% block content %}{% endblock %}")
    report = build(load_config(site))
    assert any("without an <html> element" in warning for warning in report.warnings)


def killed_build(site: Path, fault: str) -> None:
    """A build in a forked child that dies at ``fault`` (``SSGEN_FAULT``), as kill -9."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.environ["SSGEN_FAULT"] = fault
        try:
            build(load_config(site), jobs=1)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 137, f"{fault} was not reached"


# The edit writes 3 pages, sitemap.xml, then 5 bundle files (2 new fragments, an index
# chunk, the language's meta, pagefind-entry.json): the faults land among both.
@pytest.mark.parametrize("fault", [f"after-write:{n}" for n in (1, 3, 5, 6, 7, 9)]
                         + ["at:after-extras"])
def test_a_build_killed_among_the_bundle_writes_is_repaired(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    monkeypatch.setattr(verify, "RACY_NS", 0)
    bodies = {n: f"{WORDS[n % 8]} page {n}" for n in range(1, 9)}
    site = search_site(tmp_path, bodies)
    build(load_config(site), jobs=1)
    bodies.update({3: "zeppelin", 9: "new otter"})
    write_docs(site, docs(bodies))
    killed_build(site, fault)
    assert build(load_config(site), jobs=1).ok
    fresh = search_site(tmp_path / "fresh", bodies)
    build(load_config(fresh), jobs=1)
    assert output_files(site) == output_files(fresh)


def test_scratch_left_by_a_killed_pagefind_run_is_cleared(tmp_path: Path) -> None:
    site = search_site(tmp_path)
    build(load_config(site))
    files = bundle(site)
    stale = site / ".ssgen" / search_mod.SCRATCH / "bundle" / "fragment" / "stale.pf_fragment"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by a killed build")
    # A scratch folder a process renamed for deletion on a thread, then exited.
    discarded = site / ".ssgen" / f"{search_mod.SCRATCH}.discarded-1-2" / "site" / "a.html"
    discarded.parent.mkdir(parents=True)
    discarded.write_bytes(b"<html></html>")
    assert build(load_config(site), full=True).ok
    assert bundle(site) == files
    for thread in threading.enumerate():
        if thread.name == "pagefind-scratch-delete":
            thread.join(timeout=60)
    assert [p.name for p in (site / ".ssgen").iterdir() if search_mod.SCRATCH in p.name] == []


def _serve_worker(site: Path) -> Any:
    from ssgen.serve.worker import RebuildWorker

    worker = RebuildWorker(load_config(site), settle=0)
    worker.indexer.settle = 0.05
    return worker


def test_serve_rounds_publish_pages_and_the_indexer_brings_the_bundle_up_after(
        tmp_path: Path) -> None:
    """A webhook's round writes its pages without running Pagefind; the background indexer
    then indexes and the round after writes the bundle: the output equals a full build."""
    from servekit import wait_for

    site = search_site(tmp_path)
    worker = _serve_worker(site)
    worker.start()
    try:
        wait_for(lambda: bundle(site) != {} and worker.status()["state"] == "idle",
                 timeout=60, what="the first bundle")
        write_docs(site, docs({1: "otter heron", 2: "zeppelin"}))
        job = worker.submit(Change(documents=(DocChange("p2", "post"),))).job
        result = worker.future(job).result(timeout=60)
        assert "blog/post-2/index.html" in result.changes["changed"]
        assert not [rel for rels in result.changes.values() for rel in rels
                    if rel.startswith("pagefind/")]
        fresh = search_site(tmp_path / "fresh", {1: "otter heron", 2: "zeppelin"})
        assert build(load_config(fresh)).ok
        wait_for(lambda: output_files(site) == output_files(fresh), timeout=60,
                 what="the bundle of the edited site")
    finally:
        worker.stop(10)


def test_a_slow_pagefind_run_never_holds_a_webhook_round_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from servekit import wait_for

    from ssgen.serve import indexer

    release, indexing = threading.Event(), threading.Event()
    real = indexer.index_off_lock

    def slow(config: Any, manifest: Manifest) -> Any:
        indexing.set()
        assert release.wait(60)
        return real(config, manifest)

    monkeypatch.setattr(indexer, "index_off_lock", slow)
    site = search_site(tmp_path)
    worker = _serve_worker(site)
    worker.start()
    try:
        wait_for(indexing.is_set, timeout=30, what="the indexer to start")
        write_docs(site, docs({1: "otter heron", 2: "zeppelin"}))
        job = worker.submit(Change(documents=(DocChange("p2", "post"),))).job
        assert worker.future(job).result(timeout=30).ok  # while Pagefind still "runs"
        assert b"zeppelin" in (site / "public/blog/post-2/index.html").read_bytes()
        release.set()
        wait_for(lambda: bundle(site) != {}, timeout=60, what="the bundle after release")
    finally:
        release.set()
        worker.stop(10)
