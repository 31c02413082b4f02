"""Author and category pages take their posts' delta (issue 14): serve rounds still give a
clean full build's output, and a retitle re-plans only the pages the post falls on.

A site shaped like the default one: a post route whose pages show their neighbours, a
paginated blog list, a home page of the newest posts, and ``each`` author and category
routes whose per-page query holds a correlated list of posts (``references(^._id)``),
split into pages of two (``paginate_by = "posts"``). Posts are in one to three
categories. Through one kept source, as serve runs it, edits insert, delete, retitle and
re-date posts (moves across page boundaries), retarget a post's author, add a post to a
category or take it out of one, rename categories and authors and give authors new
slugs; after each round the output must equal a clean full build's. The nested lists'
deltas (``QueryResult.nested``) must be what the author and category pages were made
from (counted), and a retitle must plan at most the post's own pages.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_incremental import assert_equals_full_build, snapshot, words

from ssgen.build import slices
from ssgen.build.memo import kept as kept_module
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.routes import paginate as paginate_module
from ssgen.sources import open_source

TOML = """
[site]
title = "Nested"
base_url = "https://example.com"

[source]
type = "local"
files = ["content/data.ndjson"]

[[routes]]
name = "home"
path = "/"
template = "home.html"
query = '''*[_type == "post" && defined(slug.current)] | order(publishedAt desc)[0...3]{
  title, "slug": slug.current}'''
tags = ["posts"]

[[routes]]
name = "post"
path = "/blog/{slug}/"
template = "post.html"
query = '''*[_type == "post" && defined(slug.current)] | order(publishedAt desc){_id, title,
  "slug": slug.current, publishedAt, "author": author->{name, "slug": slug.current},
  "categories": categories[]->{title, "slug": slug.current}}'''
tags = ["posts", "post:{slug}"]

[[routes]]
name = "blog"
path = "/blog/"
template = "list.html"
query = '*[_type == "post" && defined(slug.current)] | order(publishedAt desc){title, "slug": slug.current}'
paginate = 3
tags = ["posts"]

[[routes]]
name = "author"
path = "/authors/{slug}/"
template = "group.html"
each = '*[_type == "author" && defined(slug.current)]{"slug": slug.current}'
query = '''*[_type == "author" && slug.current == $slug][0]{_id, "title": name,
  "slug": slug.current,
  "posts": *[_type == "post" && defined(slug.current) && references(^._id)]
    | order(publishedAt desc){title, "slug": slug.current, publishedAt,
      "author": author->{name}, "categories": categories[]->{title}}}'''
paginate = 2
paginate_by = "posts"
tags = ["authors", "author:{slug}"]

[[routes]]
name = "category"
path = "/categories/{slug}/"
template = "group.html"
each = '*[_type == "category" && defined(slug.current)]{"slug": slug.current}'
query = '''*[_type == "category" && slug.current == $slug][0]{_id, title,
  "slug": slug.current,
  "posts": *[_type == "post" && defined(slug.current) && references(^._id)]
    | order(publishedAt desc){title, "slug": slug.current, publishedAt,
      "author": author->{name}, "categories": categories[]->{title}}}'''
paginate = 2
paginate_by = "posts"
tags = ["categories", "category:{slug}"]

