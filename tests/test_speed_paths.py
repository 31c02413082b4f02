"""The fast paths of the build keep its behaviour: output folder checks, libyaml front
matter, shared paginated tags. Each test pins what the fast path must equal or must not do."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssgen.build.output import Output
from ssgen.errors import OutputError, SourceError
from ssgen.routes.spec import expand_route
from ssgen.sources.frontmatter import split_front_matter

# --- Output: one mkdir or lstat per new folder ----------------------------------------


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """Record the path of every ``os.<name>`` call (``path.realpath`` for os.path's)."""
    owner: Any = os.path if name.startswith("path.") else os
    attr = name.removeprefix("path.")
    real: Callable[..., Any] = getattr(owner, attr)
    calls: list[str] = []

    def counted(path: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(owner, attr, counted)
    return calls


def test_put_reports_written_and_created(tmp_path: Path) -> None:
    out = Output(tmp_path / "public")
    assert out.put("blog/a/index.html", b"one") == (True, True)
    assert out.put("blog/a/index.html", b"one") == (False, False)
    assert out.put("blog/a/index.html", b"two") == (True, False)
    assert out.put("blog/b/index.html", b"one") == (True, True)
    again = Output(tmp_path / "public")  # a later build: folders exist, files exist
    assert again.put("blog/a/index.html", b"two") == (False, False)
    assert again.put("blog/a/index.html", b"three") == (True, False)
    assert again.put("blog/c/index.html", b"x") == (True, True)
    assert (tmp_path / "public/blog/c/index.html").read_bytes() == b"x"


def test_each_new_folder_is_made_once_without_realpath(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = Output(tmp_path / "public")
    out.write("robots.txt", b"x")  # the root is resolved once, up front
    mkdirs = _counting(monkeypatch, "mkdir")
    realpaths = _counting(monkeypatch, "path.realpath")
    stats = _counting(monkeypatch, "stat")
    for i in range(3):
        out.write(f"blog/post-{i}/index.html", b"page")
        out.write(f"blog/post-{i}/data.json", b"{}")
    assert sorted(Path(m).relative_to(tmp_path / "public").as_posix() for m in mkdirs) == [
        "blog",
        "blog/post-0",
        "blog/post-1",
        "blog/post-2",
    ]
    assert realpaths == []
    # Only the second file of each fresh folder looks for an existing file.
    assert [Path(s).name for s in stats] == ["data.json"] * 3


def test_existing_real_folders_are_checked_with_lstat_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "public"
    (root / "a" / "b").mkdir(parents=True)
    out = Output(root)
    out.write("x.txt", b"x")
    realpaths = _counting(monkeypatch, "path.realpath")
    assert out.put("a/b/index.html", b"page") == (True, True)
    assert realpaths == []


def test_symlinked_folder_inside_the_root_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "public"
    (root / "real").mkdir(parents=True)
    (root / "alias").symlink_to(root / "real")
    out = Output(root)
    assert out.write("alias/deeper/index.html", b"ok") is True
    assert (root / "real/deeper/index.html").read_bytes() == b"ok"


def test_symlink_to_a_file_where_a_folder_must_go_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "public"
    root.mkdir()
    (root / "target.txt").write_text("x")
    (root / "link").symlink_to(root / "target.txt")
    with pytest.raises(OutputError, match=r"cannot create folder for link/index\.html"):
        Output(root).write("link/index.html", b"x")


def test_file_in_the_way_of_a_nested_folder_names_the_page(tmp_path: Path) -> None:
    root = tmp_path / "public"
    (root / "a").mkdir(parents=True)
    (root / "a" / "b").write_text("x")
    with pytest.raises(OutputError, match=r"cannot create folder for a/b/c/index\.html"):
        Output(root).write("a/b/c/index.html", b"x")


def test_pruned_folders_are_made_again(tmp_path: Path) -> None:
    out = Output(tmp_path / "public")
    out.write("a/b/index.html", b"x")
    assert out.remove("a/b/index.html") is True
    assert not (tmp_path / "public/a").exists()
    assert out.put("a/b/index.html", b"y") == (True, True)


# --- front matter: libyaml must give what the pure-Python loader gives ------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.dates(),
    st.datetimes(),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(meta=st.dictionaries(st.text(min_size=1, max_size=10), _values, max_size=6))
def test_front_matter_values_equal_the_pure_loader(meta: dict[str, Any]) -> None:
    raw = yaml.safe_dump(meta, allow_unicode=True)
    fields, body = split_front_matter(f"---\n{raw}---\nbody\n", "a.md")
    expected, _ = _pure_split(f"---\n{raw}---\nbody\n")
    assert fields == expected
    assert body == "body\n"


@pytest.mark.parametrize(
    "raw",
    [
        "title: Hello\ndate: 2024-01-02\n",
        "at: 2024-01-02T03:04:05Z\nlocal: 2024-01-02 03:04:05\n",
        "yes_word: yes\nno_word: no\non: on\nnull_word: ~\nempty:\n",
        "octal: 0o17\nold_octal: 017\nhex: 0x1F\nsexagesimal: 1:30\nbig: 123456789012345678901\n",
        "inf: .inf\nneg: -.Inf\nnan_text: '.nan'\nexp: 1e3\n",
        "base: &b {a: 1, b: [1, 2]}\ncopy: *b\nmerged:\n  <<: *b\n  c: 3\n",
        "folded: >\n  one\n  two\nliteral: |\n  keep\n  lines\n",
        "quoted: \"tab\\tand \\u00e9\"\nsingle: 'it''s'\nunicode: café ✓\n",
        "tags: [a, b, c]\nnested: {x: {y: [1, {z: 2}]}}\n",
    ],
)
def test_tricky_front_matter_equals_the_pure_loader(raw: str) -> None:
    text = f"---\n{raw}---\n# body\n"
    assert split_front_matter(text, "a.md") == _pure_split(text)


@pytest.mark.parametrize(
    "raw",
    ["title: [unclosed\n", "a: 1\n b: 2\n", "key: value\n\tbad: tab\n", "- just\n- a list\n"],
)
def test_bad_front_matter_errors_are_the_pure_loaders(raw: str) -> None:
    text = f"---\n{raw}---\nbody\n"
    with pytest.raises(SourceError) as fast:
        split_front_matter(text, "posts/a.md")
    with pytest.raises(SourceError) as pure:
        _pure_split(text)
    assert str(fast.value) == str(pure.value)
    assert str(fast.value).startswith("posts/a.md:")


def _pure_split(text: str) -> tuple[dict[str, Any], str]:
    import ssgen.sources.frontmatter as markdown

    saved = markdown._FAST_LOADER
    markdown._FAST_LOADER = yaml.SafeLoader
    try:
        return split_front_matter(text, "posts/a.md")
    finally:
        markdown._FAST_LOADER = saved


# --- paginated routes: one shared set of doc tags, same tags as before ------------------


class _Route:
    name = "blog"
    path = "/blog/"
    template = "blog.html"
    each = None
    paginate = 2
    tags = ("blog",)


def test_paginated_route_documents_tag_the_first_page_and_every_page_keeps_its_own_tags(
) -> None:
    items = [{"_id": f"p{i}", "title": str(i)} for i in range(5)]
    ids = frozenset({f"p{i}" for i in range(5)} | {"author-1"})
    pages = expand_route(
        _Route(),  # type: ignore[arg-type]
        items,
        result_ids=ids,
        scanned_types=frozenset({"post"}),
        site={},
        data={"settings": {}},
    )
    assert [p.path for p in pages] == ["/blog/", "/blog/page/2/", "/blog/page/3/"]
    for number, page in enumerate(pages):
        assert isinstance(page.tags, frozenset)
        expected = {f"doc:{i}" for i in ids} if number == 0 else set()
        assert {t for t in page.tags if t.startswith("doc:")} == expected
        assert {"route:blog", "global:settings", "type:post", "blog"} <= page.tags


# --- crash leftovers ---------------------------------------------------------------------


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temp_files_of_a_killed_writer_are_swept_live_ones_kept(tmp_path: Path) -> None:
    root = tmp_path / "public"
    (root / "blog" / "post").mkdir(parents=True)
    dead = _dead_pid()
    stale = [root / f".ssgen-tmp-{dead}-1", root / "blog" / "post" / f".ssgen-tmp-{dead}-7"]
    live = root / "blog" / "post" / f".ssgen-tmp-{os.getpid()}-99999"
    for path in [*stale, live]:
        path.write_bytes(b"")
    out = Output(root)
    assert out.put("blog/post/index.html", b"page") == (True, True)
    assert [p for p in stale if p.exists()] == []
    assert live.exists()  # a running writer's temp file is not touched
    assert (root / "blog/post/index.html").read_bytes() == b"page"
