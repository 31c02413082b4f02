"""Serve rounds whose list routes take their query's delta (routes/patch.py, the
paginated list) and whose scope adds routes for route-wide tags (build/scope.py) still
give a clean full build's output.

The default site's shapes on a longer list: a post route whose pages show their
neighbours and the author and categories they join to (``->``), a paginated list, an
``each`` route with a correlated subquery, a feed. Edits insert, delete, retitle,
re-date (the post moves in the order), change a slug, change a type, retarget an author,
rename an author or a category (one edit changes many items); after each round, through
one kept source as serve runs it, the output must equal a clean full build's. The first
round after start has no delta (scanning path); the rounds after it must take the
delta's path (counted), so the mutants below are caught.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_incremental import (
    AUTHORS,
    SLUGS,
    SiteModel,
    assert_equals_full_build,
    create_post,
    delete_post,
    index,
    post_doc,
    rename_author,
    rename_slug,
    retarget_author,
    snapshot,
    update_title,
    words,
)
from test_kept_pages_property import change_type

from ssgen.build import scope as scope_module
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.routes import patch as patch_module
from ssgen.routes.spec import expand as expand_module
from ssgen.sources import open_source

TOML = """
[site]
title = "Delta"
base_url = "https://example.com"

[source]
type = "local"
files = ["content/data.ndjson"]

[data]
settings = '*[_type == "settings"][0]'

[[routes]]
name = "post"
path = "/blog/{slug}/"
template = "post.html"
query = '''*[_type == "post" && defined(slug.current)] | order(publishedAt desc){_id, title,
  "slug": slug.current, publishedAt, "author": author->{name},
  "categories": categories[]->{title}}'''
tags = ["posts", "post:{slug}"]

[[routes]]
name = "blog"
path = "/blog/"
template = "list.html"
query = '*[_type == "post" && defined(slug.current)] | order(publishedAt desc){title, "slug": slug.current}'
paginate = 4
tags = ["posts"]

[[routes]]
name = "author"
path = "/authors/{id}/"
template = "author.html"
each = '*[_type == "author"]{"id": _id}'
query = '*[_id == $id][0]{name, "posts": *[_type == "post" && references(^._id)] | order(publishedAt desc){title}}'
tags = ["authors"]

[feed]
route = "post"
date_field = "publishedAt"
"""

TEMPLATES = {
    "base.html": "<title>{{ data.settings.title if data.settings else '' }}</title>"
    "{% block content %}{% endblock %}\n",
    "post.html": '{% extends "base.html" %}{% block content %}{{ page.title }}|'
    "{{ page.author.name if page.author else '' }}|"
    "{% for c in page.categories or [] %}{{ c.title }},{% endfor %}|"
    "{{ prev.title if prev else '' }}|{{ next.title if next else '' }}|"
    "{{ prev_url }}|{{ next_url }}{% endblock %}",
    "list.html": '{% extends "base.html" %}{% block content %}{% for item in page %}'
    "{{ item.title }},{% endfor %}{{ paginator.number }}/{{ paginator.pages }}{% endblock %}",
    "author.html": "{{ page.name }}: {% for p in page.posts %}{{ p.title }};{% endfor %}",
}
DATES = ["2023-05-01", "2024-01-03", "2024-01-06", "2025-02-02", "2024-01-03T00:00:00Z"]


class DeltaSite(SiteModel):
    """A longer post list than test_incremental's (ties in the dates included)."""

    def __init__(self, posts: int) -> None:
        super().__init__()
        self.templates = dict(TEMPLATES)
        self.markdown = {}
        self.docs["c2"] = {"_id": "c2", "_type": "category", "title": "Other"}
        for i in range(3, posts):
            doc = post_doc(f"p{i}", f"post{i}", AUTHORS[i % 3], f"Title {i}")
            doc["categories"] = [{"_type": "reference", "_ref": f"c{1 + i % 2}",
                                  "_key": "k1"}]
            self.docs[f"p{i}"] = doc

    def write(self, site: Path) -> None:
        super().write(site)
        (site / "ssgen.toml").write_text(TOML)
        for name in {p.name for p in (site / "templates").iterdir()} - self.templates.keys():
            (site / "templates" / name).unlink()


