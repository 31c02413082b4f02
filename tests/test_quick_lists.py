"""The quick path on a blog with list pages (an index paginated by date, tag pages, a feed
of the newest three): an edit that keeps what the lists and the feed read of a file
(``ssgen.build.quick.lists``) renders the file's own pages only; an edit of a field they
read (a title, summary or date, a date moved across a page boundary or out of the feed,
a tag added or removed, two files at once) renders the list pages that show the file
before or after it and the feed (``ssgen.build.quick.relist``); a tag page's document, a
deleted output file or a list template takes the ordinary build. Each new process's
output equals a clean full build's and its twin's (which never goes quick), and the
reads of GROQ queries are what the analysis says, or unknown."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import mutant
from test_lazy_markdown import full_build, public, settle
from test_quick import _short_racy, ordinary, quick_or_ordinary

from ssgen.build.quick import lists, relist
from ssgen.build.quick import plan as plans
from ssgen.groq import parse

BLOG = """
[site]
title = "Blog"
base_url = "https://example.com"

[source]
type = "local"
files = []
markdown_dir = "content"
markdown_type = "post"

[[routes]]
name = "post"
path = "/posts/{slug}/"
template = "post.html"
query = '*[_type == "post"]{title, "slug": slug.current, date, summary, tags, body}'

[[routes]]
name = "index"
path = "/"
template = "index.html"
paginate = 2
query = '*[_type == "post"] | order(date desc){title, "slug": slug.current, date}'

[[routes]]
name = "tag"
path = "/tags/{tag}/"
template = "tag.html"
each = '*[_type == "tag"]{"tag": title}'
query = '*[_type == "post" && $tag in tags] | order(date desc){title, "slug": slug.current}'

