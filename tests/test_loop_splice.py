"""Spliced loops (render/loops.py) render exactly what Jinja's own loop renders.

A page template loops over a list with ``{% include %}`` of a card, as the default site's
author and category pages do. Generated sequences of list edits (items replaced by new
objects, inserted, deleted, moved, the list emptied), of the other names the card reads
and of which page renders next (several pages share one loop and key) run through one
environment with the fragment cache and loop splicing on; every render must equal a
plain Jinja2 environment's. The mutant tests show the property catching a key of the rest
that leaves out what the card reads besides the item, and a splice that trusts equal
positions instead of identical items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.render import fragments, loops
from ssgen.render.fragments import FragmentCache, FragmentCodeGenerator
from ssgen.render.images import variants
from ssgen.render.images.variants import recording
from ssgen.render.loops import Encoded, render_bytes, splice

CARD = ("<li>{{ post.t }}{{ ('/' ~ x) if x is defined else '' }}{{ url('/p/') }}"
        "{{ img(post.t) }}</li>")
PAGE = ("{% set shown = 1 %}<h1>{{ name }}</h1><ul>{%- for post in posts|default([]) %}\n"
        "  {% include 'card.html' %}\n{%- else %}<p>none</p>{%- endfor %}</ul>"
        "{% block more %}{% for post in posts %}{% include 'card.html' %}{% endfor %}"
        "{% endblock %}{% if name == 'p2' %}{{ self.more() }}{% endif %}")
TEMPLATES = {"card.html": CARD, "page.html": PAGE}


def image(name: Any) -> str:
    """Records an image variant per card, as ``responsive_image`` does (a page's
    variants are the union of its cards')."""
    used = variants._USED.get()
    if used is not None:
        used.add(f"image:{name}")
    return ""


def environment(spliced: bool) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES),
                             undefined=jinja2.StrictUndefined)
    env.globals["url"] = lambda path: "https://x" + path
    env.globals["img"] = image
    if spliced:
        env.code_generator_class = FragmentCodeGenerator
        cache = FragmentCache()
        cache.enabled = True
        env.fragments = cache  # type: ignore[attr-defined]
        env.loop_splice = splice  # type: ignore[attr-defined]
    return env


class Pages:
    """Three pages' lists; edits make new item objects only where an item changed."""

    def __init__(self) -> None:
        self.lists: list[list[dict[str, Any]]] = [
            [{"t": f"{page}-{i}"} for i in range(page + 3)] for page in range(3)]
        self.x: list[Any] = [None, None, None]
        self.counter = 0


Edit = Callable[[Pages, int], None]


def replace(at: int) -> Edit:
    def apply(pages: Pages, page: int) -> None:
        items = list(pages.lists[page])
        if items:
            pages.counter += 1
            items[at % len(items)] = {"t": f"r{pages.counter}\u00e9\u201c"}  # é“: 2-3 bytes
        pages.lists[page] = items
    return apply


def same_value(at: int) -> Edit:
    def apply(pages: Pages, page: int) -> None:  # a new object, equal to the old one
        items = list(pages.lists[page])
        if items:
            items[at % len(items)] = dict(items[at % len(items)])
        pages.lists[page] = items
    return apply


def insert(at: int) -> Edit:
    def apply(pages: Pages, page: int) -> None:
        pages.counter += 1
        items = list(pages.lists[page])
        items.insert(at % (len(items) + 1), {"t": f"n{pages.counter}"})
        pages.lists[page] = items
    return apply


def delete(at: int) -> Edit:
    def apply(pages: Pages, page: int) -> None:
        items = list(pages.lists[page])
        if items:
            del items[at % len(items)]
        pages.lists[page] = items
    return apply


def move(at: int, to: int) -> Edit:
    def apply(pages: Pages, page: int) -> None:
        items = list(pages.lists[page])
        if items:
            items.insert(to % len(items), items.pop(at % len(items)))
        pages.lists[page] = items
    return apply


def mutate_in_place(at: int) -> Edit:
    """Not what a query result does (they are never mutated), but the same list object
    given again with another item swapped in must still be read afresh."""
    def apply(pages: Pages, page: int) -> None:
        items = pages.lists[page]
        if items:
            pages.counter += 1
            items[at % len(items)] = {"t": f"m{pages.counter}"}
    return apply


def empty() -> Edit:
    def apply(pages: Pages, page: int) -> None:
        pages.lists[page] = []
    return apply


def set_x(value: Any) -> Edit:
    def apply(pages: Pages, page: int) -> None:
        pages.x[page] = value
    return apply


at = st.integers(min_value=0, max_value=12)
edits = st.one_of(
    st.builds(replace, at), st.builds(same_value, at), st.builds(insert, at),
    st.builds(delete, at), st.builds(move, at, at), st.builds(mutate_in_place, at),
    st.builds(empty), st.builds(set_x, st.sampled_from([None, 1, 1.0, True, "1", "a"])),
)
steps = st.lists(st.tuples(edits, st.integers(min_value=0, max_value=2)), max_size=25)


