"""A list route whose items drop ``_id`` (issue 15's bench site, a careless projection):
the ids its query read that no item holds (*unattributed*) go to every page up to
``UNATTRIBUTED_LIMIT`` of them and to the first page only past it. On both sides of the
limit, and as edits move the count across it, serve rounds through one kept source give a
clean full build's output.

The site of tests/test_nested_delta_property.py (30 posts, three authors, three
categories) with a per-post card route projected without ``_id``, its author
dereferenced without one too (33 unattributed ids at the start), and a per-author route
paginated by the author's posts (``paginate_by``), none of them with an ``_id``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from test_incremental import assert_equals_full_build, snapshot
from test_nested_delta_property import SETTINGS, Edit, Site, delete, edits, rename, retitle

from ssgen.build import plan as plan_module
from ssgen.build import slices
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.routes.spec import expand as expand_module
from ssgen.sources import open_source

TOML = """
[site]
title = "Cards"
base_url = "https://example.com"

[source]
type = "local"
files = ["content/data.ndjson"]

[[routes]]
name = "card"
path = "/cards/{slug}/"
template = "card.html"
query = '''*[_type == "post" && defined(slug.current)] | order(publishedAt desc){title,
  "slug": slug.current, "author": author->{name}}'''

[[routes]]
name = "by"
path = "/by/{slug}/"
template = "by.html"
query = '''*[_type == "author"] | order(name asc){"slug": slug.current, name,
  "posts": *[_type == "post" && references(^._id)] | order(title asc){title,
    "category": categories[0]->{title}}}'''
paginate = 2
paginate_by = "posts"
"""


class Cards(Site):
    """The nested property's documents, written with the card route only."""

    def write(self, site: Path) -> None:
        super().write(site)
        (site / "ssgen.toml").write_text(TOML)
        (site / "templates" / "card.html").write_text(
            "{{ page.title }}|{{ page.author.name if page.author else '' }}")
        (site / "templates" / "by.html").write_text(
            "{{ page.name }}:{% for p in page.posts %}{{ p.title }}"
            "({{ p.category.title if p.category else '' }});{% endfor %}")


def run(steps: list[Edit]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = Cards()
        site.write(folder)
        config = load_config(folder)
        source = open_source(config, kept=True)
        assert build(config, jobs=1, source=source).ok
        for step in steps:
            before = snapshot(folder / "public")
            step(site)
            site.write(folder)
            source.reload()
            assert_equals_full_build(build(config, jobs=1, source=source), folder, scratch,
                                     before)
    slices.forget()


@SETTINGS
@given(limit=st.sampled_from([0, 30, 31, 32, 33, 256]),
       steps=st.lists(edits, min_size=1, max_size=5))
@example(limit=32, steps=[delete(0), rename("a1", "Ann"), delete(1), rename("a2", "Bo")])
def test_rounds_across_the_unattributed_limit_equal_full_build(
        limit: int, steps: list[Edit]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(expand_module, "UNATTRIBUTED_LIMIT", limit)
        run([*steps, rename("a3", "Last"), retitle(5, "Last")])


def test_mutant_the_first_page_without_the_unattributed_ids_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the limit no page carries the authors' ids: a renamed author's cards stay
    stale, which the comparison with a clean full build must see."""
    real = expand_module._finish

    def first_page_like_the_rest(*args: object, **kwargs: object) -> object:
        _, shared, neighbours = args[4]  # type: ignore[misc]
        return real(*args[:4], (shared, shared, neighbours), *args[5:], **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(expand_module, "_finish", first_page_like_the_rest)
    with pytest.raises(AssertionError):
        run([rename("a1", "Renamed")])


def test_mutant_a_new_first_page_not_recorded_again_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The newest post deleted: the next one becomes the first page, its data unchanged,
    its tags now the authors'; unless it is recorded again, a renamed author reaches no
    page (what round 22 found: the first-page-only rule never re-recorded it)."""
    monkeypatch.setattr(plan_module, "_carriers_recorded", lambda plan, config: None)
    newest = Cards().posts().index("p23")  # 2024-12-24
    with pytest.raises(AssertionError):
        run([delete(newest), rename("a3", "Last")])


def test_mutant_a_new_first_item_of_a_route_paginated_by_its_items_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Author 0 renamed to the end of the order: Author 1's first page becomes the one
    carrying the ids, its data unchanged; a renamed category it shows must reach it."""
    monkeypatch.setattr(plan_module, "_carriers_recorded", lambda plan, config: None)
    with pytest.raises(AssertionError):
        run([rename("a1", "Zed"), rename("c2", "Renamed")])
