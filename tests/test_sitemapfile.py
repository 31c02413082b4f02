"""The sitemap's recorded files kept by a new process (``ssgen.build.sitemapfile``).

A build whose in-process memo is cold keeps the recorded sitemap files when the key of
their paths and lastmods is the recorded one and the files are intact; whatever the
edits (pages added, removed, moved, lastmods changed), process boundaries, and damage
to the files (removed, rewritten, rewritten with the same size and mtime put back), the
sitemap equals a clean full build's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import forget_process
from test_doclists import make_site

from ssgen.build import damage_ahead, extras, sitemapfile, verify
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.render.sitemap.memo import SitemapMemo
from ssgen.sources import filecache

NAMES = ["a", "b", "c"]
SLUGS = ["", "x", "y"]
DATES = ["", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"]


def write(site: Path, name: str, slug: str, date: str) -> None:
    head = "---\ntitle: T\ntype: page\n" + (f"slug: {slug}\n" if slug else "") \
        + (f"_updatedAt: '{date}'\n" if date else "") + "---\n"
    (site / "content" / f"{name}.md").write_text(head + f"Body {name} {slug} {date}\n")


def sitemap(site: Path) -> bytes:
    path = site / "public" / "sitemap.xml"
    return path.read_bytes() if path.exists() else b""


def full_sitemap(site: Path, scratch: Path) -> bytes:
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(site, scratch, ignore=shutil.ignore_patterns("public", ".ssgen"))
    build(load_config(scratch), jobs=1)  # no manifest: full (its memo is its folder's)
    return sitemap(scratch)


def made_sitemaps() -> mock._patch[object]:
    """Counts the sitemaps made from rows (``calls``), kept ones aside."""
    return mock.patch.object(SitemapMemo, "files", autospec=True, side_effect=SitemapMemo.files)


def test_a_new_process_keeps_the_recorded_sitemap(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    for name in NAMES:
        write(site, name, "", "")
    forget_process()
    build(load_config(site), jobs=1)
    before = os.stat(site / "public" / "sitemap.xml")
    # Same page set, same lastmods.
    (site / "content" / "a.md").write_text((site / "content" / "a.md").read_text() + "more\n")
    forget_process()
    with made_sitemaps() as made:
        assert build(load_config(site), jobs=1).ok
    assert made.call_count == 0
    assert os.stat(site / "public" / "sitemap.xml").st_mtime_ns == before.st_mtime_ns
    assert sitemap(site) == full_sitemap(site, tmp_path / "scratch")


def test_a_process_that_kept_the_files_does_not_take_the_key_again(tmp_path: Path) -> None:
    """serve after a start that kept the files: the key (a sort of every path) is taken
    once, not in every round that changes no path or lastmod."""
    site = make_site(tmp_path / "site")
    for name in NAMES:
        write(site, name, "", "")
    forget_process()
    build(load_config(site), jobs=1)
    forget_process()
    with mock.patch.object(sitemapfile, "sitemap_key", autospec=True,
                           side_effect=sitemapfile.sitemap_key) as keys:
        for round_ in range(3):
            (site / "content" / "a.md").write_text(f"---\ntitle: T{round_}\ntype: page\n---\n")
            time.sleep(0.03)
            assert build(load_config(site), jobs=1).ok
    assert keys.call_count == 1
    assert sitemap(site) == full_sitemap(site, tmp_path / "scratch")


def test_a_warm_memo_clears_the_key(tmp_path: Path) -> None:
    """serve's rounds make the sitemap from their memo and record no key: the next new
    process, back at the page set of the last key, must not keep the files a round wrote
    (with the key left in place, the removed page stayed in the sitemap)."""
    site = make_site(tmp_path / "site")
    for name in NAMES:
        write(site, name, "", "")
    forget_process()
    build(load_config(site), jobs=1)  # a cold memo: the key is recorded
    write(site, "d", "", "")
    time.sleep(0.03)
    build(load_config(site), jobs=1)  # the same process: a warm memo
    assert b"/d/" in sitemap(site)
    (site / "content" / "d.md").unlink()
    forget_process()
    build(load_config(site), jobs=1)
    assert sitemap(site) == full_sitemap(site, tmp_path / "scratch")
    assert b"/d/" not in sitemap(site)


STEPS = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(NAMES), st.sampled_from(SLUGS),
              st.sampled_from(DATES)),
    st.tuples(st.just("delete"), st.sampled_from(NAMES), st.just(""), st.just("")),
    st.tuples(st.just("damage"), st.sampled_from(["remove", "rewrite", "same-stat"]),
              st.just(""), st.just("")),
)


def apply(site: Path, step: tuple[str, str, str, str]) -> None:
    kind, what, slug, date = step
    if kind == "write":
        write(site, what, slug, date)
    elif kind == "delete":
        (site / "content" / f"{what}.md").unlink(missing_ok=True)
    else:
        path = site / "public" / "sitemap.xml"
        if not path.exists():
            return
        if what == "remove":
            path.unlink()
            return
        data, info = path.read_bytes(), os.stat(path)
        path.write_bytes(data.replace(b"https", b"httpX") if what == "same-stat"
                         else data + b"<!-- x -->")
        if what == "same-stat":  # within the racy window: only a hash check sees it
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def twin_build(twin: Path) -> None:
    """A build that never keeps the recorded sitemap (it is always made from rows)."""
    with mock.patch.object(sitemapfile, "kept_files", return_value=None):
        build(load_config(twin), jobs=1)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(STEPS, st.booleans()), min_size=1, max_size=6))
def test_the_sitemap_equals_a_full_builds(steps: list[tuple[tuple[str, str, str, str],
                                                             bool]]) -> None:
    """Each step, then a build in a new process (``True``) or in the same one: the
    sitemap is a clean full build's (when no page fails: a failing page keeps its last
    good file, and its place in the sitemap, in an incremental build only) and always
    that of a twin that makes it from rows every time."""
    # The outputs' racy window spans the whole test: a same-stat damage is seen only
    # within it (by hash), and a loaded machine can take longer than its 100 ms between
    # a build and the damage.
    with tempfile.TemporaryDirectory() as tmp, \
            mock.patch.object(filecache, "RACY_NS", 20_000_000), \
            mock.patch.object(verify, "RACY_NS", 10**12), \
            mock.patch.object(damage_ahead, "RACY_NS", 10**12):
        site, twin = make_site(Path(tmp) / "site"), make_site(Path(tmp) / "twin")
        for name in NAMES:
            write(site, name, "", "")
            write(twin, name, "", "")
        forget_process()
        build(load_config(site), jobs=1)
        twin_build(twin)
        for step, new_process in steps:
            apply(site, step)
            apply(twin, step)
            time.sleep(0.025)  # past the source's racy window: stamps are trusted
            if new_process:
                forget_process()
            report = build(load_config(site), jobs=1)
            memos = dict(extras._SITEMAPS)  # the site's, as its process would keep it
            twin_build(twin)
            assert sitemap(site) == sitemap(twin)
            if report.ok:
                assert sitemap(site) == full_sitemap(site, Path(tmp) / "scratch")
            extras._SITEMAPS.clear()
            extras._SITEMAPS.update(memos)


def test_the_key_follows_paths_and_lastmods() -> None:
    key = sitemapfile.sitemap_key
    base = key({"/a/", "/b/"}, {"/a/": "2026"}, "https://e.com", 100)
    assert base == key({"/b/", "/a/"}, {"/a/": "2026", "/gone/": "1"}, "https://e.com", 100)
    assert base != key({"/a/"}, {"/a/": "2026"}, "https://e.com", 100)
    assert base != key({"/a/", "/b/"}, {"/b/": "2026"}, "https://e.com", 100)
    assert base != key({"/a/", "/b/"}, {"/a/": "2026"}, "https://f.com", 100)
    assert base != key({"/a/", "/b/"}, {"/a/": "2026"}, "https://e.com", 1)