def check(sequence: list[tuple[Edit, int]]) -> None:
    spliced, plain = environment(True), environment(False)
    pages = Pages()

    def render(page: int) -> None:
        context: dict[str, Any] = {"name": f"p{page}", "posts": pages.lists[page]}
        if pages.x[page] is not None:
            context["x"] = pages.x[page]
        with recording() as want_images:
            want = plain.get_template("page.html").render(context)
        with recording() as images:
            assert spliced.get_template("page.html").render(context) == want
        assert images == want_images
        # As serve renders pages: the kept runs' bytes put in place (page p2 joins a
        # loop's output through ``self.more()``: rendered again as text).
        with recording() as images:
            assert render_bytes(spliced.get_template("page.html"), context) == want.encode()
        assert images == want_images

    for page in range(3):
        render(page)
    for edit, page in sequence:
        edit(pages, page)
        render(page)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_spliced_loop_equals_jinja(sequence: list[tuple[Edit, int]]) -> None:
    check(sequence)


def test_loops_are_spliced() -> None:
    """The loops of the page run through the splice (else the property shows nothing)."""
    env = environment(True)
    items = [{"t": i} for i in range(40)]
    env.get_template("page.html").render(posts=items, name="a")
    env.get_template("page.html").render(posts=[*items[:20], {"t": "new"}, *items[21:]],
                                         name="a")
    cache: FragmentCache = env.fragments  # type: ignore[attr-defined]
    assert len(cache.runs) == 2
    assert cache.misses == 40 + 1  # each card once (two loops share the entries), then one
    assert "<li>new" in env.get_template("page.html").render(
        posts=[*items[:20], {"t": "new"}, *items[21:]], name="a")


def test_ineligible_loops_render_as_jinja() -> None:
    """Loops with a filter, the loop variable, or more than an include are left alone."""
    templates = {"card.html": CARD, "t.html": (
        "{% for post in posts if post.t %}{% include 'card.html' %}{% endfor %}"
        "{% for post in posts %}{{ loop.index }}{% include 'card.html' %}{% endfor %}"
        "{% for post in posts %}{{ post.t }}{% include 'card.html' %}{% endfor %}"
        "{% for post, b in pairs %}{% include 'card.html' %}{% endfor %}")}
    source = jinja2.Environment().parse(templates["t.html"])
    assert [fragments._spliceable(node) for node in source.find_all(jinja2.nodes.For)] \
        == [None] * 4
    env = environment(True)
    env.loader = jinja2.DictLoader(templates)
    context = {"posts": [{"t": 0}, {"t": "a"}], "pairs": [({"t": 1}, 2)]}
    plain = environment(False)
    plain.loader = jinja2.DictLoader(templates)
    assert env.get_template("t.html").render(context) == plain.get_template("t.html").render(
        context)


def test_errors_keep_their_template_line() -> None:
    env = environment(True)
    env.loader = jinja2.DictLoader({"card.html": "{{ post.t.missing }}", "page.html": PAGE})
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("page.html").render(posts=[{"t": 1}], name="a")


def _mutant_fails(monkeypatch: pytest.MonkeyPatch, sequences: list[list[tuple[Edit, int]]]
                  ) -> None:
    with pytest.raises(AssertionError):
        for sequence in sequences:
            check(sequence)


def test_mutant_rest_key_without_other_names_is_caught(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    real = fragments.fragment_key

    def only_template(template: Any, spec: Any, context: Any, local: Any) -> Any:
        parts, refs = real(template, spec, context, local)
        return (None, ()) if parts is None else (parts[:1], refs)

    monkeypatch.setattr(loops, "fragment_key", only_template)
    _mutant_fails(monkeypatch, [[(set_x(1), 0)]])


def test_mutant_positions_instead_of_identity_is_caught(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    def by_length(old: list[Any], new: list[Any]) -> tuple[int, int]:
        return (min(len(old), len(new)), 0) if len(old) == len(new) else (0, 0)

    monkeypatch.setattr(loops, "_common", by_length)
    _mutant_fails(monkeypatch, [[(replace(1), 0)]])


def test_render_bytes_puts_the_kept_bytes_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both loops of a page hand render_bytes their bytes (else the property above shows
    nothing about them), and only a page that joins one (``self.more()``) is rendered
    again as text."""
    made: list[Encoded] = []

    class Counted(Encoded):
        def __init__(self) -> None:
            made.append(self)

    monkeypatch.setattr(loops, "Encoded", Counted)
    texts: list[str | None] = []
    real = jinja2.Template.render

    def render(self: jinja2.Template, *args: Any, **kwargs: Any) -> str:
        texts.append(self.name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", render)
    template = environment(True).get_template("page.html")
    plain = environment(False).get_template("page.html")
    items = [{"t": f"\u201c{i}"} for i in range(30)]
    for name in ("a", "a", "p2"):
        want = real(plain, posts=items, name=name).encode()
        assert render_bytes(template, {"posts": items, "name": name}) == want
    assert len(made) == 2 + 2 + 3  # p2: its block's loop once more, joined by self.more()
    assert texts == ["page.html"]
