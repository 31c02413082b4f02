"""Markdown rendering options, highlighting, anchors, and front matter splitting."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.config.load import MarkdownConfig
from ssgen.errors import SourceError
from ssgen.render.markdown import highlight_css, render_markdown
from ssgen.sources.frontmatter import split_front_matter

Opts = MarkdownConfig


def test_paragraphs_and_emphasis() -> None:
    assert render_markdown("Hello *there*\n\nTwo") == "<p>Hello <em>there</em></p>\n<p>Two</p>\n"


def test_none_is_empty_and_other_types_are_errors() -> None:
    assert render_markdown(None) == ""
    with pytest.raises(ValueError, match="markdown expects text, got int"):
        render_markdown(3)  # type: ignore[arg-type]


def test_heading_anchors_are_unique_and_stable() -> None:
    html = render_markdown("# Intro\n\n## Intro\n\n### Crème *brûlée*\n\n#### 日本\n")
    assert re.findall(r'id="([^"]+)"', html) == ["intro", "intro-1", "creme-brulee", "section"]
    assert render_markdown("# Intro\n") == '<h1 id="intro">Intro</h1>\n'  # per document


def test_anchors_can_be_disabled() -> None:
    assert render_markdown("# Intro\n", Opts(anchors=False)) == "<h1>Intro</h1>\n"


def test_tables_option() -> None:
    table = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert "<table>" in render_markdown(table)
    assert "<table>" not in render_markdown(table, Opts(tables=False))


def test_strikethrough_is_on() -> None:
    assert render_markdown("~~x~~") == "<p><s>x</s></p>\n"


def test_footnotes_option() -> None:
    text = "A[^n]\n\n[^n]: Note.\n"
    assert 'class="footnote-ref"' in render_markdown(text)
    assert "footnote" not in render_markdown(text, Opts(footnotes=False))


def test_fenced_code_is_highlighted_with_classes() -> None:
    html = render_markdown("```python\nx = 1 < 2\n```\n")
    assert html.startswith('<pre class="highlight"><code class="language-python">')
    assert '<span class="n">x</span>' in html and "&lt;" in html
    assert "style=" not in html


def test_unknown_language_is_escaped_plain_code() -> None:
    html = render_markdown("```nosuchlang\na < b\n```\n")
    assert html == '<pre><code class="language-nosuchlang">a &lt; b\n</code></pre>\n'


def test_highlight_can_be_disabled() -> None:
    html = render_markdown("```python\nx\n```\n", Opts(highlight=False))
    assert html == '<pre><code class="language-python">x\n</code></pre>\n'


def test_language_name_is_escaped() -> None:
    html = render_markdown('```"><script>\nx\n```\n')
    assert "<script>" not in html


def test_raw_html_only_when_enabled() -> None:
    assert render_markdown("<b>x</b>") == "<p>&lt;b&gt;x&lt;/b&gt;</p>\n"
    assert render_markdown("<b>x</b>", Opts(html=True)) == "<p><b>x</b></p>\n"


def test_javascript_links_are_not_linked() -> None:
    assert "href" not in render_markdown("[x](javascript:alert(1))")


def test_typographer_and_linkify() -> None:
    html = render_markdown('"Hi" -- www.example.com', {"typographer": True, "linkify": True})
    assert html == '<p>“Hi” – <a href="http://www.example.com">www.example.com</a></p>\n'
    assert "<a" not in render_markdown("www.example.com")


def test_options_from_mapping_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown markdown option"):
        render_markdown("x", {"tabels": True})


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("#*_-`~[]()<>!|:^ \n\tab1\"'&\\")), max_size=120))
def test_markdown_never_raises(text: str) -> None:
    for options in (None, Opts(html=True, typographer=True, linkify=True)):
        assert isinstance(render_markdown(text, options), str)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_markdown_never_raises_on_any_unicode(text: str) -> None:
    html = render_markdown(text)
    assert "<script" not in html


# --- front matter ------------------------------------------------------------------------


def test_yaml_front_matter() -> None:
    meta, body = split_front_matter(
        "---\ntitle: Hello\ndate: 2024-05-01\ntags: [a, b]\n"
        "when: 2024-05-01T10:00:00Z\n---\n# Body\n",
        "posts/hello.md",
    )
    assert meta == {
        "title": "Hello",
        "date": "2024-05-01",
        "tags": ["a", "b"],
        "when": "2024-05-01T10:00:00Z",
    }
    assert body == "# Body\n"


def test_toml_front_matter() -> None:
    meta, body = split_front_matter(
        '+++\ntitle = "Hi"\ndate = 2024-05-01\n[extra]\nn = 2\n+++\nbody', "a.md"
    )
    assert meta == {"title": "Hi", "date": "2024-05-01", "extra": {"n": 2}}
    assert body == "body"


def test_crlf_bom_and_empty_front_matter() -> None:
    assert split_front_matter("\ufeff---\r\ntitle: x\r\n---\r\nbody\r\n", "a.md") == (
        {"title": "x"},
        "body\r\n",
    )
    assert split_front_matter("---\n---\nbody", "a.md") == ({}, "body")


@pytest.mark.parametrize("text", ["no front matter\n---\n", "", "----\nx\n----\n", "x\n---\n"])
def test_without_front_matter_body_is_untouched(text: str) -> None:
    assert split_front_matter(text, "a.md") == ({}, text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "---\ntitle: ok\nbad: [1\n---\n",
            "posts/x.md:4: invalid YAML front matter: expected ',' or ']', but got '<stream end>'"
            " (while parsing a flow sequence at line 3)",
        ),
        ("---\ntitle: a\n  b: c\n---\n", "posts/x.md:3: invalid YAML front matter"),
        ('+++\ntitle = "a"\nn = \n+++\n', "posts/x.md:3: invalid TOML front matter"),
        ("---\n- a\n- b\n---\n", "posts/x.md:2: YAML front matter must be a mapping"),
        ("---\ntitle: a\n", "posts/x.md:1: YAML front matter opened with '---' is never closed"),
        ("+++\ntitle = 1\n", "posts/x.md:1: TOML front matter opened with '+++' is never closed"),
    ],
)
def test_malformed_front_matter_names_file_and_line(text: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        split_front_matter(text, "posts/x.md")
    assert str(caught.value).startswith(message)


@given(
    st.dictionaries(
        st.text(alphabet="abcdefghij_", min_size=1, max_size=8),
        st.text(max_size=20) | st.integers() | st.booleans(),
        max_size=5,
    ),
    st.text(max_size=40),
)
def test_yaml_round_trip(meta: dict[str, Any], body: str) -> None:
    import yaml

    text = "---\n" + yaml.safe_dump(meta) + "---\n" + body
    assert split_front_matter(text, "a.md") == (meta, body)


def test_one_cached_parser_per_distinct_options() -> None:
    from ssgen.render.markdown import _parser

    render_markdown("x", Opts(typographer=True))
    before = _parser.cache_info()
    render_markdown("y", Opts(typographer=True))
    render_markdown("z", {"typographer": True})
    after = _parser.cache_info()
    assert after.currsize == before.currsize
    assert after.hits == before.hits + 2


def test_highlight_css_matches_the_classes_used() -> None:
    css = highlight_css()
    assert ".highlight .k " in css and css.endswith("\n")
    assert ".highlight .k " in highlight_css("monokai")
    with pytest.raises(ValueError, match="unknown Pygments style 'nope'"):
        highlight_css("nope")


def test_output_is_deterministic_across_documents() -> None:
    text = "# A\n\nx[^1]\n\n[^1]: n\n"
    first = render_markdown(text)
    render_markdown("# A\n\ny[^a] z[^b]\n\n[^a]: 1\n[^b]: 2\n")
    assert render_markdown(text) == first
    assert 'id="fn1"' in first and 'id="a"' in first
