"""Markdown to HTML (markdown-it-py + mdit-py-plugins + Pygments).

Owns ``render_markdown`` (one cached ``MarkdownIt`` per distinct option set; tables,
strikethrough, footnotes, heading anchors, Pygments highlighting with CSS classes; the
documents ``fast`` renders byte-identically go to its compiled port)
and ``highlight_css``. Pure. Front matter is the sources' business (``ssgen.sources.frontmatter``).

The package: this module holds the reference renderer; ``fast`` the compiled port.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from ssgen.config.load import MarkdownConfig
from ssgen.render.markdown.fast import fast_render
from ssgen.render.text import slugify

# markdown-it-py, its plugins and Pygments are imported by the first document that needs
# them: a site whose documents all take the compiled path never loads them (0.05 s).
if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from pygments.formatters import HtmlFormatter
    from pygments.lexer import Lexer

# One definition of the options and their defaults: ``[markdown]`` in ssgen.toml.
_DEFAULTS = MarkdownConfig()
_FIELDS = tuple(f.name for f in fields(MarkdownConfig))


@functools.cache
def _formatter() -> HtmlFormatter[str]:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)


def render_markdown(text: str | None, options: object | Mapping[str, Any] | None = None) -> str:
    """Render Markdown to HTML with the ``[markdown]`` options (defaults when ``None``).

    ``options`` may be a ``MarkdownConfig``, any object with the same bool attributes, or
    a mapping of them; missing ones take the documented defaults. ``None`` text renders
    as ``""``; other non-text raises ``ValueError``.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        raise ValueError(f"markdown expects text, got {type(text).__name__}")
    key = _options_key(options)
    html = fast_render(text, key)
    if html is None:
        html = _parser(key).render(text)
    return html


def _options_key(options: object | Mapping[str, Any] | None) -> MarkdownConfig:
    if options is None:
        return _DEFAULTS
    if isinstance(options, MarkdownConfig):
        return options
    if isinstance(options, Mapping):
        unknown = set(options) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown markdown option(s): {', '.join(sorted(unknown))}")
        values = {name: options.get(name, getattr(_DEFAULTS, name)) for name in _FIELDS}
    else:
        values = {name: getattr(options, name, getattr(_DEFAULTS, name)) for name in _FIELDS}
    return MarkdownConfig(**{name: bool(value) for name, value in values.items()})


@functools.lru_cache(maxsize=16)
def _parser(key: MarkdownConfig) -> MarkdownIt:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.anchors import anchors_plugin
    from mdit_py_plugins.footnote import footnote_plugin

    md = MarkdownIt(
        "commonmark",
        {
            "html": key.html,
            "typographer": key.typographer,
            "linkify": key.linkify,
            "highlight": _highlight if key.highlight else None,
        },
    )
    md.enable("strikethrough")
    if key.tables:
        md.enable("table")
    if key.typographer:
        md.enable(["replacements", "smartquotes"])
    if key.linkify:
        md.enable("linkify")
    if key.footnotes:
        md.use(footnote_plugin)
    if key.anchors:
        md.use(anchors_plugin, min_level=1, max_level=6, slug_func=_heading_slug)
    return md


def _heading_slug(title: str) -> str:
    # Headings without Latin letters or digits still need a usable id.
    return slugify(title) or "section"


@functools.lru_cache(maxsize=256)
def _lexer(language: str) -> Lexer | None:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=True)
    except ClassNotFound:
        return None


def _highlight(code: str, language: str, _attrs: str) -> str:
    """Pygments spans with CSS classes inside ``<pre class="highlight">``; "" = plain."""
    from markdown_it.common.utils import escapeHtml
    from pygments import highlight as pygments_highlight

    lexer = _lexer(language.lower()) if language else None
    if lexer is None:
        return ""
    spans = pygments_highlight(code, lexer, _formatter())
    lang = escapeHtml(language)
    return f'<pre class="highlight"><code class="language-{lang}">{spans}</code></pre>'


def highlight_css(style: str = "default", selector: str = ".highlight") -> str:
    """The Pygments stylesheet for highlighted code blocks (classes only, no inline styles).

    ``ValueError`` names the unknown style.
    """
    from pygments.formatters import HtmlFormatter
    from pygments.util import ClassNotFound

    try:
        formatter = HtmlFormatter(style=style)
    except ClassNotFound as exc:
        raise ValueError(f"unknown Pygments style {style!r}") from exc
    css: str = formatter.get_style_defs(selector)  # type: ignore[no-untyped-call]
    return css + "\n"