[feed]
route = "post"
date_field = "publishedAt"
"""

TEMPLATES = {
    "home.html": "{% for p in page %}{{ p.title }};{% endfor %}",
    "post.html": "{{ page.title }}|{{ page.author.name if page.author else '' }}|"
    "{% for c in page.categories or [] %}{{ c.title }},{% endfor %}|"
    "{{ prev.title if prev else '' }}|{{ next.title if next else '' }}",
    "list.html": "{% for p in page %}{{ p.title }},{% endfor %}"
    "{{ paginator.number }}/{{ paginator.pages }}",
    "group.html": "{{ page.title }}: {% for p in page.posts %}{{ p.title }}"
    "({{ p.author.name if p.author else '' }}/"
    "{% for c in p.categories or [] %}{{ c.title }},{% endfor %});{% endfor %}"
    "{{ paginator.number }}/{{ paginator.pages }} of {{ paginator.total }} "
    "{{ paginator.prev_url }} {{ paginator.next_url }}",
}
AUTHORS = ["a1", "a2", "a3"]
CATEGORIES = ["c1", "c2", "c3"]
DATES = ["2023-05-01", "2024-01-03", "2024-01-06", "2025-02-02", "2024-01-03T00:00:00Z",
         "2022-12-31"]
POSTS = 30


def _ref(target: str, key: str | None = None) -> dict[str, str]:
    ref = {"_type": "reference", "_ref": target}
    return ref if key is None else {**ref, "_key": key}


def _post(ident: str, author: str, categories: list[str], title: str, date: str) \
        -> dict[str, Any]:
    return {"_id": ident, "_type": "post", "title": title, "publishedAt": date,
            "slug": {"_type": "slug", "current": f"post-{ident}"},
            "author": _ref(author),
            "categories": [_ref(c, f"k{c}") for c in categories]}


class Site:
    """The documents and templates of the site, written to a folder."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.counter = 0
        for i, ident in enumerate(AUTHORS):
            self.docs[ident] = {"_id": ident, "_type": "author", "name": f"Author {i}",
                                "slug": {"_type": "slug", "current": f"author-{i}"}}
        for i, ident in enumerate(CATEGORIES):
            self.docs[ident] = {"_id": ident, "_type": "category", "title": f"Cat {i}",
                                "slug": {"_type": "slug", "current": f"cat-{i}"}}
        for i in range(POSTS):
            # One to three categories; c1 and c3 far apart in the category route's pages.
            cats = [c for j, c in enumerate(CATEGORIES) if (i >> j) & 1] or ["c2"]
            self.docs[f"p{i:02d}"] = _post(f"p{i:02d}", AUTHORS[i % 3], cats, f"Title {i}",
                                           f"2024-{1 + i % 12:02d}-{1 + i % 27:02d}")

    def posts(self) -> list[str]:
        return sorted(k for k, d in self.docs.items() if d["_type"] == "post")

    def write(self, site: Path) -> None:
        (site / "templates").mkdir(parents=True, exist_ok=True)
        (site / "content").mkdir(parents=True, exist_ok=True)
        (site / "ssgen.toml").write_text(TOML)
        for name, text in TEMPLATES.items():
            (site / "templates" / name).write_text(text)
        lines = "".join(json.dumps(d, sort_keys=True) + "\n" for d in self.docs.values())
        (site / "content" / "data.ndjson").write_text(lines)


Edit = Callable[[Site], str]  # applies itself; says what kind of edit it was


def _post_edit(kind: str, at: int, change: Callable[[dict[str, Any]], None]) -> Edit:
    def apply(site: Site) -> str:
        posts = site.posts()
        if posts:
            change(site.docs[posts[at % len(posts)]])
        return kind
    return apply


def retitle(at: int, title: str) -> Edit:
    return _post_edit("retitle", at, lambda doc: doc.__setitem__("title", title))


def redate(at: int, date: str) -> Edit:
    return _post_edit("redate", at, lambda doc: doc.__setitem__("publishedAt", date))


def retarget(at: int, author: str) -> Edit:
    return _post_edit("retarget", at, lambda doc: doc.__setitem__("author", _ref(author)))


def add_category(at: int, category: str) -> Edit:
    def change(doc: dict[str, Any]) -> None:
        if all(ref["_ref"] != category for ref in doc["categories"]):
            doc["categories"].append(_ref(category, f"k{category}"))
    return _post_edit("add_category", at, change)


def remove_category(at: int, category: str) -> Edit:
    def change(doc: dict[str, Any]) -> None:
        doc["categories"] = [ref for ref in doc["categories"] if ref["_ref"] != category]
    return _post_edit("remove_category", at, change)


def delete(at: int) -> Edit:
    def apply(site: Site) -> str:
        posts = site.posts()
        if posts:
            del site.docs[posts[at % len(posts)]]
        return "delete"
    return apply


def insert(author: str, categories: list[str], date: str) -> Edit:
    def apply(site: Site) -> str:
        site.counter += 1
        ident = f"n{site.counter}"
        site.docs[ident] = _post(ident, author, categories, f"New {ident}", date)
        return "insert"
    return apply


def rename(ident: str, title: str) -> Edit:
    def apply(site: Site) -> str:
        site.docs[ident]["name" if ident in AUTHORS else "title"] = title
        return "rename"
    return apply


def reslug_author(ident: str, slug: str) -> Edit:
    def apply(site: Site) -> str:
        site.docs[ident]["slug"]["current"] = f"{slug}-{ident}"
        return "reslug"
    return apply


