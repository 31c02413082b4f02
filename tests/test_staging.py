"""A cold full build writes its pages into a staging folder and swaps it in whole
(``ssgen.build.output.staging``): the same files and rows as a build into an existing
output folder; no page visible before the swap; a killed one's folder swept by the next
build, which then equals a clean full build; a failed in-place write leaves no file."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sitekit import markdown_site, output_files

from ssgen.build import record
from ssgen.build.output import Output, staged, sweep_staging
from ssgen.build.output import writer as output_writer
from ssgen.build.output.staging import staging_name
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.errors import OutputError

_TABLES = ("pages", "page_tags", "documents", "failures", "journal", "templates")


def _site(root: Path, count: int) -> Path:
    site = markdown_site(root)
    for i in range(count):
        title = "boom" if i % 40 == 7 else f"t{i}"
        (site / "content" / f"p{i}.md").write_text(f"---\ntitle: {title}\n---\n\n*{i}*\n")
    (site / "templates" / "page.html").write_text(
        "<h1>{{ page.title }}</h1>{% if page.title == 'boom' %}{{ page.x.y }}{% endif %}"
        "{{ page.body | markdown }}")
    return site


def _tables(site: Path) -> dict[str, list[Any]]:
    with sqlite3.connect(site / ".ssgen" / "manifest.sqlite") as conn:
        found = {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
                 for table in _TABLES}
        found["files"] = sorted(conn.execute("SELECT relpath, hash, kind FROM files"))
    return found


def _leftovers(site: Path) -> list[str]:
    return sorted(p.name for p in site.iterdir() if p.name.startswith(".ssgen-tmp-"))


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_cold_build_through_staging_equals_one_into_an_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    staged_site, plain_site = _site(tmp_path / "a", 260), _site(tmp_path / "b", 260)
    (plain_site / "public").mkdir()  # an output folder already there: written as always
    renames: list[str] = []
    real = os.replace

    def replace(src: Any, dst: Any) -> None:
        renames.append(str(dst))
        real(src, dst)

    monkeypatch.setattr(output_writer.os, "replace", replace)
    report = build(load_config(staged_site), full=True, jobs=jobs)
    assert report.rendered == 260 and len(report.failures) == 7
    # Pages went in place (jobs=2: the build process's own writes are counted here).
    assert not [dst for dst in renames if dst.endswith("index.html")]
    build(load_config(plain_site), full=True, jobs=jobs)
    assert any(dst.endswith("index.html") for dst in renames)
    assert output_files(staged_site) == output_files(plain_site)
    assert _tables(staged_site) == _tables(plain_site)
    assert _leftovers(staged_site) == [] and _leftovers(plain_site) == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_killed_cold_build_shows_no_page_and_the_next_build_is_clean(
    tmp_path: Path, jobs: str
) -> None:
    site, clean = _site(tmp_path / "a", 300), _site(tmp_path / "b", 300)
    pid = os.fork()
    if pid == 0:  # killed, as kill -9 would, after its 40th file
        os.environ["SSGEN_FAULT"] = "after-write:40"
        try:
            build(load_config(site), full=True, jobs=int(jobs))
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 137
    assert not (site / "public").exists()  # nothing visible before the swap
    assert _leftovers(site) == [staging_name(site / "public", pid)]
    report = build(load_config(site), jobs=2)
    assert report.full and len(report.failures) == 8
    assert _leftovers(site) == []
    build(load_config(clean), jobs=2)
    assert output_files(site) == output_files(clean)
    assert _tables(site) == _tables(clean)


def test_a_killed_full_build_over_an_earlier_one_is_repaired(tmp_path: Path) -> None:
    """The killed build committed rows for pages only in its staging folder: the next
    (incremental) build sweeps the folder and writes every missing page."""
    site, clean = _site(tmp_path / "a", 300), _site(tmp_path / "b", 300)
    build(load_config(site), jobs=2)
    (site / "content" / "p3.md").write_text("---\ntitle: changed\n---\n\nnew\n")
    (clean / "content" / "p3.md").write_text("---\ntitle: changed\n---\n\nnew\n")
    os.rename(site / "public", tmp_path / "gone")
    pid = os.fork()
    if pid == 0:  # killed, as kill -9 would, after its 150th file
        os.environ["SSGEN_FAULT"] = "after-write:150"
        record.EarlyRecord.BATCH = 16  # rows committed for pages still in the staging
        try:
            build(load_config(site), full=True, jobs=1)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 137
    assert not (site / "public").exists() and _leftovers(site)
    report = build(load_config(site), jobs=2)
    assert _leftovers(site) == []
    build(load_config(clean), jobs=2)
    assert report.ok is False and output_files(site) == output_files(clean)


def test_staging_is_swapped_in_even_when_the_build_fails(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "public"
    with pytest.raises(KeyboardInterrupt), staged(out, on=True) as folder:
        assert folder is not None and folder.parent == out.parent
        Output(folder, unseen=True).write("a/index.html", b"a")
        raise KeyboardInterrupt
    assert (out / "a" / "index.html").read_bytes() == b"a"
    with staged(out, on=True) as again:  # an output folder now: no staging
        assert again is None


def test_an_output_folder_made_meanwhile_gets_the_files_moved_in(tmp_path: Path) -> None:
    out = tmp_path / "public"
    with staged(out, on=True) as folder:
        assert folder is not None
        Output(folder, unseen=True).write("a/index.html", b"a")
        (out / "a").mkdir(parents=True)
        (out / "mine.txt").write_text("mine")
    assert (out / "a" / "index.html").read_bytes() == b"a"
    assert (out / "mine.txt").read_text() == "mine"
    assert _leftovers(tmp_path) == []


def test_only_dead_builds_staging_folders_are_swept(tmp_path: Path) -> None:
    out = tmp_path / "public"
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    dead, live = tmp_path / staging_name(out, child), tmp_path / staging_name(out, os.getppid())
    other = tmp_path / staging_name(tmp_path / "elsewhere", child)
    for folder in (dead, live, other):
        (folder / "x").mkdir(parents=True)
    assert sweep_staging(out) == [dead.name]
    assert not dead.exists() and live.exists() and other.exists()


def test_a_failed_in_place_write_leaves_no_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    output = Output(tmp_path / "stage", unseen=True)

    def full_disk(fd: int, data: bytes) -> None:
        os.write(fd, data[:3])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output_writer, "write_all", full_disk)
    with pytest.raises(OutputError, match="disk is full"):
        output.write("a/index.html", b"abcdef")
    assert not (tmp_path / "stage" / "a" / "index.html").exists()
