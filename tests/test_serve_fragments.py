"""Serve's kept caches never go stale: incremental == full with memoised card projections
(groq/memo.py) and rendered include fragments (render/fragments.py) kept across builds.

The site is the default site's shape in small: author and category pages list their
posts through a correlated subquery whose cards dereference the author and categories,
each card rendered by ``{% include %}`` of a partial that imports macros; the blog list
shows the same cards. Generated edit sequences run through one kept source and one
process-wide renderer (as in serve); after each build the output must equal a clean full
build. The mutant tests show the property catching a fragment key that misses what the
partial reads and a projection memo that ignores the documents a card dereferenced.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.groq import memo
from ssgen.render import fragments
from ssgen.render.environment import Renderer
from ssgen.sources import open_source

CARD = '{title, "slug": slug.current, "author": author->{name}, "cats": categories[]->{title}}'
TOML = f"""
[site]
title = "Cards"
base_url = "https://example.com"

[source]
type = "local"
files = ["content/data.ndjson"]

[[routes]]
name = "blog"
path = "/blog/"
template = "blog.html"
query = '*[_type == "post"] | order(title asc){CARD}'
paginate = 2

[[routes]]
name = "author"
path = "/authors/{{slug}}/"
template = "list.html"
each = '*[_type == "author"]{{"slug": _id}}'
query = '*[_type == "author" && _id == $slug][0]{{name, "posts": *[_type == "post" && references(^._id)] | order(title asc){CARD}}}'