posts_at = st.integers(0, 60)
edits = st.one_of(
    st.builds(retitle, posts_at, words),
    st.builds(redate, posts_at, st.sampled_from(DATES)),
    st.builds(retarget, posts_at, st.sampled_from(AUTHORS)),
    st.builds(add_category, posts_at, st.sampled_from(CATEGORIES)),
    st.builds(remove_category, posts_at, st.sampled_from(CATEGORIES)),
    st.builds(delete, posts_at),
    st.builds(insert, st.sampled_from(AUTHORS),
              st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3, unique=True),
              st.sampled_from(DATES)),
    st.builds(rename, st.sampled_from(AUTHORS + CATEGORIES), words),
    st.builds(reslug_author, st.sampled_from(AUTHORS), st.sampled_from(["x", "y"])),
)


class Counts:
    """Per round: the paginated documents and lists expanded, and how many of them were
    scanned by identity (neither the very list of the last expansion nor its delta)."""

    def __init__(self) -> None:
        self.expanded = 0
        self.scanned = 0


def _counting(monkeypatch: pytest.MonkeyPatch, counts: Counts) -> None:
    changed, scan = paginate_module._Expansion.changed, paginate_module._Expansion._scan

    def counting_changed(self: Any, *args: Any, **kwargs: Any) -> set[int]:
        counts.expanded += 1
        return changed(self, *args, **kwargs)

    def counting_scan(self: Any, *args: Any, **kwargs: Any) -> set[int]:
        counts.scanned += 1
        return scan(self, *args, **kwargs)

    monkeypatch.setattr(paginate_module._Expansion, "changed", counting_changed)
    monkeypatch.setattr(paginate_module._Expansion, "_scan", counting_scan)


def _apart() -> None:
    """The paginated routes' expansions replaced by copies (as a memo decoded apart from
    the items would be): their lists and pages are other objects of the same stamps."""
    for key, last in list(paginate_module._LAST.items()):
        site = last.site
        paginate_module._LAST[key] = copy.deepcopy(last)
        paginate_module._LAST[key].site = site


def run(steps: list[Edit], monkeypatch: pytest.MonkeyPatch, *,
        apart: bool = False) -> list[tuple[str, int, Counts]]:
    """Build, then one round per step through one kept source; each round's output must
    equal a clean full build's. Per step: its kind, the pages planned, the counts.
    ``apart``: before each round the expansions are copies (``_apart``)."""
    rounds: list[tuple[str, int, Counts]] = []
    counts = Counts()
    _counting(monkeypatch, counts)
    with tempfile.TemporaryDirectory() as tmp:
        folder, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = Site()
        site.write(folder)
        config = load_config(folder)
        source = open_source(config, kept=True)
        assert build(config, jobs=1, source=source).ok
        # The first round after the start takes the deltas of lists made from themselves.
        for step in [retitle(3, "Warm"), retitle(4, "Warmer"), *steps]:
            before = snapshot(folder / "public")
            kind = step(site)
            site.write(folder)
            source.reload()
            if apart:
                _apart()
            counts.expanded = counts.scanned = 0
            report = build(config, jobs=1, source=source)
            assert_equals_full_build(report, folder, scratch, before)
            done = Counts()
            done.expanded, done.scanned = counts.expanded, counts.scanned
            rounds.append((kind, report.planned, done))
    slices.forget()
    return rounds


SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# What a retitle may plan: the post, its two neighbours, its blog page, home, its author
# page and the page of each of its (up to three) categories.
RETITLE_MOST = 3 + 1 + 1 + 1 + 3


def _check_retitles(rounds: list[tuple[str, int, Counts]]) -> None:
    for kind, planned, counts in rounds:  # the first too: its lists' deltas are from themselves
        if kind == "retitle":
            assert planned <= RETITLE_MOST, planned
            # Every author and category document (and the blog list) it expanded again
            # was the very list of the last expansion or came with its delta.
            assert counts.scanned == 0, vars(counts)


