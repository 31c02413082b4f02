"""Rounds that leave pages unplanned (build/memo/kept.py) still give a clean full build's output.

Serve's way of building (one kept source, reloaded, a change named or not) on a site
shaped like the default one: maintained globals, a list route whose pages read their
neighbours, a paginated list, an ``each`` route with a correlated subquery, a feed. So
that identical page specs come back and are kept, each example first retitles one post
(and checks that the round kept pages), deletes a post page's file and edits a template;
then generated edits, renames, deletes, type changes, template and global edits, outside
damage and webhook paths. After each round the output must equal a clean full build's.
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
    _posts,
    assert_equals_full_build,
    create_post,
    delete_post,
    draft_then_publish,
    edit_settings,
    edit_template,
    index,
    post_doc,
    rename_author,
    rename_slug,
    retarget_author,
    snapshot,
    update_title,
    words,
)

from ssgen.build.change import Change
from ssgen.build.outwatch import OutputWatch, unwatch_output, watch_output
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.sources import open_source

TOML = """
[site]
title = "Kept"
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
query = '*[_type == "post" && defined(slug.current)] | order(publishedAt desc){_id, title, "slug": slug.current, publishedAt, "author": author->{name}}'

[[routes]]
name = "blog"
path = "/blog/"
template = "list.html"
query = '*[_type == "post" && defined(slug.current)] | order(publishedAt desc){title, "slug": slug.current}'
paginate = 3

[[routes]]
name = "author"
path = "/authors/{id}/"
template = "author.html"
each = '*[_type == "author"]{"id": _id}'
query = '*[_id == $id][0]{name, "posts": *[_type == "post" && references(^._id)] | order(publishedAt desc){title}}'

[feed]
route = "post"
date_field = "publishedAt"
"""

TEMPLATES = {
    "base.html": "<title>{{ data.settings.title if data.settings else '' }}</title>"
    "{% block content %}{% endblock %}\n",
    "post.html": '{% extends "base.html" %}{% block content %}{{ page.title }}|'
    "{{ page.author.name if page.author else '' }}|{{ prev.title if prev else '' }}|"
    "{{ next_url }}{% endblock %}",
    "list.html": '{% extends "base.html" %}{% block content %}{% for item in page %}'
    "{{ item.title }},{% endfor %}{{ paginator.number }}/{{ paginator.pages }}{% endblock %}",
    "author.html": "{{ page.name }}: {% for p in page.posts %}{{ p.title }};{% endfor %}",
}


class KeptSite(SiteModel):
    """The property site of test_incremental with this module's routes and templates."""

    def __init__(self) -> None:
        super().__init__()
        self.templates = dict(TEMPLATES)
        self.markdown = {}
        for i in range(3, 9):
            slug = f"extra{i}"
            self.docs[f"p{i}"] = post_doc(f"p{i}", slug, "a1", f"Title {i}")

    def write(self, site: Path) -> None:
        super().write(site)
        (site / "ssgen.toml").write_text(TOML)
        for name in {p.name for p in (site / "templates").iterdir()} - self.templates.keys():
            (site / "templates" / name).unlink()


def change_type(index: int, to: str) -> Any:
    def apply(model: SiteModel) -> None:
        docs = [k for k, d in model.docs.items() if d["_type"] in ("post", "note")]
        if docs:
            doc = model.docs[docs[index % len(docs)]]
            doc["_type"] = to
    return apply


def damage(index: int, delete: bool) -> Any:
    """Outside damage: a page file deleted or changed (applied to the output folder)."""
    return ("damage", index, delete)


edits = st.one_of(st.one_of(
    st.builds(create_post, st.sampled_from(SLUGS), st.sampled_from(AUTHORS)),
    st.builds(update_title, index, words),
    st.builds(delete_post, index),
    st.builds(rename_slug, index, st.sampled_from(SLUGS)),
    st.builds(retarget_author, index, st.sampled_from(AUTHORS)),
    st.builds(rename_author, st.sampled_from(AUTHORS), words),
    st.builds(draft_then_publish, index, words, st.booleans()),
    st.builds(edit_template, st.sampled_from(sorted(TEMPLATES)), words),
    st.builds(edit_settings, words)),
    st.builds(change_type, st.integers(0, 10), st.sampled_from(["post", "note"])),
    st.builds(damage, st.integers(0, 30), st.booleans()),
)


