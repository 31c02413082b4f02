"""Markdown to HTML (markdown-it-py + mdit-py-plugins + Pygments) and front matter splitting.

Owns ``render_markdown`` (one cached ``MarkdownIt`` per distinct option set; tables,
strikethrough, footnotes, heading anchors, Pygments highlighting with CSS classes) and
``split_front_matter`` (YAML ``---`` or TOML ``+++`` blocks). Rendering is pure; front
matter errors become ``SourceError`` naming the file and line.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from datetime import date, datetime, time
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from ssgen.config import MarkdownConfig
from ssgen.errors import SourceError
from ssgen.text import slugify

# One definition of the options and their defaults: ``[markdown]`` in ssgen.toml.
_DEFAULTS = MarkdownConfig()
_FIELDS = tuple(f.name for f in fields(MarkdownConfig))

_FORMATTER = HtmlFormatter(nowrap=True)
_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")
# libyaml's loader with the same safe constructors: ~10x faster, same values.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    html: str = _parser(_options_key(options)).render(text)
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
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=True)
    except ClassNotFound:
        return None


def _highlight(code: str, language: str, _attrs: str) -> str:
    """Pygments spans with CSS classes inside ``<pre class="highlight">``; "" = plain."""
    lexer = _lexer(language.lower()) if language else None
    if lexer is None:
        return ""
    spans = pygments_highlight(code, lexer, _FORMATTER)
    lang = escapeHtml(language)
    return f'<pre class="highlight"><code class="language-{lang}">{spans}</code></pre>'


def highlight_css(style: str = "default", selector: str = ".highlight") -> str:
    """The Pygments stylesheet for highlighted code blocks (classes only, no inline styles).

    ``ValueError`` names the unknown style.
    """
    try:
        formatter = HtmlFormatter(style=style)
    except ClassNotFound as exc:
        raise ValueError(f"unknown Pygments style {style!r}") from exc
    css: str = formatter.get_style_defs(selector)  # type: ignore[no-untyped-call]
    return css + "\n"


# --- front matter ----------------------------------------------------------------------


def split_front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    """Split ``---`` YAML or ``+++`` TOML front matter from a Markdown file's body.

    Returns ``({}, text)`` when the file has none. ``source`` names the file in errors:
    ``SourceError("posts/a.md:3: invalid YAML front matter: ...")``. Dates and times
    become ISO 8601 strings (UTC as ``Z``) so the fields are plain JSON, like a Sanity
    document's.
    """
    body = text[1:] if text.startswith("\ufeff") else text
    lines = body.splitlines(keepends=True)
    delimiter = lines[0].strip() if lines else ""
    if delimiter not in ("---", "+++"):
        return {}, body
    end = _closing_line(lines, delimiter)
    if end is None:
        kind = "YAML" if delimiter == "---" else "TOML"
        raise SourceError(
            f"{source}:1: {kind} front matter opened with {delimiter!r} is never closed"
        )
    raw = "".join(lines[1:end])
    data = _parse_yaml(raw, source) if delimiter == "---" else _parse_toml(raw, source)
    return _jsonable(data), "".join(lines[end + 1 :])


def _closing_line(lines: list[str], delimiter: str) -> int | None:
    closers = ("---", "...") if delimiter == "---" else ("+++",)
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() in closers:
            return number
    return None


def _parse_yaml(raw: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.load(raw, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        data = _parse_yaml_slow(raw, source)
    return _require_mapping(data, source, "YAML")


def _parse_yaml_slow(raw: str, source: str) -> Any:
    # The pure-Python loader's messages and marks are the documented error format.
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise SourceError(f"{source}:{_yaml_problem(exc)}") from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """``"<line>: invalid YAML front matter: <problem> (<context> at line N)"``."""
    # Marks count from 0 inside the front matter, which starts on the file's line 2.
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 2 if mark is not None else 2
    message = f"{line}: invalid YAML front matter: {getattr(exc, 'problem', None) or exc}"
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line + 2 != line:
        message += f" ({context} at line {context_mark.line + 2})"
    return message


def _parse_toml(raw: str, source: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_LINE.search(message)
        line = int(found.group(1)) + 1 if found else 2
        reason = _TOML_LINE.sub("", message).strip()
        raise SourceError(f"{source}:{line}: invalid TOML front matter: {reason}") from exc
    return data


def _require_mapping(data: Any, source: str, kind: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SourceError(
            f"{source}:2: {kind} front matter must be a mapping of keys to values, "
            f"not {type(data).__name__}"
        )
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date | time):
        text = value.isoformat()
        # UTC as "Z", the way Sanity writes _createdAt/_updatedAt.
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return value