[feed]
route = "post"
title = "Blog"
date_field = "date"
summary_field = "summary"
limit = 3
"""
# The summary is read by the feed alone (its entries), the body by no list.
TEMPLATES = {
    "post.html": "<h1>{{ page.title }}</h1>{{ page.tags | join(',') }}{{ page.body | markdown }}",
    "index.html": "{% for p in paginator['items'] %}<a href='/posts/{{ p.slug }}/'>"
                  "{{ p.title }} {{ p.date }}</a>{% endfor %}"
                  "{{ paginator.next_url }}",
    "tag.html": "{% for p in page %}{{ p.title }};{% endfor %}",
}
POSTS = ["p1", "p2", "p3", "p4", "p5"]
TAGS = ["t0", "t1"]


def post_file(name: str, fields: dict[str, str], body: str) -> str:
    lines = "".join(f"{key}: {value}\n" for key, value in fields.items())
    return f"---\n{lines}---\n{body}\n"


def initial(name: str) -> dict[str, str]:
    at = POSTS.index(name) + 1
    return {"title": f"Post {at}", "date": f"2024-01-0{at}", "summary": f"Sum {at}",
            "tags": f"[{TAGS[at % 2]}]"}


def make_blog(root: Path) -> Path:
    (root / "content" / "tags").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "ssgen.toml").write_text(BLOG)
    for name, text in TEMPLATES.items():
        (root / "templates" / name).write_text(text)
    for name in POSTS:
        (root / "content" / f"{name}.md").write_text(post_file(name, initial(name), name))
    for tag in TAGS:
        (root / "content" / "tags" / f"{tag}.md").write_text(
            f"---\ntitle: {tag}\n_type: tag\n---\n")
    return root


def fields_of(text: str) -> tuple[dict[str, str], str]:
    head, body = text.split("---\n")[1:3]
    found = dict(line.split(": ", 1) for line in head.splitlines())
    return found, body


def blog_apply(site: Path, step: tuple[str, str, str]) -> None:
    kind, name, arg = step
    page = site / "content" / f"{name}.md"
    if kind == "template":
        (site / "templates" / "index.html").write_text(arg + TEMPLATES["index.html"])
        return
    if kind == "output":  # a list page, a tag page or the feed deleted
        (site / "public" / arg).unlink(missing_ok=True)
        return
    if kind == "two":  # two posts' titles in one build
        for other in (name, arg):
            blog_apply(site, ("title", other, f"T{name}"))
        return
    if kind == "tagdoc":
        (site / "content" / "tags" / f"{arg}.md").write_text(
            f"---\ntitle: {arg}\n_type: tag\n---\n")
        return
    fields, body = fields_of(page.read_text())
    if kind == "body":
        body += f"More {arg}.\n"
    elif kind == "tags":  # a tag added or removed
        fields["tags"] = arg
    else:  # title, summary, date
        fields[kind] = arg
    page.write_text(post_file(name, fields, body.rstrip("\n")))


STEPS = st.one_of(
    st.tuples(st.just("body"), st.sampled_from(POSTS), st.text("xyz", min_size=1, max_size=3)),
    st.tuples(st.just("title"), st.sampled_from(POSTS), st.sampled_from(["A", "B"])),
    st.tuples(st.just("summary"), st.sampled_from(POSTS), st.sampled_from(["S", "T"])),
    # Five posts two a page: a date moves a post across page boundaries.
    # Five posts two a page, the feed the newest three: a date moves a post across page
    # boundaries, into or out of the feed, or ties with another post's.
    st.tuples(st.just("date"), st.sampled_from(POSTS),
              st.sampled_from(["2023-12-31", "2024-01-03", "2024-02-01"])),
    st.tuples(st.just("two"), st.sampled_from(POSTS), st.sampled_from(POSTS)),
    st.tuples(st.just("tags"), st.sampled_from(POSTS),
              st.sampled_from(["[t0]", "[t1]", "[t0, t1]", "[]", "[t2]"])),
    st.tuples(st.just("tagdoc"), st.just(""), st.just("t2")),
    st.tuples(st.just("output"), st.just(""),
              st.sampled_from(["index.html", "page/2/index.html", "tags/t0/index.html",
                               "feed.xml"])),
    st.tuples(st.just("template"), st.just(""), st.sampled_from(["<b>", "<i>"])),
)


def run_blog(steps: list[tuple[str, str, str]], jobs: int = 2) -> list[bool]:
    """Each step then a plain ``ssgen build`` (quick when it can be) and an ordinary build
    of a twin: equal to each other and to a clean full build. Which went quick."""
    took = []
    with tempfile.TemporaryDirectory() as tmp, _short_racy():
        roots = [make_blog(Path(tmp) / name) for name in ("site", "twin")]
        for root in roots:
            settle()
            ordinary(root, 1, remember=True)  # a cold plain build leaves a plan
        assert plans.read(str(roots[0])) is not None
        for step in steps:
            settle()
            for root in roots:
                blog_apply(root, step)
            settle()
            went, got_failures = quick_or_ordinary(roots[0], jobs)
            took.append(went)
            twin = ordinary(roots[1], jobs, remember=False)
            got = public(roots[0])
            assert (got, got_failures) == (public(roots[1]), twin), \
                f"{step}: a new process differs from its twin's"
            assert not got_failures
            assert got == full_build(roots[0], Path(tmp) / "scratch")[0], \
                f"{step}: a new process differs from a full build"
    return took


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEPS, min_size=1, max_size=5), jobs=st.sampled_from([1, 2]))
def test_a_blogs_new_processes_through_the_quick_plan_equal_a_full_build(
        steps: list[tuple[str, str, str]], jobs: int) -> None:
    run_blog(steps, jobs)


def test_body_edits_of_a_blog_go_quick() -> None:
    bodies = [("body", "p2", "x"), ("body", "p5", "y"), ("body", "p2", "z")]
    assert run_blog(bodies, jobs=2) == [True] * 3
    assert run_blog(bodies, jobs=1) == [True] * 3


@pytest.mark.parametrize(("step", "went"), [
    (("title", "p3", "A"), [True] * 4), (("summary", "p3", "S"), [True] * 4),
    (("date", "p2", "2023-12-31"), [True] * 4),  # across the index's pages
    (("tags", "p2", "[t0, t1]"), [True] * 4), (("tags", "p2", "[]"), [True] * 4),
    (("two", "p1", "p4"), [True] * 4),
    # Into the feed (the newest three), then back out of it: the fourth row is not in
    # the feed's file, so whether the post stays is not known (the ordinary build).
    (("date", "p1", "2024-02-01"), [True, True, False, True]),
    # Ties the feed's last row and sorts after it: the same.
    (("date", "p5", "2024-01-03"), [True, False, True, True]),
])
def test_an_edit_a_list_or_the_feed_reads_goes_quick(step: tuple[str, str, str],
                                                     went: list[bool]) -> None:
    # Then put back (the list pages' data hashes and the views the journal noted), and a
    # body edit: quick again after an ordinary build (its full source's mark recorded).
    body = ("body", "p4", "x")
    undo = {"title": "Post 3", "summary": "Sum 3", "tags": "[t0]"}
    back = ("title", "p1", "Post 1") if step[0] == "two" else \
        (step[0], step[1], undo.get(step[0], f"2024-01-0{POSTS.index(step[1]) + 1}"))
    assert run_blog([body, step, back, body]) == went


@pytest.mark.parametrize("step", [
    ("tagdoc", "", "t2"), ("output", "", "page/2/index.html"), ("output", "", "feed.xml"),
    ("template", "", "<b>"),
    # Out of the feed, whose file holds the newest three: the fourth is not known.
    ("date", "p5", "2023-12-31"),
])
def test_what_the_plan_does_not_prove_goes_the_ordinary_way(
        step: tuple[str, str, str]) -> None:
    # The step goes the ordinary way; a build after it (one whose source stayed lazy)
    # leaves a plan again: the last body edit goes quick.
    body = ("body", "p4", "x")
    went = run_blog([body, step, body, body, body])
    assert went[:2] == [True, False] and went[-1]


def test_a_view_that_never_changes_is_caught() -> None:
    """The mutant: every file's view the same, so a date edit goes quick and leaves the
    index, the tag pages and the feed stale."""
    with mutant(lists, "view", lambda doc, fields: b"\0" * 16), \
            pytest.raises(AssertionError, match="differs from"):
        run_blog([("date", "p5", "2023-12-31")])


def test_a_feed_whose_reads_are_left_out_is_caught() -> None:
    """The mutant: the feed's entries read nothing, so a summary edit (read by the feed
    alone) goes quick and leaves the feed stale."""
    with mutant(lists, "_feed_fields", lambda config, per_document: frozenset()), \
            pytest.raises(AssertionError, match="differs from"):
        run_blog([("summary", "p3", "S")])


def test_a_page_the_edit_reaches_taken_as_untouched_is_caught() -> None:
    """The mutant: no page's query reached by an edit, so a title edit renders no list
    page and leaves the index and the tag page stale."""
    with mutant(relist, "_untouched", lambda query, params, alone, now: True), \
            pytest.raises(AssertionError, match="differs from"):
        run_blog([("title", "p3", "A")])


def test_a_feed_row_taken_below_the_files_last_one_is_caught() -> None:
    """The mutant: every new row ranks above the feed file's last one, so a post moved
    out of the newest three is replaced by none of the rows the file does not hold (p3's
    should come in) and the feed goes stale."""
    with mutant(relist, "_ranks_above", lambda row, last: True), \
            pytest.raises(AssertionError, match="differs from"):
        run_blog([("date", "p1", "2024-02-01"), ("date", "p1", "2024-01-01")])


def test_list_notes_left_out_of_the_journal_are_caught() -> None:
    """The mutant: the journal keeps no list notes (views, documents, data hashes), so a
    title put back compares with the plan's and leaves the list pages showing the edit."""
    note = plans.note
    with mutant(plans, "note", lambda *args, lists=None, **kwargs: note(*args, **kwargs)), \
            pytest.raises(AssertionError, match="differs from"):
        run_blog([("title", "p3", "A"), ("title", "p3", "Post 3")])


