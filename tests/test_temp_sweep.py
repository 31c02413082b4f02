"""What killed writers leave (``.ssgen-tmp-*`` files, unrecorded files) never outlives
the next build.

A process sweeps a folder's temp files the first time it writes there; these tests kill a
writer after that (a build in a forked child, as serve sees a killed ``ssgen build``, and
a forked render worker of a build that goes on), so only the targeted sweeps can clean up.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from sitekit import (
    author,
    copy_history,
    forget_process,
    make_site,
    no_temp_files,
    output_files,
    post,
    write_docs,
)
from test_image_pipeline import make_image_site

from ssgen.build import workers
from ssgen.build.output import TEMP_PREFIX, Output
from ssgen.build.pipeline import build
from ssgen.config.load import load_config

DOCS = [author("a1", "Ada"), *(post(n) for n in range(1, 41))]


def _temps(site: Path) -> list[str]:
    return sorted(p.relative_to(site / "public").as_posix()
                  for p in (site / "public").rglob(f"{TEMP_PREFIX}*"))


def _killed_build(site: Path, fault: str, jobs: int = 1) -> None:
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.environ["SSGEN_FAULT"] = fault
        try:
            build(load_config(site), jobs=jobs)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 137, f"{fault} was not reached"


def _fresh(site: Path, root: Path, docs: list[dict[str, object]]) -> dict[str, bytes]:
    fresh = make_site(root, docs)
    copy_history(site, fresh)  # the redirects of removed pages are state
    assert build(load_config(fresh), jobs=1, full=True).ok
    return output_files(fresh)


@pytest.mark.parametrize("edit", ["retitle", "delete"])
def test_a_build_killed_mid_write_leaves_no_temp_file_for_this_process(
        tmp_path: Path, edit: str) -> None:
    site = make_site(tmp_path, DOCS)
    assert build(load_config(site), jobs=1).ok  # this process has swept every folder
    docs = [*DOCS[:3], post(3, title="Retitled"), *DOCS[4:]]
    write_docs(site, docs)
    _killed_build(site, "mid-write:2")
    assert _temps(site) != []
    if edit == "delete":  # the page being written is gone by the next build
        docs = [doc for doc in docs if doc["_id"] != "p3"]
        write_docs(site, docs)
    assert build(load_config(site), jobs=1).ok
    assert _temps(site) == []
    assert output_files(site) == _fresh(site, tmp_path / "fresh", docs)


def test_a_killed_render_worker_leaves_no_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "_PARALLEL_THRESHOLD", 0)
    monkeypatch.setattr(workers, "_CHUNK", 1)  # one page a chunk: the worker gets some
    rendering = workers.PageWriter.run

    def unhurried(self: workers.PageWriter, spec: Any) -> Any:
        time.sleep(0.05)  # under load this process could take every chunk before the
        return rendering(self, spec)  # worker started (CI, 22:24 UTC on 2026-12-05)

    monkeypatch.setattr(workers.PageWriter, "run", unhurried)
    site = make_site(tmp_path, DOCS)
    assert build(load_config(site), jobs=1).ok
    docs = [author("a1", "Grace"), *DOCS[1:]]  # every post page changes
    write_docs(site, docs)
    monkeypatch.setenv("SSGEN_FAULT", "worker:mid-write:1")
    report = build(load_config(site), jobs=2)
    monkeypatch.delenv("SSGEN_FAULT")
    if report.ok:  # this process took every chunk before the worker took one
        pytest.fail("the worker rendered nothing; the test no longer kills it")
    assert all("render worker stopped" in failure.message for failure in report.failures)
    assert _temps(site) == []
    assert build(load_config(site), jobs=1).ok
    assert no_temp_files(site)
    assert output_files(site) == _fresh(site, tmp_path / "fresh", docs)


def test_sweep_keeps_a_live_writers_temp_file_and_prunes_emptied_folders(
        tmp_path: Path) -> None:
    output = Output(tmp_path / "out")
    output.write("a/index.html", b"a")
    (tmp_path / "out" / "b").mkdir()
    live = tmp_path / "out" / "a" / f"{TEMP_PREFIX}{os.getpid()}-9"
    dead = tmp_path / "out" / "b" / f"{TEMP_PREFIX}999999999-1"
    live.write_bytes(b"")
    dead.write_bytes(b"")
    assert output.sweep(["a/index.html", "b/index.html"]) == [f"b/{dead.name}"]
    assert live.exists() and not (tmp_path / "out" / "b").exists()


def test_sweep_takes_a_zombie_writer_for_dead(tmp_path: Path) -> None:
    """A worker orphaned by a killed build dies as a zombie until init reaps it: the
    build that then gets the lock must not keep the zombie's temp file as live."""
    output = Output(tmp_path / "out")
    output.write("a/index.html", b"a")
    pid = os.fork()
    if pid == 0:
        os._exit(137)
    try:
        temp = tmp_path / "out" / "a" / f"{TEMP_PREFIX}{pid}-1"
        temp.write_bytes(b"half")
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2][:3] != b" Z ":
            assert time.monotonic() < deadline, "the child never became a zombie"
            time.sleep(0.01)
        assert output.sweep(["a/index.html"]) == [f"a/{temp.name}"]
    finally:
        os.waitpid(pid, 0)


