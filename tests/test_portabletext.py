"""Portable Text renderer: reference fixtures, custom handlers, safety properties."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.render.portabletext.html import escape_html, to_html, to_plain_text, uri_looks_safe

FIXTURES = Path(__file__).parent / "fixtures" / "portable-text"
FIXTURE_FILES = sorted(FIXTURES.glob("*.json"))


def test_fixture_folder_is_complete() -> None:
    assert len(FIXTURE_FILES) >= 23


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_reference_fixture(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert to_html(data["input"]) == data["output"]


def span(text: str, marks: list[str] | None = None) -> dict[str, Any]:
    return {"_type": "span", "text": text, "marks": marks or []}


def block(*children: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "_type": "block",
        "style": "normal",
        "markDefs": [],
        "children": list(children),
        **extra,
    }


def item(text: str, list_item: str = "bullet", level: float = 1, **extra: Any) -> dict[str, Any]:
    return block(span(text), listItem=list_item, level=level, **extra)


def test_none_renders_empty() -> None:
    assert to_html(None) == ""


@pytest.mark.parametrize("bad", ["text", 42, 1.5, True])
def test_non_block_input_is_a_clear_error(bad: Any) -> None:
    with pytest.raises(ValueError, match="portable text must be a block object or a list"):
        to_html(bad)


def test_skipped_level_at_start_gets_placeholder_items() -> None:
    html = to_html([item("deep", level=3), item("top", level=1)])
    assert html == "<ul><li><ul><li><ul><li>deep</li></ul></li></ul></li><li>top</li></ul>"


def test_style_change_at_same_level_starts_new_list() -> None:
    html = to_html([item("a"), item("b", "number")])
    assert html == "<ul><li>a</li></ul><ol><li>b</li></ol>"


def test_input_blocks_are_not_mutated() -> None:
    blocks = [item("a"), item("b", level=2)]
    before = json.dumps(blocks)
    to_html(blocks)
    assert json.dumps(blocks) == before


def test_unknown_block_type_renders_hidden_placeholder() -> None:
    html = to_html([{"_type": "image", "asset": {"_ref": "x"}}])
    assert html == (
        '<div style="display:none">Unknown block type "image", specify a component for it '
        "in the `components.types` option</div>"
    )


def test_unknown_inline_object_renders_hidden_span() -> None:
    html = to_html(block(span("a "), {"_type": "emoji", "name": "x"}))
    assert html.startswith('<p>a <span style="display:none">Unknown block type "emoji"')


def test_unknown_names_are_escaped() -> None:
    html = to_html([{"_type": "<script>"}, block(span("x", ["<b>"]))])
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "unknown__pt__mark__&lt;b&gt;" in html


def test_unknown_style_falls_back_to_paragraph_and_reports() -> None:
    seen: list[tuple[str, str]] = []
    html = to_html(
        [block(span("x"), style="h9"), item("y", "square"), block(span("z", ["abc"]))],
        on_unknown=lambda kind, name: seen.append((kind, name)),
    )
    assert html == '<p>x</p><ul><li>y</li></ul><p><span class="unknown__pt__mark__abc">z</span></p>'
    assert seen == [("blockStyle", "h9"), ("listStyle", "square"), ("mark", "abc")]


def test_custom_type_handler_gets_value() -> None:
    html = to_html(
        [{"_type": "image", "alt": "A"}],
        types={"image": lambda value: f'<img alt="{value["alt"]}">'},
    )
    assert html == '<img alt="A">'


def test_custom_annotation_and_decorator_handlers() -> None:
    calls: list[tuple[Any, str, str]] = []

    def link(value: Any, inner: str, name: str) -> str:
        calls.append((value, inner, name))
        return f'<a class="x" href="{value["href"]}">{inner}</a>'

    blocks = block(
        span("go", ["k1", "strong"]),
        markDefs=[{"_key": "k1", "_type": "link", "href": "/p"}],
    )
    html = to_html(blocks, marks={"link": link, "strong": lambda v, inner, n: f"<b>{inner}</b>"})
    assert html == '<p><a class="x" href="/p"><b>go</b></a></p>'
    assert calls == [({"_key": "k1", "_type": "link", "href": "/p"}, "<b>go</b>", "link")]


def test_custom_block_style_list_and_item_handlers() -> None:
    html = to_html(
        [block(span("t"), style="h1"), item("i")],
        block_styles={"h1": lambda v, inner: f"<h1 class=t>{inner}</h1>"},
        lists={"bullet": lambda v, inner: f"<ul class=l{v['level']}>{inner}</ul>"},
        list_items={"bullet": lambda v, inner: f"<li class=i>{inner}</li>"},
    )
    assert html == "<h1 class=t>t</h1><ul class=l1><li class=i>i</li></ul>"


@pytest.mark.parametrize(
    ("href", "safe"),
    [
        ("https://x.org", True),
        ("HTTP://x.org", True),
        ("mailto:a@b.c", True),
        ("tel:+123", True),
        ("/relative", True),
        ("#frag", True),
        ("page?q=a:b", True),
        ("page#a:b", True),
        ("plain", True),
        ("javascript:alert(1)", False),
        ("  JavaScript:alert(1)", False),
        ("data:text/html,x", False),
        ("vbscript:x", False),
        ("ftp://x", False),
    ],
)
def test_uri_safety(href: str, safe: bool) -> None:
    assert uri_looks_safe(href) is safe
    html = to_html(block(span("t", ["l"]), markDefs=[{"_key": "l", "_type": "link", "href": href}]))
    assert ("<a " in html) is safe


def test_link_without_href_keeps_text() -> None:
    html = to_html(block(span("t", ["l"]), markDefs=[{"_key": "l", "_type": "link"}]))
    assert html == '<p><a href="">t</a></p>'


def test_escape_html_rules() -> None:
    assert escape_html("a & b < c > d \" e ' f") == ("a &amp; b &lt; c &gt; d &quot; e &#x27; f")
    assert escape_html("a  b") == "a&nbsp; b"


# --- properties ---------------------------------------------------------------------

ALLOWED_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li",
    "strong", "em", "code", "span", "del", "a", "br", "div",
}  # fmt: skip
TAG = re.compile(r"<(/?)([a-zA-Z0-9]+)([^<>]*)>")
ENTITY = re.compile(r"&(amp|lt|gt|quot|#x27|nbsp);")

names = st.sampled_from(["strong", "em", "code", "underline", "strike-through", "k1", "k2", "zz"])
any_json: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 5)
    | st.floats(allow_nan=True)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
spans = st.fixed_dictionaries(
    {"_type": st.just("span"), "text": st.text(max_size=20), "marks": st.lists(names, max_size=3)}
)
children = st.one_of(
    spans,
    st.fixed_dictionaries({"_type": st.sampled_from(["emoji", "span", "@text", "@list"])}),
    any_json,
)
mark_defs = st.lists(
    st.fixed_dictionaries(
        {
            "_key": st.sampled_from(["k1", "k2"]),
            "_type": st.sampled_from(["link", "note"]),
            "href": st.sampled_from(["https://a.b/?x=<y>", "javascript:x", '"><b', "/p"]),
        }
    ),
    max_size=2,
)
blocks = st.fixed_dictionaries(
    {
        "_type": st.sampled_from(["block", "image", "@list", "@span"]),
        "children": st.lists(children, max_size=4),
    },
    optional={
        "markDefs": mark_defs | any_json,
        "style": st.sampled_from(["normal", "h1", "h9", "blockquote"]) | any_json,
        "listItem": st.sampled_from(["bullet", "number", "square"]) | any_json,
        "level": st.integers(-2, 6) | st.floats(0, 4) | any_json,
    },
)
documents = st.lists(blocks | any_json, max_size=8)


def assert_well_formed(html: str) -> None:
    stripped = TAG.sub("", html)
    assert "<" not in stripped and ">" not in stripped
    for match in TAG.finditer(html):
        assert match.group(2) in ALLOWED_TAGS, match.group(0)
    for amp in re.finditer("&", html):
        assert ENTITY.match(html, amp.start()), html[amp.start() : amp.start() + 10]


@settings(max_examples=200, deadline=None)
@given(documents)
def test_renderer_never_raises_and_output_is_escaped(doc: list[Any]) -> None:
    assert_well_formed(to_html(doc))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=5))
def test_all_text_is_escaped_and_preserved(texts: list[str]) -> None:
    html = to_html([block(span(t)) for t in texts])
    assert_well_formed(html)
    expected = "".join(
        "<p>" + "<br/>".join(escape_html(line) for line in t.split("\n")) + "</p>" for t in texts
    )
    assert html == expected


LEVELS = st.integers(1, 5) | st.integers(-2, 9) | st.floats(-1, 7, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["bullet", "number"]), LEVELS), max_size=12))
def test_lists_are_balanced_and_keep_every_item(spec: list[tuple[str, float]]) -> None:
    html = to_html([item(f"i{n}", kind, level) for n, (kind, level) in enumerate(spec)])
    for tag in ("ul", "ol", "li"):
        assert html.count(f"<{tag}>") == html.count(f"</{tag}>")
    assert [int(x) for x in re.findall(r"i(\d+)", html)] == list(range(len(spec)))
    depth = 0
    for match in re.finditer(r"<(/?)(ul|ol)>", html):
        depth += -1 if match.group(1) else 1
        assert depth >= 0
    assert depth == 0


def test_fixtures_report_only_their_unknown_components() -> None:
    reported: dict[str, list[tuple[str, str]]] = {}
    for path in FIXTURE_FILES:
        data = json.loads(path.read_text(encoding="utf-8"))
        seen: list[tuple[str, str]] = []
        html = to_html(data["input"], on_unknown=lambda k, n, add=seen.append: add((k, n)))
        assert html == data["output"]
        if seen:
            reported[path.stem] = seen
    assert reported == {
        "028-custom-list-item-type": [("listStyle", "disc"), ("listStyle", "square")],
        "061-missing-mark-serializer": [("mark", "abc")],
    }


@pytest.mark.parametrize("level", [10**9, float("inf"), float("nan"), 0, -3, 2.5])
def test_extreme_levels_stay_bounded(level: float) -> None:
    html = to_html([item("x", level=1), {**item("y"), "level": level}])
    assert html.count("<ul>") == html.count("</ul>") <= 65
    assert "y" in html


def test_fractional_level_is_rounded_down() -> None:
    assert to_html([item("x"), {**item("y"), "level": 2.5}]) == to_html(
        [item("x"), item("y", level=2)]
    )


def test_plain_text_joins_blocks_and_pads_inline_objects() -> None:
    blocks = [
        block(span("a"), {"_type": "emoji"}, span("b"), span(" c", ["strong"])),
        {"_type": "image"},
        block(span("x "), {"_type": "emoji"}, span("y")),
        item("li"),
    ]
    assert to_plain_text(blocks) == "a b c\n\nx y\n\nli"
    assert to_plain_text(block(span("one"))) == "one"
    assert to_plain_text(None) == ""
    with pytest.raises(ValueError, match="portable text must be a block object"):
        to_plain_text("text")


@settings(max_examples=100, deadline=None)
@given(documents)
def test_plain_text_never_raises(doc: list[Any]) -> None:
    assert isinstance(to_plain_text(doc), str)
