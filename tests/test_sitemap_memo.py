"""The kept sitemap (render/sitemap/memo.py) equals one made afresh, call after call.

Generated sequences of page sets (paths added, removed, lastmods set, changed, dropped)
through one memo, with limits that split the sitemap into an index and parts: each
call's files must be exactly ``sitemap_files`` of the same URLs and lastmods.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.render.sitemap import absolute, sitemap_files
from ssgen.render.sitemap import memo as sitemap_memo
from ssgen.render.sitemap.memo import SitemapMemo

PATHS = [f"/p{i}/" for i in range(12)] + ["/", "/a&b/", "/é/"]
STAMPS = st.one_of(st.none(), st.sampled_from(["2024-01-01T00:00:00Z", "2025-06-01T10:00:00Z"]))
states = st.dictionaries(st.sampled_from(PATHS), STAMPS, max_size=len(PATHS))


def fresh(state: dict[str, str | None], base: str, max_urls: int,
          max_bytes: int) -> dict[str, bytes]:
    return sitemap_files({absolute(base, p): s for p, s in state.items()}, base,
                         max_urls=max_urls, max_bytes=max_bytes)


def check(steps: list[dict[str, str | None]], base: str, max_urls: int,
          max_bytes: int) -> None:
    memo = SitemapMemo()
    for state in steps:
        lastmods = {p: s for p, s in state.items() if s is not None}
        lastmods["/not-a-page/"] = "2020-01-01T00:00:00Z"  # failed pages keep theirs
        got = memo.files(set(state), lastmods, base, max_urls=max_urls, max_bytes=max_bytes)
        assert got == fresh(state, base, max_urls, max_bytes)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(states, min_size=1, max_size=8),
       base=st.sampled_from(["https://ex.com", "https://ex.com/docs/"]),
       max_urls=st.integers(1, 20), max_bytes=st.sampled_from([400, 1_000, 1 << 20]))
def test_kept_sitemap_equals_fresh(steps: list[dict[str, str | None]], base: str,
                                   max_urls: int, max_bytes: int) -> None:
    check(steps, base, max_urls, max_bytes)


def test_mutant_that_keeps_rows_of_changed_lastmods_is_caught(monkeypatch: Any) -> None:
    monkeypatch.setattr(sitemap_memo.SitemapMemo, "_forget_rows",
                        lambda self, lastmods: setattr(self, "_stamps", dict(lastmods)))
    with pytest.raises(AssertionError):
        check([{"/a/": "2024-01-01T00:00:00Z"}, {"/a/": "2025-06-01T10:00:00Z"}],
              "https://ex.com", 10, 1 << 20)


# One round of ``changed``: (what, path, stamp) steps, applied in order by the caller.
steps_of_a_round = st.lists(st.tuples(st.sampled_from(["add", "drop", "stamp"]),
                                      st.sampled_from(PATHS), STAMPS), max_size=6)


def check_changes(start: set[str], rounds: list[list[tuple[str, str, str | None]]],
                  stamps: dict[str, str], base: str, max_urls: int, max_bytes: int) -> None:
    """Each ``changed`` call's files equal a fresh sitemap of the page set and lastmods
    after the round's steps (the memo warm from a ``files`` call first, and made warm
    again so whenever a round left no page)."""
    memo, members = SitemapMemo(), set(start)
    memo.files(members, stamps, base, max_urls=max_urls, max_bytes=max_bytes)
    for steps in rounds:
        touched, restamped = set(), []
        for what, path, stamp in steps:
            if what == "add":
                members.add(path)
            elif what == "drop":
                members.discard(path)
            elif stamp is None:
                stamps.pop(path, None)
            else:
                stamps[path] = stamp
            (touched.add(path) if what != "stamp" else restamped.append(path))
        if memo.warm:
            got = memo.changed([p for p in touched if p in members],
                               [p for p in touched if p not in members], restamped, stamps)
        else:  # no page was left: the caller makes the files from the page set
            got = memo.files(set(members), stamps, base, max_urls=max_urls,
                             max_bytes=max_bytes)
        assert got == fresh({p: stamps.get(p) for p in members}, base, max_urls, max_bytes)


@settings(max_examples=200, deadline=None)
@given(start=st.sets(st.sampled_from(PATHS)),
       stamps=st.dictionaries(st.sampled_from(PATHS), STAMPS.filter(bool)),
       rounds=st.lists(steps_of_a_round, min_size=1, max_size=6),
       base=st.sampled_from(["https://ex.com", "https://ex.com/docs/"]),
       max_urls=st.integers(1, 6), max_bytes=st.sampled_from([400, 1_000, 1 << 20]))
def test_changed_sitemap_equals_fresh(start: set[str], stamps: dict[str, str],
                                      rounds: list[list[tuple[str, str, str | None]]],
                                      base: str, max_urls: int, max_bytes: int) -> None:
    check_changes(start, rounds, stamps, base, max_urls, max_bytes)


def test_a_restamp_joins_only_its_own_file_again() -> None:
    memo = SitemapMemo()
    paths = {f"/p{i:02d}/" for i in range(10)}
    stamps = dict.fromkeys(paths, "2024-01-01T00:00:00Z")
    first = memo.files(paths, stamps, "https://ex.com", max_urls=3)
    stamps["/p04/"] = "2025-06-01T10:00:00Z"
    after = memo.changed([], [], ["/p04/"], stamps)
    assert after == fresh(dict(stamps), "https://ex.com", 3, sitemap_memo.MAX_BYTES)
    kept = {name for name in first if after[name] is first[name]}
    assert kept == {"sitemap-1.xml", "sitemap-3.xml", "sitemap-4.xml"}


def test_mutant_that_keeps_the_file_of_a_restamped_row_is_caught(monkeypatch: Any) -> None:
    real = sitemap_memo.SitemapMemo._made_since
    monkeypatch.setattr(sitemap_memo.SitemapMemo, "_made_since",
                        lambda self, moved, redone: real(self, moved, set()))
    paths = {f"/p{i:02d}/" for i in range(6)}
    with pytest.raises(AssertionError):
        check_changes(paths, [[("stamp", "/p01/", "2025-06-01T10:00:00Z")]],
                      dict.fromkeys(paths, "2024-01-01T00:00:00Z"), "https://ex.com", 2,
                      1 << 20)