def redate(at: int, date: str) -> Any:
    def apply(model: SiteModel) -> None:
        posts = sorted(k for k, d in model.docs.items() if d["_type"] == "post")
        if posts:
            model.docs[posts[at % len(posts)]]["publishedAt"] = date
    return apply


def rename_category(category: str, title: str) -> Any:
    def apply(model: SiteModel) -> None:
        model.docs[category]["title"] = title
    return apply


edits = st.one_of(
    st.builds(create_post, st.sampled_from(SLUGS), st.sampled_from(AUTHORS)),
    st.builds(update_title, st.integers(0, 40), words),
    st.builds(delete_post, st.integers(0, 40)),
    st.builds(redate, st.integers(0, 40), st.sampled_from(DATES)),
    st.builds(rename_slug, st.integers(0, 40), st.sampled_from(SLUGS)),
    st.builds(change_type, index, st.sampled_from(["post", "note"])),
    st.builds(retarget_author, st.integers(0, 40), st.sampled_from(AUTHORS)),
    st.builds(rename_author, st.sampled_from(AUTHORS), words),
    st.builds(rename_category, st.sampled_from(["c1", "c2"]), words),
)


def run(steps: list[Any], posts: int = 24) -> int:
    """Build, then one round per step through one kept source; each round's output must
    equal a clean full build's. Returns how many rounds patched the post route."""
    patched = 0
    original = patch_module.patch

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal patched
        found = original(*args, **kwargs)
        patched += found is not None
        return found

    expand_module.patch = counting  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            site, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
            model = DeltaSite(posts)
            model.write(site)
            config = load_config(site)
            source = open_source(config, kept=True)
            assert build(config, jobs=1, source=source).ok  # the first round: no delta
            # The first round after start has no delta (scanned); the second one has.
            for step in [update_title(5, "Retitled"), update_title(6, "Again"), *steps]:
                before = snapshot(site / "public")
                step(model)
                model.write(site)
                source.reload()
                report = build(config, jobs=1, source=source)
                assert_equals_full_build(report, site, scratch, before)
    finally:
        expand_module.patch = original
    return patched


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(steps=st.lists(edits, min_size=1, max_size=6))
def test_rounds_through_the_delta_equal_full_build(steps: list[Any]) -> None:
    assert run(steps) >= 1  # at least the second retitle went through the delta


def test_a_move_re_plans_the_old_and_new_neighbours() -> None:
    assert run([redate(7, "2025-02-02"), redate(12, "2023-05-01"), delete_post(3),
                create_post("beta", "a2"), update_title(9, "Again")]) >= 5


def test_mutant_delta_without_the_old_neighbours_is_caught(monkeypatch: Any) -> None:
    monkeypatch.setattr(patch_module, "_old_neighbours", lambda delta: set())
    with pytest.raises(AssertionError):
        run([redate(7, "2025-02-02"), redate(12, "2023-05-01"), delete_post(9)])


def test_mutant_scope_that_skips_a_route_is_caught(monkeypatch: Any) -> None:
    """A change whose former references are unknown must re-run the ``each`` route of a
    scan keyed by ``references()`` whole; a mutant that does not is caught."""
    real = scope_module._ref_scope

    def partial(config: Any, scope: Any, change: Any, refs: Any, tags: set[str]) -> None:
        real(config, scope, change, None, tags)
        scope.full_routes.discard("author")

    monkeypatch.setattr(scope_module, "_ref_scope", partial)
    with pytest.raises(AssertionError):
        run([create_post("beta", "a1")])  # only the route run whole reaches a1's page


def test_mutant_scope_without_ref_tags_is_caught(monkeypatch: Any) -> None:
    """The ``ref:<id>`` tags of what a changed post references are what reach the author
    page of a new post (``ssgen.groq.refkeyed``)."""
    monkeypatch.setattr(scope_module, "_ref_scope", lambda *args: None)
    with pytest.raises(AssertionError):
        run([create_post("beta", "a1")])
