"""``ssgen.sources.listing``: a kept listing of the Markdown folder equals a fresh one after
any sequence of additions, deletions, renames (within and between folders), new and
removed folders, hidden names, in-place edits and damage to the kept file; mutants of
what vouches for it are caught."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import mutant

from ssgen.sources import listing
from ssgen.sources.listing import listed_files
from ssgen.sources.markdown_docs import MARKDOWN_SUFFIXES, find_files

FOLDERS = ["", "a", "a/b", ".hidden", "c"]
NAMES = ["x.md", "y.markdown", "z.txt", ".h.md", "W.MD"]
STEPS = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(FOLDERS), st.sampled_from(NAMES)),
    st.tuples(st.just("edit"), st.sampled_from(FOLDERS), st.sampled_from(NAMES)),
    st.tuples(st.just("delete"), st.sampled_from(FOLDERS), st.sampled_from(NAMES)),
    st.tuples(st.just("rename"), st.sampled_from(FOLDERS), st.sampled_from(FOLDERS)),
    st.tuples(st.just("rmtree"), st.sampled_from(FOLDERS[1:]), st.just("")),
    st.tuples(st.just("state"), st.sampled_from(["flip", "truncate", "drop", "old"]),
              st.just("")),
)


def apply(root: Path, state: Path, step: tuple[str, str, str], old: bytes) -> None:
    kind, folder, name = step
    where = root / folder
    if kind in ("write", "edit"):
        if kind == "edit" and not (where / name).is_file():
            return
        where.mkdir(parents=True, exist_ok=True)
        with open(where / name, "a") as handle:  # in place: no folder's stamp changes
            handle.write("text\n")
    elif kind == "delete":
        (where / name).unlink(missing_ok=True)
    elif kind == "rename":
        files = sorted(p for p in where.glob("*") if p.is_file()) if where.is_dir() else []
        if files:
            (root / name).mkdir(parents=True, exist_ok=True)
            files[0].replace(root / name / f"moved-{files[0].name}")
    elif kind == "rmtree":
        shutil.rmtree(where, ignore_errors=True)
    elif state.exists():
        data = state.read_bytes()
        state.write_bytes({"flip": data.replace(b".md", b".mx"), "truncate": data[:-5],
                           "drop": b"", "old": old or data}[folder])


def run(steps: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(listing, "RACY_NS", 20_000_000):
        root, state = Path(tmp) / "content", Path(tmp) / "state"
        root.mkdir()
        (root / "first.md").write_text("x")
        time.sleep(0.03)
        assert listed_files(root, MARKDOWN_SUFFIXES, state) == ["first.md"]
        old = state.read_bytes()
        for step in steps:
            apply(root, state, step, old)
            time.sleep(0.03)  # past the (shortened) racy window
            got = listed_files(root, MARKDOWN_SUFFIXES, state)
            assert got == find_files(root, MARKDOWN_SUFFIXES), f"{step}: a stale listing"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEPS, min_size=1, max_size=8))
def test_a_kept_listing_equals_a_fresh_one(steps: list[tuple[str, str, str]]) -> None:
    run(steps)


def test_an_unchanged_tree_is_not_listed_again(tmp_path: Path) -> None:
    root, state = tmp_path / "content", tmp_path / "state"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.md").write_text("a")
    past = time.time_ns() - 5 * listing.RACY_NS
    for folder in (root / "sub", root):
        os.utime(folder, ns=(past, past))
    with mock.patch.object(listing, "RACY_NS", 0):  # ctime cannot be put back: no window
        assert listed_files(root, MARKDOWN_SUFFIXES, state) == ["sub/a.md"]
        (root / "sub" / "a.md").write_text("edited in place")
        with mock.patch.object(listing, "_walk", side_effect=AssertionError("listed")):
            assert listed_files(root, MARKDOWN_SUFFIXES, state) == ["sub/a.md"]


def test_a_folder_changed_within_its_racy_window_is_listed_again(tmp_path: Path) -> None:
    root, state = tmp_path / "content", tmp_path / "state"
    root.mkdir()
    assert listed_files(root, MARKDOWN_SUFFIXES, state) == []
    with mock.patch.object(listing, "_walk", wraps=listing._walk) as walked:
        listed_files(root, MARKDOWN_SUFFIXES, state)  # made just now: not trusted yet
    assert walked.called


def test_a_missing_root_is_empty_and_not_kept(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert listed_files(tmp_path / "none", MARKDOWN_SUFFIXES, state) == []
    assert not state.exists()


SEQUENCE = [("write", "a", "x.md"), ("delete", "", "first.md"), ("rename", "a", "c")]


def test_the_mutants_sequence_passes() -> None:
    run(SEQUENCE)


def test_mutant_folder_stamps_not_compared_is_caught() -> None:
    with mutant(listing, "_unchanged", lambda base, listed_at, folders: True), \
            pytest.raises(AssertionError, match="stale listing"):
        run(SEQUENCE)


def test_mutant_subfolders_not_stamped_is_caught() -> None:
    real = listing._walk

    def root_only(base: str, suffixes: tuple[str, ...]) -> tuple[list[object], list[str]]:
        folders, files = real(base, suffixes)
        return folders[:1], files

    with mutant(listing, "_walk", root_only), \
            pytest.raises(AssertionError, match="stale listing"):
        run([("write", "a", "x.md"), ("write", "a", "y.markdown")])
