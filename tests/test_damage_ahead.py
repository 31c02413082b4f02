"""The owned output checked by a forked child while a new ``ssgen build`` imports
(``ssgen.build.damage_ahead``): taken only under the build lock taken before the child
read, given up unused, and an end-to-end ``ssgen build`` restoring tampered output.
(The property over edit sequences with output damage between processes, on two cores:
``tests/test_lazy_markdown.py``.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from ssgen.build import damage_ahead
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.manifest import pages as manifest_pages
from ssgen.manifest.lock import BuildLock, BuildLockBusy, held_since_early
from ssgen.manifest.store import Manifest

TOML = '''[site]
title = "T"
base_url = "https://example.com"

[source]
type = "local"
files = []
markdown_dir = "content"

[[routes]]
name = "page"
path = "/{slug}/"
query = '*[_type == "page"]{title, "slug": slug.current, body}'
template = "page.html"
'''
ROOT = Path(__file__).resolve().parent.parent


def make_site(root: Path, pages: int = 5) -> Path:
    (root / "content").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "ssgen.toml").write_text(TOML)
    (root / "templates" / "page.html").write_text("<h1>{{ page.title }}</h1>{{ page.body }}")
    for i in range(pages):
        (root / "content" / f"p{i}.md").write_text(f"---\ntitle: Page {i}\n---\nBody {i}.\n")
    return root


def built(root: Path) -> Path:
    site = make_site(root)
    assert build(load_config(site), full=True, jobs=1).ok
    time.sleep(0.15)  # past the racy window of the recorded stats (verify.RACY_NS)
    return site


def other_process_takes_lock(site: Path) -> bool:
    """Whether another process could take the site's build lock now."""
    code = ("import sys; from ssgen.manifest.lock import BuildLock, BuildLockBusy\n"
            "try:\n    BuildLock(sys.argv[1], wait=False).acquire()\n"
            "except BuildLockBusy:\n    sys.exit(3)\n")
    done = subprocess.run([sys.executable, "-c", code, str(site)], env=_env(), check=False)
    assert done.returncode in (0, 3)
    return done.returncode == 0


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_the_lock_is_held_from_begin_until_the_build_that_adopts_it_ends(
        tmp_path: Path) -> None:
    site = built(tmp_path / "site")
    config = load_config(site)
    # Damaged before the child starts: one written after its stat is the next build's
    # to find (the module's accepted race), and the child may stat at once or late.
    page = site / "public" / "p1" / "index.html"
    page.write_text(page.read_text().replace("Page 1", "PAGE 1"))  # same size
    damage_ahead.begin(config, 2)
    try:
        assert not other_process_takes_lock(site)
        assert build(config, jobs=2).ok
        assert "Page 1" in page.read_text()
        assert not held_since_early(site)
    finally:
        damage_ahead.discard()
    assert other_process_takes_lock(site)


def test_an_unused_begin_gives_the_lock_up_and_an_unadopted_answer_is_not_taken(
        tmp_path: Path) -> None:
    site = built(tmp_path / "site")
    config = load_config(site)
    damage_ahead.begin(config, 2)
    damage_ahead.discard()
    assert other_process_takes_lock(site)
    damage_ahead.begin(config, 2)
    try:
        manifest = config.state_dir / "manifest.sqlite"
        assert damage_ahead.take(manifest, config.output_dir) is None  # no build holds it
    finally:
        damage_ahead.discard()
    assert other_process_takes_lock(site)


def test_the_first_lock_of_the_site_adopts_the_early_one_and_only_it(tmp_path: Path) -> None:
    from ssgen.manifest.lock import drop_early, take_early

    site = built(tmp_path / "site")
    assert take_early(site) and not take_early(site)
    first = BuildLock(site, wait=False)
    first.acquire()
    assert held_since_early(site)
    drop_early(site)  # adopted: not given up
    assert not other_process_takes_lock(site)
    with pytest.raises(BuildLockBusy):
        BuildLock(site, wait=False).acquire()
    first.release()
    assert not held_since_early(site) and other_process_takes_lock(site)
    again = BuildLock(site, wait=False)  # a later lock is an ordinary one
    again.acquire()
    assert not held_since_early(site)
    again.release()


def test_nothing_is_begun_for_one_job_a_first_build_or_a_busy_lock(tmp_path: Path) -> None:
    fresh = make_site(tmp_path / "fresh")
    damage_ahead.begin(load_config(fresh), 2)  # never built: nothing to check
    assert not damage_ahead._BEGUN
    site = built(tmp_path / "site")
    config = load_config(site)
    damage_ahead.begin(config, 1)
    assert not damage_ahead._BEGUN
    lock = BuildLock(site, wait=False)
    lock.acquire()  # as another build would hold it
    try:
        damage_ahead.begin(config, 2)
        assert not damage_ahead._BEGUN
    finally:
        lock.release()


