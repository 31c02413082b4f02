"""The kept sitemap (render/sitemap_memo.py) equals one made afresh, call after call.

Generated sequences of page sets (paths added, removed, lastmods set, changed, dropped)
through one memo, with limits that split the sitemap into an index and parts: each
call's files must be exactly ``sitemap_files`` of the same URLs and lastmods.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.render import sitemap_memo
from ssgen.render.generated import absolute
from ssgen.render.sitemap import sitemap_files
from ssgen.render.sitemap_memo import SitemapMemo

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
