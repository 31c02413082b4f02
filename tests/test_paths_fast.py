"""The string fast paths of the build's per-page path handling give exactly what the
PurePosixPath versions give (values and errors): url_to_relpath, checked_relpath, the
clash check's folders, and Output.put_stat's size and mtime."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.build.clash import _folders
from ssgen.build.output import Output, file_stat
from ssgen.errors import OutputError
from ssgen.routes.paths import _checked_file, checked_relpath, url_to_file, url_to_relpath

PIECES = ["/", "/", "/", "a", "b", "blog", "post-1", ".", "..", ".well-known", "x.html",
          "feed.xml", "C:", "c:x", "%41", "%2F", "%ZZ", "é", "e\u0301", " ", "?", "#", "\\",
          "\x00", "\x1f", "~", "index.html", "a" * 130, "_", ":", "@"]


def slow(path: str, route: str | None) -> str:
    return "/".join(_checked_file(path, route))


def outcome(fn: object, *args: object) -> str:
    try:
        return f"ok {fn(*args)}"  # type: ignore[operator]
    except OutputError as exc:
        return f"error {exc}"


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=8), st.sampled_from([None, "post"]))
def test_url_to_relpath_equals_the_full_check(pieces: list[str], route: str | None) -> None:
    path = "".join(pieces)
    expected = outcome(slow, path, route)
    assert outcome(url_to_relpath, path, route) == expected
    assert outcome(lambda p, r: str(url_to_file(p, r)), path, route) == expected


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=8))
def test_checked_relpath_is_the_string_of_safe_relpath(pieces: list[str]) -> None:
    text = "".join(pieces)
    got = outcome(checked_relpath, text)
    expected = outcome(lambda t: str(PurePosixPath(t)) if checked_relpath(t) else "", text)
    assert got == expected


@pytest.mark.parametrize("rel", ["index.html", "a/index.html", "a/b/c/index.html", "x.y/z"])
def test_folders_are_the_parents_deepest_first(rel: str) -> None:
    assert list(_folders(rel)) == [str(p) for p in PurePosixPath(rel).parents if str(p) != "."]


def test_put_stat_reports_what_stat_reports(tmp_path: Path) -> None:
    out = Output(tmp_path / "public")
    writes = []
    for rel, data in [("a/b/index.html", b"one"), ("a/b/index.html", b"one"),
                      ("a/b/index.html", b"three"), ("top.txt", b"")]:
        written, created, size, mtime = out.put_stat(rel, data)
        assert (size, mtime) == file_stat(os.path.join(tmp_path, "public", rel))
        writes.append((written, created))
    assert writes == [(True, True), (False, False), (True, False), (True, True)]


def test_front_matter_refuses_the_same_characters_as_the_negated_class() -> None:
    import re

    from ssgen.sources.frontmatter.simple import _VALUE_TROUBLE

    negated = re.compile(r"[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                         r"\U00010000-\U0010ffff]")
    differ = [c for c in range(0x110000)
              if bool(negated.search(chr(c))) != bool(_VALUE_TROUBLE.search(f"a{chr(c)}b"))]
    assert differ == []