def test_a_new_ssgen_build_process_restores_tampered_output(tmp_path: Path) -> None:
    site = built(tmp_path / "site")
    expected = {p: p.read_bytes() for p in sorted((site / "public").rglob("*")) if p.is_file()}
    page = site / "public" / "p1" / "index.html"
    page.write_text(page.read_text().replace("Page 1", "PAGE 1"))  # same size
    (site / "public" / "p2" / "index.html").unlink()
    done = subprocess.run([sys.executable, "-m", "ssgen", "-q", "build", "--site", str(site)],
                          env=_env(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert {p: p.read_bytes() for p in sorted((site / "public").rglob("*"))
            if p.is_file()} == expected
    assert other_process_takes_lock(site)


def test_a_stuck_child_is_not_waited_for_past_its_patience(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = built(tmp_path / "site")
    config = load_config(site)
    monkeypatch.setattr(damage_ahead, "PATIENCE", 0.3)
    monkeypatch.setattr(damage_ahead, "_check", lambda manifest, output: time.sleep(60))
    taken: list[object] = []
    real_take = damage_ahead.take
    monkeypatch.setattr(damage_ahead, "take", lambda *args: taken.append(real_take(*args)))
    page = site / "public" / "p1" / "index.html"
    page.write_text(page.read_text().replace("Page 1", "PAGE 1"))  # same size
    began = time.monotonic()
    damage_ahead.begin(config, 2)
    try:
        assert build(config, jobs=2).ok
    finally:
        damage_ahead.discard()
    assert taken == [None] and time.monotonic() - began < 30
    assert "Page 1" in page.read_text()  # checked by the build itself
    assert other_process_takes_lock(site)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_build_sweeps_the_output_root_as_the_child_listed_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The root's temp files are listed by the child once it has sent the suspects: the
    build's first write sweeps those a dead writer left (here this process cannot list the
    root at all), keeps a live writer's, and the listing is taken once."""
    from ssgen.build.output import temps

    site = built(tmp_path / "site")
    config = load_config(site)
    root = site / "public"
    dead = root / f"{temps.TEMP_PREFIX}{_dead_pid()}-3"
    live = root / f"{temps.TEMP_PREFIX}{os.getpid()}-99999"
    dead.write_bytes(b"half")
    live.write_bytes(b"")
    (site / "content" / "p1.md").write_text("---\ntitle: Page 1\n---\nEdited.\n")
    damage_ahead.begin(config, 2)
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if os.path.abspath(path) == str(root):
            raise PermissionError(path)  # the build's own listing of the root finds nothing
        return real_scandir(path)

    monkeypatch.setattr(temps.os, "scandir", scandir)
    temps.SWEPT.clear()  # as in a new process (this one swept the root when it built)
    try:
        assert build(config, jobs=2).ok
    finally:
        damage_ahead.discard()
    assert not dead.exists() and live.exists()
    assert "Edited." in (root / "p1" / "index.html").read_text()
    assert not temps._LISTED and not damage_ahead._LISTING
    assert other_process_takes_lock(site)


def test_a_listing_no_sweep_took_is_given_up(tmp_path: Path) -> None:
    from ssgen.build.output import temps

    site = built(tmp_path / "site")
    config = load_config(site)
    damage_ahead.begin(config, 2)
    manifest = config.state_dir / "manifest.sqlite"
    lock = BuildLock(site, wait=False)
    lock.acquire()  # adopts the early lock, as the build's would
    try:
        assert damage_ahead.take(manifest, config.output_dir) is not None
        assert str(config.output_dir.resolve()) in temps._LISTED
        damage_ahead.discard()
        assert not temps._LISTED and not damage_ahead._LISTING
    finally:
        lock.release()
    assert other_process_takes_lock(site)


COPY_ROUTE = """
[[routes]]
name = "copy"
path = "/copy/{slug}/"
query = '*[_type == "page"]{title, "slug": slug.current, body}'
template = "page.html"
"""
ROUTES_SELECT = "SELECT path, route FROM pages ORDER BY route, path"


def _logged(rows: Any, read: list[str]) -> Any:
    """``Manifest._rows`` noting each statement it runs in ``read``."""
    def logged(sql: str, params: Any = (), *, what: str) -> Any:
        read.append(sql)
        return rows(sql, params, what=what)
    return logged


def test_the_childs_pages_are_the_index_only_while_the_table_is_of_their_generation(
        tmp_path: Path) -> None:
    """The paths and routes the child read with the files (``offer``) are the table's,
    in its order, and the page index takes them instead of reading the table; after a
    commit of pages (another generation) the table is read."""
    site = make_site(tmp_path / "site")
    with open(site / "ssgen.toml", "a") as toml:
        toml.write(COPY_ROUTE)
    config = load_config(site)
    assert build(config, full=True, jobs=1).ok
    time.sleep(0.15)
    path = config.state_dir / "manifest.sqlite"
    for pages_written_since in (False, True):
        manifest_pages._INDEXES.clear()
        damage_ahead.begin(config, 2)
        lock = BuildLock(site, wait=False)
        lock.acquire()
        manifest = Manifest.open(path)
        try:
            assert damage_ahead.take(path, config.output_dir) is not None
            if pages_written_since:
                manifest.record_page("/new/", "copy", {}, "page.html", "d", "o", {"route:copy"})
            read: list[str] = []
            with mock.patch.object(manifest, "_rows", _logged(manifest._rows, read)):
                index = list(manifest_pages._page_index(manifest).routes.items())
            table = [tuple(row) for row in manifest._rows(ROUTES_SELECT, what="test")]
            assert index == table and len(table) == 10 + pages_written_since
            assert (ROUTES_SELECT in read) == pages_written_since
            for name in ("copy", "page"):
                assert manifest.pages_for_route(name) == {p for p, r in table if r == name}
        finally:
            manifest.close()
            lock.release()
            damage_ahead.discard()
