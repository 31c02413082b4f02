"""The output folder's watch (build/outwatch.py) names every file changed since its last
look, or says it cannot (None: check every file). Linux only: elsewhere it always says
None, which the last test checks."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from ssgen.build import outwatch
from ssgen.build.outwatch import OutputWatch, touched_files, unwatch_output, watch_output

linux = pytest.mark.skipif(not sys.platform.startswith("linux") and not os.environ.get("CI"),
                           reason="inotify is Linux's")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    (root / "blog" / "a").mkdir(parents=True)
    (root / "blog" / "a" / "index.html").write_text("a")
    (root / "index.html").write_text("home")
    return root


@linux
def test_first_look_cannot_tell_then_every_change_is_named(out: Path) -> None:
    watch = OutputWatch(out)
    try:
        assert watch.touched() is None
        assert watch.touched() == set()
        (out / "blog" / "a" / "index.html").write_text("changed")
        (out / "index.html").unlink()
        os.utime(out / "blog" / "a" / "index.html", ns=(1, 1))
        (out / "new.txt").write_text("n")
        os.replace(out / "new.txt", out / "moved.txt")
        assert watch.touched() == {"blog/a/index.html", "index.html", "new.txt", "moved.txt"}
        assert watch.touched() == set()
    finally:
        watch.close()


@linux
def test_new_folders_are_watched_with_the_files_already_in_them(out: Path) -> None:
    watch = OutputWatch(out)
    try:
        assert watch.touched() is None
        (out / "blog" / "b" / "deep").mkdir(parents=True)
        (out / "blog" / "b" / "deep" / "index.html").write_text("b")
        assert watch.touched() == {"blog/b/", "blog/b/deep/index.html"}
        (out / "blog" / "b" / "deep" / "index.html").write_text("again")
        assert watch.touched() == {"blog/b/deep/index.html"}
        shutil.rmtree(out / "blog" / "b")
        assert watch.touched() == {"blog/b/deep/index.html"}
    finally:
        watch.close()


@linux
def test_a_folder_made_since_the_last_look_is_named_for_the_files_gone_from_it(
        out: Path) -> None:
    # A file made and deleted in a new folder before the watch saw the folder sent no
    # event of its own: the folder's name stands for it (find_damage checks under it).
    watch = OutputWatch(out)
    try:
        assert watch.touched() is None
        (out / "blog" / "c").mkdir()
        (out / "blog" / "c" / "index.html").write_text("c")
        (out / "blog" / "c" / "index.html").unlink()
        assert watch.touched() == {"blog/c/"}
        (out / "blog" / "c" / "index.html").write_text("again")
        assert watch.touched() == {"blog/c/index.html"}  # watched now
    finally:
        watch.close()


@linux
def test_a_moved_folder_or_a_lost_root_means_check_everything(out: Path) -> None:
    watch = OutputWatch(out)
    try:
        assert watch.touched() is None
        os.rename(out / "blog", out / "posts")
        assert watch.touched() is None  # a subtree moved: and the watch starts afresh
        (out / "posts" / "a" / "index.html").write_text("x")
        assert watch.touched() == {"posts/a/index.html"}
        shutil.rmtree(out)
        assert watch.touched() is None
        assert watch.touched() is None  # no folder to watch yet
        out.mkdir()
        assert watch.touched() is None
        (out / "x").write_text("x")
        assert watch.touched() == {"x"}
    finally:
        watch.close()


def test_an_unwatched_folder_is_checked_whole(out: Path) -> None:
    assert touched_files(out) is None
    watch_output(out)
    try:
        if sys.platform.startswith("linux"):
            assert touched_files(out) is None
            (out / "index.html").write_text("x")
            assert touched_files(out) == {"index.html"}
        else:
            assert touched_files(out) is None
    finally:
        unwatch_output(out)
    assert touched_files(out) is None


def test_a_process_holds_a_few_watches_at_most(tmp_path: Path) -> None:
    folders = [tmp_path / f"out{i}" for i in range(6)]
    before = _inotify_fds()  # other watchers of this process (watchfiles)
    for folder in folders:
        folder.mkdir()
        watch_output(folder)
        touched_files(folder)  # sets it up
    try:
        assert len(outwatch._WATCHES) <= 4  # the others' descriptors were closed
        assert _inotify_fds() <= 4 + before
        assert touched_files(folders[0]) is None  # given up: every file is checked
        if sys.platform.startswith("linux"):
            (folders[-1] / "x").write_text("x")
            assert touched_files(folders[-1]) == {"x"}
    finally:
        for folder in folders:
            unwatch_output(folder)


def _inotify_fds() -> int:
    if not os.path.isdir("/proc/self/fd"):
        return 0
    found = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            found += os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:inotify"
        except OSError:  # the listing's own descriptor, closed since
            continue
    return found