def test_a_writer_in_its_exit_is_taken_for_dead() -> None:
    """Between closing its files (the build lock it shared is free then) and becoming a
    zombie, a killed worker is still listed, exiting (``PF_EXITING`` in its flags): the
    build that got the lock must take it for dead too (what the crash property's long
    run hit under load: the temp file of a worker caught there stayed)."""
    from ssgen.build.output.temps import stat_exited

    def stat(name: bytes, state: bytes, flags: int) -> bytes:
        return b"4242 (" + name + b") " + state + b" 1 4242 4242 0 -1 " + \
            str(flags).encode() + b" 0 0 0 0 1 2 0 0 20 0 1 0 100 0 0\n"

    assert not stat_exited(stat(b"python", b"R", 0x400000))
    assert not stat_exited(stat(b"python", b"S", 0x400140))
    assert stat_exited(stat(b"python", b"R", 0x400104))  # in its exit
    assert stat_exited(stat(b"python", b"D", 0x4))
    assert stat_exited(stat(b"python", b"Z", 0x400000))
    assert not stat_exited(stat(b"a) Z (b", b"S", 0))  # a name that looks like a state
    assert not stat_exited(b"garbage")
    assert not stat_exited(stat(os.fsencode("live"), b"S", 0)) and not stat_exited(
        Path(f"/proc/{os.getpid()}/stat").read_bytes())


def test_a_build_killed_among_the_image_writes_leaves_no_orphan_variant(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSGEN_IMAGE_CACHE", raising=False)  # this site's own cache
    site, _ = make_image_site(tmp_path / "site", images=2)
    assert build(load_config(site), jobs=1).ok
    post = (site / "templates" / "post.html").read_text()
    (site / "templates" / "post.html").write_text(post.replace("[100, 200]", "[90, 150]"))
    _killed_build(site, "after-write:3")  # the 2 pages, then the first new variant
    assert len(list((site / "public" / "_img").iterdir())) > 2 * 2 * 2
    (site / "templates" / "post.html").write_text(post)  # the new variants are unused again
    assert build(load_config(site), jobs=1).ok
    fresh, _ = make_image_site(tmp_path / "fresh", images=2)
    assert build(load_config(fresh), jobs=1, full=True).ok
    assert output_files(site) == output_files(fresh)


def test_a_build_killed_mid_write_of_a_root_file_leaves_no_temp_file(tmp_path: Path) -> None:
    """A temp file a killed build left in the output root itself (beside the sitemap), not
    in a page's folder, is gone after the next build too."""
    site = make_site(tmp_path, DOCS)
    assert build(load_config(site), jobs=1).ok
    docs = [*DOCS, post(41)]  # a new page: the sitemap at the root changes
    write_docs(site, docs)
    at_root: list[str] = []
    for nth in range(1, 4):  # three files change: the order is the build's
        _killed_build(site, f"mid-write:{nth}")
        at_root = [name for name in _temps(site) if "/" not in name]
        if at_root:
            break
    assert at_root, "no killed write left a temp file in the output root"
    assert build(load_config(site), jobs=1).ok
    assert _temps(site) == []
    assert output_files(site) == _fresh(site, tmp_path / "fresh", docs)


def test_a_new_process_sweeps_a_dead_writers_temp_file_from_the_output_root(
        tmp_path: Path) -> None:
    """A build that rewrites nothing in the root still sweeps it once a process: what a
    build killed there left (a dead writer's temp file) is gone after the next process's
    build, whatever it writes."""
    site = make_site(tmp_path, DOCS)
    assert build(load_config(site), jobs=1).ok
    dead = site / "public" / f"{TEMP_PREFIX}999999999-0"  # no such pid: its writer is gone
    dead.write_bytes(b"half a sitemap")
    forget_process()
    write_docs(site, [*DOCS[:3], post(3, title="Retitled"), *DOCS[4:]])  # no root file
    assert build(load_config(site), jobs=1).ok
    assert _temps(site) == []
