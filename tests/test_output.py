"""ssgen.build.output: URL -> file mapping, path safety, atomic write-if-changed, removal, static copy."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssgen.build.output import Output, safe_relpath, sha256, url_to_file
from ssgen.errors import OutputError


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".ssgen-tmp-")]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/", "index.html"),
        ("/a/b/", "a/b/index.html"),
        ("/feed.xml", "feed.xml"),
        ("/blog/page/2/", "blog/page/2/index.html"),
        ("/about", "about/index.html"),
        ("/caf%C3%A9/", "café/index.html"),
        ("/a%20b/", "a b/index.html"),
        ("/404.html", "404.html"),
    ],
)
def test_url_to_file_maps_pretty_urls(url: str, expected: str) -> None:
    assert url_to_file(url) == PurePosixPath(expected)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/../../etc/", "'..' segment"),
        ("/blog/../../etc/passwd", "'..' segment"),
        ("/blog/%2e%2e/%2e%2e/x/", "'..' segment"),
        ("/./a/", "'.' segment"),
        ("//etc/passwd", "empty path segment"),
        ("/a//b/", "empty path segment"),
        ("/%2Fetc/passwd", "empty path segment"),
        ("/a\\..\\b/", "backslash"),
        ("/a%5Cb/", "backslash"),
        ("/a%00b/", "NUL"),
        ("/a\nb/", "control character"),
        ("/C:/windows/", "drive path"),
        ("etc/passwd", "starting with '/'"),
        ("", "starting with '/'"),
        ("/a?b=1", "'?' or '#'"),
        ("/%ff/", "not valid UTF-8"),
        ("/" + "x" * 300 + "/", "longer than 255 bytes"),
    ],
)
def test_url_to_file_rejects_unsafe_paths_naming_path_and_route(url: str, reason: str) -> None:
    with pytest.raises(OutputError) as info:
        url_to_file(url, route="post")
    message = str(info.value)
    assert reason in message
    assert repr(url) in message
    assert "route 'post'" in message


def test_safe_relpath_rejects_absolute_and_traversal() -> None:
    for bad in ["/etc/passwd", "../x", "a/../../x", "", "a//b", "a\\b"]:
        with pytest.raises(OutputError, match="output file"):
            safe_relpath(bad)
    assert safe_relpath("a/b/index.html") == PurePosixPath("a/b/index.html")


_PATH_CHARS = st.sampled_from([*list("ab./\\%2eEfF5cC0:\x00\n ?#~"), "%2e", "%2f", "%5c", ".."])
_paths = st.lists(_PATH_CHARS, max_size=24).map("".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=_paths)
def test_random_paths_map_inside_root_or_raise(tmp_path: Path, raw: str) -> None:
    root = tmp_path / "public"
    out = Output(root)
    url = "/" + raw
    try:
        rel = url_to_file(url)
    except OutputError:
        return
    assert not rel.is_absolute()
    assert ".." not in rel.parts
    try:
        out.write(rel, b"x")
    except OutputError:
        return  # e.g. a folder where a file must go; refusing is safe
    target = os.path.realpath(root.joinpath(*rel.parts))
    assert target.startswith(os.path.realpath(root) + os.sep)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=_paths)
def test_random_relpaths_never_written_outside_root(tmp_path: Path, raw: str) -> None:
    root = tmp_path / "site" / "public"
    root.mkdir(parents=True, exist_ok=True)
    out = Output(root)
    before = {p for p in tmp_path.rglob("*") if root not in p.parents and p != root}
    with contextlib.suppress(OutputError):
        out.write(raw, b"x")
    after = {p for p in tmp_path.rglob("*") if root not in p.parents and p != root}
    assert after == before


def test_write_if_changed_keeps_file_and_mtime(tmp_path: Path) -> None:
    out = Output(tmp_path)
    assert out.write("blog/post/index.html", b"<h1>hi</h1>") is True
    target = tmp_path / "blog/post/index.html"
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    inode = target.stat().st_ino
    assert out.write("blog/post/index.html", b"<h1>hi</h1>") is False
    assert target.stat().st_mtime_ns == 1_000_000_000
    assert target.stat().st_ino == inode
    assert out.write("blog/post/index.html", b"<h1>ho</h1>") is True  # same size, new bytes
    assert target.read_bytes() == b"<h1>ho</h1>"
    assert target.stat().st_mtime_ns != 1_000_000_000
    assert out.write("blog/post/index.html", b"longer now") is True
    assert out.read("blog/post/index.html") == b"longer now"
    assert _leftovers(tmp_path) == []


def test_write_with_fsync_and_empty_bytes(tmp_path: Path) -> None:
    out = Output(tmp_path, fsync=True)
    assert out.write("empty.txt", b"") is True
    assert out.write("empty.txt", b"") is False
    assert (tmp_path / "empty.txt").read_bytes() == b""


def only_under(folder: Path, real: Callable[..., Any], fail: Callable[[], Any]
               ) -> Callable[..., Any]:
    """``real`` (``os.write`` or ``os.replace``) failing with ``fail()`` for the files under
    ``folder`` only: the patch is the ``os`` module's, so anything else writing meanwhile
    (pytest-xdist's channel, Hypothesis's database, a finalizer a collection runs) keeps
    the real call, and the simulated failure lands only in the writer under test."""

    def call(first: int | str, *rest: Any) -> Any:
        name = os.readlink(f"/proc/self/fd/{first}") if isinstance(first, int) else first
        if Path(name).is_relative_to(folder):
            return fail()
        return real(first, *rest)

    return call


def test_failed_write_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = Output(tmp_path)
    out.write("a/index.html", b"old")

    def disk_full() -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", only_under(tmp_path, os.write, disk_full))
    with pytest.raises(OutputError, match="No space left on device"):
        out.write("a/index.html", b"new content")
    monkeypatch.undo()
    assert (tmp_path / "a/index.html").read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_failed_rename_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = Output(tmp_path)

    def refuse() -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", only_under(tmp_path, os.replace, refuse))
    with pytest.raises(OutputError, match=r"cannot write .*x\.html: Permission denied"):
        out.write("x.html", b"data")
    assert not (tmp_path / "x.html").exists()
    assert _leftovers(tmp_path) == []


def test_interrupt_during_write_removes_temp_and_propagates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = Output(tmp_path)

    def interrupted() -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", only_under(tmp_path, os.write, interrupted))
    with pytest.raises(KeyboardInterrupt):
        out.write("x.html", b"data")
    monkeypatch.undo()
    assert _leftovers(tmp_path) == []
    assert not (tmp_path / "x.html").exists()


def test_folder_in_the_way_is_a_clear_error(tmp_path: Path) -> None:
    out = Output(tmp_path)
    (tmp_path / "a").mkdir()
    with pytest.raises(OutputError, match="a folder is in the way"):
        out.write("a", b"x")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=r"cannot create folder for file/index\.html"):
        out.write("file/index.html", b"x")


def test_symlinked_folder_escaping_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "public"
    outside = tmp_path / "outside"
    outside.mkdir()
    root.mkdir()
    (root / "evil").symlink_to(outside)
    out = Output(root)
    out.write("ok.html", b"fine")  # the root is now a checked folder
    with pytest.raises(OutputError, match="resolves outside"):
        out.write("evil/index.html", b"pwned")
    with pytest.raises(OutputError, match="resolves outside"):
        out.write("evil/deeper/index.html", b"pwned")
    with pytest.raises(OutputError, match="resolves outside"):
        out.remove("evil/x")
    assert list(outside.iterdir()) == []


def test_symlinked_file_is_replaced_not_written_through(tmp_path: Path) -> None:
    root = tmp_path / "public"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"secret")
    (root / "page.html").symlink_to(secret)
    assert Output(root).write("page.html", b"page") is True
    assert secret.read_bytes() == b"secret"
    assert not (root / "page.html").is_symlink()


def test_remove_prunes_empty_folders_up_to_root(tmp_path: Path) -> None:
    root = tmp_path / "public"
    out = Output(root)
    out.write("blog/2024/post/index.html", b"a")
    out.write("blog/other/index.html", b"b")
    assert out.remove("blog/2024/post/index.html") is True
    assert not (root / "blog/2024").exists()
    assert (root / "blog/other/index.html").exists()
    assert out.remove("blog/2024/post/index.html") is False
    assert out.remove("blog/other/index.html") is True
    assert root.is_dir() and list(root.iterdir()) == []
    out.write("blog/again/index.html", b"c")  # pruned folders are recreated
    assert (root / "blog/again/index.html").read_bytes() == b"c"


def test_remove_stale_only_touches_owned_files(tmp_path: Path) -> None:
    out = Output(tmp_path)
    for rel in ["a/index.html", "b/index.html", "c/index.html"]:
        out.write(rel, b"x")
    (tmp_path / "user-file.txt").write_text("mine")
    owned = {"a/index.html", "b/index.html", "c/index.html", "gone/index.html"}
    removed = out.remove_stale(keep={"a/index.html"}, owned=owned)
    assert removed == ["b/index.html", "c/index.html"]
    assert (tmp_path / "a/index.html").exists()
    assert (tmp_path / "user-file.txt").read_text() == "mine"
    assert not (tmp_path / "b").exists()


def test_remove_stale_refuses_unsafe_owned_paths(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    out = Output(tmp_path / "public")
    with pytest.raises(OutputError):
        out.remove_stale(keep=set(), owned={"../victim.txt"})
    assert victim.read_text() == "keep"


def test_copy_static_copies_once_and_reports_changes(tmp_path: Path) -> None:
    src = tmp_path / "static"
    (src / "css").mkdir(parents=True)
    (src / "css/site.css").write_text("body{}")
    (src / "robots.txt").write_text("User-agent: *")
    (src / "big.bin").write_bytes(os.urandom(3 * (1 << 20)))
    out = Output(tmp_path / "public")
    assert out.copy_static(src) == ["big.bin", "robots.txt", "css/site.css"]
    copied = tmp_path / "public/css/site.css"
    os.utime(copied, ns=(5, 5))
    assert out.copy_static(src) == []
    assert copied.stat().st_mtime_ns == 5
    (src / "css/site.css").write_text("body{ }")
    assert out.copy_static(src) == ["css/site.css"]
    assert copied.read_text() == "body{ }"
    assert (tmp_path / "public/big.bin").read_bytes() == (src / "big.bin").read_bytes()
    assert out.copy_static(tmp_path / "missing") == []
    assert _leftovers(tmp_path) == []


def test_sha256_matches_known_vector() -> None:
    assert sha256(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_remove_stale_prunes_each_emptied_folder_once(tmp_path: Path) -> None:
    out = Output(tmp_path)
    owned = {f"blog/{y}/post-{i}/index.html" for y in (2023, 2024) for i in range(5)}
    for rel in owned:
        out.write(rel, b"x")
    (tmp_path / "blog/2024/notes.txt").write_text("user file")
    keep = {"blog/2023/post-0/index.html"}
    removed = out.remove_stale(keep=keep, owned=owned)
    assert set(removed) == owned - keep
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "blog",
        "blog/2023",
        "blog/2023/post-0",
        "blog/2023/post-0/index.html",
        "blog/2024",
        "blog/2024/notes.txt",
    ]


def test_a_deferred_free_keeps_the_replaced_file_linked_until_freed(tmp_path: Path) -> None:
    # Serve frees the files a round's writes replaced after its replies (``temps``):
    # readers see the old file, then the new one, and nothing else in the output; the
    # old inode waits in a folder of its own.
    from ssgen.build.output import defer_frees, free_displaced

    out, held = Output(tmp_path / "public"), tmp_path / ".ssgen" / "displaced"
    out.write("blog/index.html", b"old")
    old = os.stat(out.path("blog/index.html")).st_ino
    defer_frees(str(held))
    try:
        assert out.write("blog/index.html", b"new") and out.write("blog/new.html", b"a")
    finally:
        defer_frees(None)
    assert out.read("blog/index.html") == b"new" and _leftovers(tmp_path / "public") == []
    assert [(p.read_bytes(), p.stat().st_ino) for p in held.iterdir()] == [(b"old", old)]
    assert free_displaced() == 1 and list(held.iterdir()) == []
    out.write("blog/index.html", b"newer")  # deferring is off again: freed at once
    assert list(held.iterdir()) == [] and free_displaced() == 0


def test_a_killed_servers_displaced_files_are_swept_when_deferring_again(
    tmp_path: Path,
) -> None:
    from ssgen.build.output import TEMP_PREFIX, defer_frees

    held = tmp_path / ".ssgen" / "displaced"
    held.mkdir(parents=True)
    dead = held / f"{TEMP_PREFIX}999999999-0"  # no such pid: its writer is gone
    dead.write_bytes(b"old")
    defer_frees(str(held))
    defer_frees(None)
    assert list(held.iterdir()) == []
