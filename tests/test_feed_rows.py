"""The feed made from kept rows (render/generated.py) equals one made afresh.

Generated sequences of feed pages (dates that tie, pages without a date, retitles that
hand back a new page object, pages added and removed) and limits: after each call the
feed and its undated pages must equal those made with no kept rows, and the newest-first
selection must equal sorting every row.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.config.load import FeedConfig, SiteConfig
from ssgen.render import generated
from ssgen.render.generated import feed_and_undated
from ssgen.routes.page import PageSpec

DATES = st.one_of(st.none(), st.sampled_from(["2024-01-01", "2024-01-02T10:00:00Z", "2023-12-31"]))
pages = st.dictionaries(st.sampled_from([f"/p{i}/" for i in range(12)]),
                        st.tuples(DATES, st.sampled_from(["a", "b"])), max_size=12)
SITE = SiteConfig(title="Ex", base_url="https://ex.com/", description="d")


def spec(path: str, date: str | None, title: str) -> PageSpec:
    page: dict[str, Any] = {"title": title}
    if date is not None:
        page["publishedAt"] = date
    return PageSpec(path, "post", "post.html", {"page": page}, frozenset())


def every_row_sorted(rows: list[dict[str, str]], limit: int) -> list[dict[str, str]]:
    ordered = sorted(rows, key=lambda row: row["url"])
    ordered.sort(key=lambda row: row["updated"], reverse=True)
    return ordered[:limit]


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(pages, min_size=1, max_size=10), limit=st.integers(0, 5),
       order=st.randoms(use_true_random=False))
def test_kept_feed_rows_equal_fresh(steps: list[dict[str, tuple[str | None, str]]],
                                    limit: int, order: Any) -> None:
    """Also with the entries in another order each time (planned pages come first)."""
    feed = FeedConfig(route="post", limit=limit)
    last: dict[str, PageSpec] = {}
    generated._FEEDS.clear()
    for state in steps:
        # An unchanged page hands back the very same spec, as a kept source does.
        specs = []
        for path, (date, title) in sorted(state.items()):
            old = last.get(path)
            same = old is not None and old.context["page"] == spec(path, date, title).context["page"]
            specs.append(old if same and old is not None else spec(path, date, title))
        last = {s.path: s for s in specs}
        order.shuffle(specs)
        kept = feed_and_undated(feed, SITE, specs)
        generated._FEEDS.clear()
        assert kept == feed_and_undated(feed, SITE, specs)


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("xyz")), max_size=12),
       limit=st.integers(0, 14))
def test_newest_rows_equal_sorting_every_row(rows: list[tuple[str, str]], limit: int) -> None:
    dicts = [{"url": url, "updated": updated, "n": str(i)} for i, (url, updated) in enumerate(rows)]
    assert generated._newest(dicts, limit) == every_row_sorted(dicts, limit)


def test_a_newest_row_gone_lets_the_next_one_in() -> None:
    """The kept newest rows lose one (its page retitled, so a new spec with another
    date): the row that was just below them enters, found among all rows."""
    feed = FeedConfig(route="post", limit=2)
    generated._FEEDS.clear()
    specs = [spec(f"/p{i}/", f"2024-01-0{i + 1}", "t") for i in range(5)]
    feed_and_undated(feed, SITE, specs)
    specs[4] = spec("/p4/", "2020-01-01", "older now")
    got, _ = feed_and_undated(feed, SITE, specs)
    assert b"/p3/" in got and b"/p2/" in got and b"/p4/" not in got
