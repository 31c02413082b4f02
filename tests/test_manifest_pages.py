"""The process-wide page index (routes and records) stays equal to the pages table,
whoever writes it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.manifest import pages as manifest_pages
from ssgen.manifest.store import Manifest

PATHS = [f"/p/{i}/" for i in range(6)]
ROUTES = ["post", "blog", "author"]


@contextmanager
def other_process() -> Iterator[None]:
    """Run writes as another process would: with its own (empty) page index cache."""
    mine = manifest_pages._INDEXES.copy()
    manifest_pages._INDEXES.clear()
    try:
        yield
    finally:
        manifest_pages._INDEXES.clear()
        manifest_pages._INDEXES.update(mine)


def truth(m: Manifest) -> dict[str, str]:
    return {row[0]: row[1] for row in m._rows("SELECT path, route FROM pages", what="t")}


def record(m: Manifest, path: str, route: str, digest: str = "d") -> None:
    m.record_page(path, route, {"n": len(digest)}, "t.html", digest, "o", {f"route:{route}"})


ops = st.lists(st.tuples(
    st.sampled_from(["record", "remove", "failed-transaction", "nested-rollback"]),
    st.sampled_from(PATHS), st.sampled_from(ROUTES), st.booleans(),
    st.sampled_from(["d", "d2", "d33"]),
    # Read first: the records of some pages only (the copy then holds some full rows),
    # and whether every page's file is asked for (all rows read) after this step.
    st.lists(st.sampled_from(PATHS), max_size=3), st.booleans()), max_size=25)
Step = tuple[str, str, str, bool, str, list[str], bool]


@settings(max_examples=150, deadline=None)
@given(steps=ops)
def test_page_index_matches_the_table(steps: list[Step]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "manifest.sqlite"
        mine, theirs = Manifest.open(path), Manifest.open(path)
        try:
            for op, page, route, foreign, digest, some, files in steps:
                assert mine.pages_at(some) == {
                    r.path: r for r in mine.pages() if r.path in some}
                handle = theirs if foreign else mine
                with other_process() if foreign else _nothing():
                    apply(handle, op, page, route, digest)
                expected = truth(mine)
                if files:
                    assert mine.page_files() == {r.file: r.path for r in mine.pages()}
                assert mine.page_paths() == set(expected)
                assert mine.page_count() == len(expected)
                for name in ROUTES:
                    assert mine.pages_for_route(name) == {
                        p for p, r in expected.items() if r == name}
                # Records come from the copy while it is current, else from the table.
                assert mine.pages_at(PATHS) == {r.path: r for r in mine.pages()}
        finally:
            mine.close()
            theirs.close()


def apply(m: Manifest, op: str, page: str, route: str, digest: str) -> None:
    if op == "record":
        record(m, page, route, digest)
    elif op == "remove":
        m.remove_page(page)
    elif op == "failed-transaction":
        with pytest.raises(RuntimeError), m.transaction():
            record(m, page, route)
            raise RuntimeError("boom")
    else:
        with m.transaction():
            m.remove_page(page)
            with pytest.raises(RuntimeError), m.transaction():
                record(m, page, route, digest)
                raise RuntimeError("boom")


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def test_reads_inside_a_writing_transaction_see_its_writes(tmp_path: Path) -> None:
    m = Manifest.open(tmp_path / "m.sqlite")
    record(m, "/a/", "post")
    assert m.page_paths() == {"/a/"}  # now cached
    with m.transaction():
        record(m, "/b/", "post")
        assert m.pages_for_route("post") == {"/a/", "/b/"}
    assert m.pages_for_route("post") == {"/a/", "/b/"}
    m.close()