[[routes]]
name = "category"
path = "/categories/{{slug}}/"
template = "list.html"
each = '*[_type == "category"]{{"slug": _id}}'
query = '*[_type == "category" && _id == $slug][0]{{"name": title, "posts": *[_type == "post" && references(^._id)] | order(title asc){CARD}}}'
"""

TEMPLATES = {
    "_m.html": "{% macro who(a) %}<i>{{ a.name if a else '-' }}</i>{% endmacro %}",
    "_card.html": '{% import "_m.html" as m %}<li><a href="{{ url(\'/p/\' ~ post.slug) }}">'
    "{{ url if post.title.startswith('a') else '' }}"
    "{{ post.title }}</a> {{ m.who(post.author) }} "
    "{% for c in post.cats if c %}[{{ c.title }}]{% endfor %}</li>",
    "list.html": "<h1>{{ page.name }}</h1><ul>{% for post in page.posts %}"
    '{% include "_card.html" %}{% endfor %}</ul>',
    "blog.html": '<ul>{% for post in page %}{% include "_card.html" %}{% endfor %}</ul>',
}
AUTHORS, CATEGORIES = ["a1", "a2"], ["c1", "c2"]


def post(ident: str, title: str, author: str, cats: list[str]) -> dict[str, Any]:
    return {"_id": ident, "_type": "post", "title": title, "slug": {"current": ident},
            "author": {"_ref": author},
            "categories": [{"_ref": c, "_key": c} for c in cats]}


class Site:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        for i, a in enumerate(AUTHORS):
            self.docs[a] = {"_id": a, "_type": "author", "name": f"Author {i}"}
        for i, c in enumerate(CATEGORIES):
            self.docs[c] = {"_id": c, "_type": "category", "title": f"Cat {i}"}
        for i in range(4):
            self.docs[f"p{i}"] = post(f"p{i}", f"T{i}", AUTHORS[i % 2], CATEGORIES[: i % 3])
        self.templates = dict(TEMPLATES)
        self.counter = 0

    def posts(self) -> list[str]:
        return sorted(k for k, d in self.docs.items() if d["_type"] == "post")

    def write(self, root: Path) -> None:
        (root / "templates").mkdir(parents=True, exist_ok=True)
        (root / "content").mkdir(parents=True, exist_ok=True)
        (root / "ssgen.toml").write_text(TOML)
        for name, text in self.templates.items():
            path = root / "templates" / name
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
        (root / "content" / "data.ndjson").write_text(
            "".join(json.dumps(d) + "\n" for d in self.docs.values()))


Edit = Callable[[Site], None]
words = st.text(alphabet="abc ", min_size=1, max_size=4).map(str.strip).filter(bool)
pick = st.integers(min_value=0, max_value=9)


def _on_post(change: Callable[[dict[str, Any]], None]) -> Callable[[int], Edit]:
    def make(i: int) -> Edit:
        def apply(site: Site) -> None:
            posts = site.posts()
            if posts:
                change(site.docs[posts[i % len(posts)]])
        return apply
    return make


def retitle(i: int, title: str) -> Edit:
    return _on_post(lambda d: d.__setitem__("title", title))(i)


def reauthor(i: int, author: str) -> Edit:
    return _on_post(lambda d: d["author"].__setitem__("_ref", author))(i)


def recategorise(i: int, cats: list[str]) -> Edit:
    return _on_post(lambda d: d.__setitem__(
        "categories", [{"_ref": c, "_key": c} for c in cats]))(i)


def rename(ident: str, value: str) -> Edit:
    def apply(site: Site) -> None:
        site.docs[ident]["name" if ident in AUTHORS else "title"] = value
    return apply


def create(author: str, title: str) -> Edit:
    def apply(site: Site) -> None:
        site.counter += 1
        ident = f"n{site.counter}"
        site.docs[ident] = post(ident, title, author, ["c1"])
    return apply


def delete(i: int) -> Edit:
    def apply(site: Site) -> None:
        posts = site.posts()
        if posts:
            del site.docs[posts[i % len(posts)]]
    return apply


def edit_template(name: str, text: str) -> Edit:
    def apply(site: Site) -> None:
        site.templates[name] += text
    return apply


edits = st.one_of(
    st.builds(retitle, pick, words),
    st.builds(reauthor, pick, st.sampled_from([*AUTHORS, "gone"])),
    st.builds(recategorise, pick, st.lists(st.sampled_from(CATEGORIES), max_size=2)),
    st.builds(rename, st.sampled_from([*AUTHORS, *CATEGORIES]), words),
    st.builds(create, st.sampled_from(AUTHORS), words),
    st.builds(delete, pick),
    st.builds(edit_template, st.sampled_from(sorted(TEMPLATES)), words),
)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run(steps: list[Edit]) -> None:
    """Apply ``steps`` through one kept source; after each, assert incremental == full."""
    with tempfile.TemporaryDirectory() as tmp:
        root, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = Site()
        site.write(root)
        source = open_source(load_config(root), kept=True)
        assert build(load_config(root), jobs=1, source=source).ok
        for step in steps:
            step(site)
            site.write(root)
            source.reload()
            assert build(load_config(root), jobs=1, source=source).ok
            shutil.rmtree(scratch, ignore_errors=True)
            site.write(scratch)
            # The reference renders every include afresh (no fragment cache).
            Renderer.shared(load_config(scratch)).fragments.enabled = False
            assert build(load_config(scratch), full=True, jobs=1).ok
            built, full = snapshot(root / "public"), snapshot(scratch / "public")
            stale = sorted(f for f in built.keys() | full.keys() if built.get(f) != full.get(f))
            assert not stale, f"differs from a full build: {stale}"


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(edits, min_size=1, max_size=5))
def test_kept_caches_rebuild_equal_full_build(steps: list[Edit]) -> None:
    run(steps)


# A fixed sequence that reaches both caches: a retitle (a card's own document), an
# author rename (a document the cards dereference), and a card that prints its page's
# ``url`` (a global the page context shadows), each shown on several pages.
SEQUENCE = [retitle(0, "x"), rename("a1", "y"), retitle(1, "z"), retitle(2, "ab")]


@contextmanager
def mutant(target: Any, name: str, replacement: Any) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(target, name, replacement)
        yield


def test_the_sequence_passes() -> None:
    run(SEQUENCE)


def test_mutant_fragment_key_without_variables_is_caught() -> None:
    real = fragments._key

    def key(template: Any, spec: Any, context: Any, local: Any) -> Any:
        parts, refs = real(template, spec, context, local)
        return (None if parts is None else parts[:1]), refs  # the template alone

    with mutant(fragments, "_key", key), pytest.raises(AssertionError, match="differs from a full build"):
        run(SEQUENCE)


def test_mutant_fragment_key_without_shadowed_globals_is_caught() -> None:
    real = fragments._free_names

    def names(ast: Any, env: Any) -> set[str]:
        return {name for name in real(ast, env) if name not in env.globals}  # jinja2.meta's

    with mutant(fragments, "_free_names", names), pytest.raises(
            AssertionError, match="differs from a full build"):
        run(SEQUENCE)


def test_mutant_memo_ignoring_dereferenced_documents_is_caught() -> None:
    def valid(found: Any, item: Any, by_id: Any) -> bool:
        return found[0] is item  # the card's own document only

    with mutant(memo, "_valid", valid), pytest.raises(AssertionError, match="differs from a full build"):
        run(SEQUENCE)


def test_mutant_renderer_that_never_rereads_templates_is_caught() -> None:
    # The shared renderer compares template texts once per use instead of Jinja2's stat
    # per include: without that comparison an edited partial would stay stale.
    with mutant(Renderer, "_drop_stale", lambda self: None), pytest.raises(
            AssertionError, match="differs from a full build"):
        run([edit_template("_card.html", "edited")])