def _damage(site: Path, index: int, delete: bool) -> None:
    files = sorted(p for p in (site / "public").rglob("index.html"))
    if files:
        target = files[index % len(files)]
        if delete:
            target.unlink()
        else:
            target.write_bytes(target.read_bytes() + b"tampered")


def run(steps: list[Any], webhook: bool, template: str, watched: bool = False) -> None:
    """Build the site, then each step through one kept source (as serve does); after
    each round the output must equal a clean full build's. ``watched``: with serve's
    watch of the output folder (only the files it saw change are checked for damage)."""
    with tempfile.TemporaryDirectory() as tmp:
        site, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        model = KeptSite()
        model.write(site)
        config = load_config(site)  # one config object, as serve keeps it
        source = open_source(config, kept=True)
        if watched:
            watch_output(config.output_dir)
        try:
            assert build(config, jobs=1, source=source).ok
            _rounds(steps, webhook, template, model, site, scratch, config, source)
        finally:
            unwatch_output(config.output_dir)


def _rounds(steps: list[Any], webhook: bool, template: str, model: KeptSite, site: Path,
            scratch: Path, config: Any, source: Any) -> None:
    # a retitle, then a post page's file deleted, then a template edited
    first = [update_title(4, "Retitled"), damage(8, True), edit_template(template, "!")]
    for number, step in enumerate([*first, *steps]):
        if isinstance(step, tuple):  # damage: the build must put the files back
            _damage(site, step[1], step[2])
            before = snapshot(site / "public")
        else:
            before = snapshot(site / "public")
            step(model)
            model.write(site)
        source.reload()
        posts = _posts(model)
        paths = frozenset({f"/blog/{model.docs[posts[0]]['slug']['current']}/"}) \
            if webhook and posts else frozenset()
        report = build(config, jobs=1, source=source,
                       change=Change(paths=paths) if webhook else None)
        if number == 0:
            assert report.kept > 0, "a one-post retitle should keep the other posts' pages"
        assert_equals_full_build(report, site, scratch, before)


SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
STEPS = st.lists(edits, min_size=1, max_size=6)


@SETTINGS
@given(steps=STEPS, webhook=st.booleans(), template=st.sampled_from(sorted(TEMPLATES)))
def test_rounds_that_keep_pages_equal_full_build(steps: list[Any], webhook: bool,
                                                 template: str) -> None:
    run(steps, webhook, template)


@settings(SETTINGS, max_examples=15)
@given(steps=STEPS, webhook=st.booleans(), template=st.sampled_from(sorted(TEMPLATES)))
def test_rounds_under_an_output_watch_equal_full_build(steps: list[Any], webhook: bool,
                                                       template: str) -> None:
    run(steps, webhook, template, watched=True)


def test_mutant_watch_that_misses_changes_is_caught(monkeypatch: Any) -> None:
    monkeypatch.setattr(OutputWatch, "touched", lambda self: set())
    with pytest.raises(AssertionError):
        run([damage(3, False)], False, "post.html", watched=True)


def _looking(monkeypatch: Any, change: Any = None) -> list[Any]:
    """Note what ``kept.split`` learns of ``reuse.looked_at`` (``change``: a mutant's
    edit of the places)."""
    from ssgen.build.memo import kept

    real, seen = kept.looked_at, []

    def noting(now: Any, last: Any) -> Any:
        places = real(now, last)
        seen.append(places)
        return change(places) if change is not None and places is not None else places

    monkeypatch.setattr(kept, "looked_at", noting)
    return seen


def test_a_retitle_compares_only_the_places_the_delta_named(monkeypatch: Any) -> None:
    seen = _looking(monkeypatch)
    run([update_title(5, "Again")], False, "list.html")
    named = [places for places in seen if places is not None]
    assert named and all(len(places) <= 4 for places in named), seen


def test_mutant_split_that_compares_no_place_is_caught(monkeypatch: Any) -> None:
    _looking(monkeypatch, lambda places: [])
    with pytest.raises(AssertionError):
        run([update_title(5, "Again")], False, "list.html")


def test_mutant_result_changed_after_it_was_handed_out_is_caught(monkeypatch: Any) -> None:
    # Route results are not copied (maintained query, list and paginated expansions):
    # they rely on a handed-out list never changing (``Ordered``'s copy on write).
    from ssgen.groq.ordered import Ordered

    monkeypatch.setattr(Ordered, "_own", lambda self: self.items)
    with pytest.raises(AssertionError):
        run([update_title(5, "Again"), update_title(2, "More")], False, "list.html")