@SETTINGS
@given(steps=st.lists(edits, min_size=1, max_size=5))
# c2 grows a page in a round that re-queries it alone (test_nested_delta_order).
@example(steps=[add_category(1, "c2")])
def test_rounds_with_nested_deltas_equal_full_build(steps: list[Edit]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        rounds = run([*steps, retitle(7, "Last")], monkeypatch)
    _check_retitles(rounds)


def test_a_retitle_of_a_post_in_three_categories_plans_its_own_pages(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # p07 is in c1, c2 and c3; the category route's pages of c1 and c3 are far apart.
    rounds = run([retitle(7, "Once"), retitle(7, "Twice")], monkeypatch)
    _check_retitles(rounds)
    assert rounds[-1][1] <= RETITLE_MOST


def test_expansions_decoded_apart_are_known_by_their_versions(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A nested list's expansion records its version and stamps from its first expansion
    (the runner's delta from itself): copies of the expansions, whose lists are not the
    runners' lists, still take the next delta; nothing is scanned by identity."""
    rounds = run([retitle(7, "Once"), redate(12, "2022-12-31"), retitle(12, "Moved")],
                 monkeypatch, apart=True)
    _check_retitles(rounds)
    assert all(counts.scanned == 0 for _, _, counts in rounds), rounds


def test_moves_across_pages_and_membership_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = run([redate(7, "2025-02-02"), redate(12, "2022-12-31"), retitle(12, "Moved"),
                  add_category(9, "c3"), remove_category(7, "c1"), retarget(5, "a3"),
                  delete(2), insert("a1", ["c1", "c3"], "2024-01-03"), retitle(2, "Again"),
                  rename("c1", "Renamed"), reslug_author("a2", "x"), retitle(8, "After")],
                 monkeypatch)
    _check_retitles(rounds)
    redated = [counts for kind, _, counts in rounds if kind == "redate"]
    assert all(counts.expanded > 0 and counts.scanned == 0 for counts in redated)


def test_mutant_a_move_redoing_only_its_new_page_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = paginate_module._Expansion.changed

    def new_page_only(self: Any, items: list[Any], ids: frozenset[str], size: int,
                      delta: Any = None) -> set[int]:
        if delta is None or self.marker is None or delta.base is not self.marker:
            return real(self, items, ids, size, delta)
        pages = set() if self.ids is ids or self.ids == ids else {0}
        return pages | {at // size for doc_id in delta.changed | delta.moved
                        if (at := delta.index(doc_id)) is not None}

    monkeypatch.setattr(paginate_module._Expansion, "changed", new_page_only)
    with pytest.raises(AssertionError):
        run([redate(7, "2025-02-02"), redate(12, "2022-12-31")], monkeypatch)


def test_mutant_split_by_common_ends_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The old ``kept.split``: everything between the first and last page that changed
    is planned (a post in two categories: every page between them)."""
    from itertools import compress, count
    from operator import is_not

    def by_ends(now: list[Any], last: list[Any], forced: Any,
                by_path: Any = None) -> tuple[list[Any], list[Any]]:
        shortest = min(len(now), len(last))
        head = next(compress(count(), map(is_not, now, last)), shortest)
        tail = min(next(compress(count(), map(is_not, reversed(now), reversed(last))),
                        shortest - head), shortest - head)
        fresh, kept = now[head:len(now) - tail], now[:head] + now[len(now) - tail:]
        return fresh + [s for s in kept if s.path in forced], \
            [s for s in kept if s.path not in forced]

    monkeypatch.setattr(kept_module, "split", by_ends)
    with pytest.raises(AssertionError):
        _check_retitles(run([retitle(7, "Once"), retitle(7, "Twice")], monkeypatch))


def test_mutant_no_nested_delta_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from ssgen.groq.correlated import CorrelatedSubs

    monkeypatch.setattr(CorrelatedSubs, "deltas", lambda self, outer_id: {})
    with pytest.raises(AssertionError):
        _check_retitles(run([retitle(7, "Once")], monkeypatch))


def test_mutant_a_book_that_keeps_its_paths_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Book.update`` answering the last set of paths though an item's pages changed:
    a page past a shrunk list's end is not deleted."""
    real = slices.Book.update

    def stale(self: slices.Book, bases: Any, wanted: Any, values: Any) -> frozenset[str]:
        last = self.every
        found = real(self, bases, wanted, values)
        return last[1] if last is not None and last[0] == list(bases) else found

    monkeypatch.setattr(slices.Book, "update", stale)
    with pytest.raises(AssertionError):
        run([remove_category(1, "c1"), remove_category(3, "c1"), remove_category(5, "c1"),
             remove_category(7, "c1")], monkeypatch)