def test_filter_shaped_queries() -> None:
    assert relist.filter_shaped(parse('*[_type == "post" && $tag in tags]'))
    assert relist.filter_shaped(parse('*[_type == "post"] | order(date desc){title}'))
    for query in ('*[_type == "post"][0...3]{title}', '*[_type == "post"]{"a": author->name}',
                  '*[_type == "post"]{"n": count(*[_type == "tag"])}', 'count(*)',
                  '*[_type == "post" && title == ^.title]'):
        assert not relist.filter_shaped(parse(query)), query


@pytest.mark.parametrize(("query", "fields"), [
    ('*[_type == "post"] | order(date desc){title, "slug": slug.current}',
     {"_type", "date", "title", "slug", "current"}),
    ('*[_type == "post" && $tag in tags][0...3]{title}', {"_type", "tags", "title"}),
    ('count(*[_type == "post"])', {"_type"}),
    ('array::unique(*[_type == "post"].tags[])', {"_type", "tags"}),
    ('*[_type == "tag"]{"tag": title, "n": count(*[_type == "post" && ^.title in tags])}',
     {"_type", "title", "tags"}),
    ('*[_type == "post"]{"a": author->name}', {"_type", "author", "name"}),
    ('*[_type == "post"].tags[][@ != "x"]', {"_type", "tags"}),
])
def test_the_fields_a_query_reads(query: str, fields: set[str]) -> None:
    assert lists.fields_read(parse(query)) == fields


@pytest.mark.parametrize("query", [
    '*[_type == "post"]',  # whole documents
    '*[_type == "post"][0]',
    '*[_type == "post"] | order(date desc)',
    '*[_type == "post"]{...}',
    '*[_type == "post"]{title, "me": @}',
    '*[_type == "post"]{"a": author->}',
    '*[_type == "post"]{"up": *[_type == "tag" && title == ^.title][0]{"p": ^}}',
    '*[_type == "post" && references("x")]{title}',  # reads every reference
    '*[_type == "post" && date < now()]{title}',  # the clock
    '*[_type == "post"][@ == @]{title}',
    '*[_type == "post"]{"t": select(draft => "d", "p")}',  # a node not handled
])
def test_a_query_whose_reads_are_not_known(query: str) -> None:
    assert lists.fields_read(parse(query)) is None
