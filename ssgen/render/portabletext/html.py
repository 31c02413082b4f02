"""Portable Text to HTML, matching @portabletext/to-html 6 with its default components.

Owns ``to_html`` and ``to_plain_text``: rendering the nested lists and marks trees built
by ``ssgen.render.portabletext.tree`` (the toolkit half), markDefs annotations, hard breaks,
escaping, safe links, unknown types/marks/styles, and custom handlers that return HTML
(render.py routes them through user Jinja macros). Pure: no I/O.

Deliberate differences from the reference, all on malformed input only: names of unknown
types and marks are escaped in the placeholders, entries that are not objects are
skipped instead of crashing, and list levels are capped at 64 (``MAX_LEVEL``), fractional
ones rounded down and those below 1 read as 1 (the reference would drop such an item).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ssgen.fastclass import dataclass
from ssgen.render.portabletext.tree import (
    ListNode,
    SpanNode,
    TextNode,
    has_list_props,
    is_block,
    is_map,
    is_span,
    js_falsy,
    js_str,
    marks_tree,
    nest_lists,
)

TypeHandler = Callable[[Mapping[str, Any]], str]
"""``fn(value) -> html`` for a custom block or inline object type."""
MarkHandler = Callable[[Mapping[str, Any] | None, str, str], str]
"""``fn(mark_def_or_None, children_html, mark_type) -> html`` for a decorator or annotation."""
BlockHandler = Callable[[Mapping[str, Any], str], str]
"""``fn(block, children_html) -> html`` for a block style or a list item style."""
ListHandler = Callable[[Mapping[str, Any], str], str]
"""``fn({"listItem": name, "level": n}, items_html) -> html`` for a list container."""
UnknownHandler = Callable[[str, str], None]
"""``fn(node_type, name)``: told about each node rendered with a fallback component."""

_ALLOWED_PROTOCOLS = ("http", "https", "mailto", "tel")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})
_MULTI_SPACE = re.compile(r" {2,}")

_DEFAULT_STYLES = {
    "normal": "p",
    "blockquote": "blockquote",
    **{f"h{n}": f"h{n}" for n in range(1, 7)},
}
_DEFAULT_MARKS = {
    "em": ("<em>", "</em>"),
    "strong": ("<strong>", "</strong>"),
    "code": ("<code>", "</code>"),
    "underline": ('<span style="text-decoration:underline">', "</span>"),
    "strike-through": ("<del>", "</del>"),
}
_DEFAULT_LISTS = {"number": "ol", "bullet": "ul"}


def escape_html(text: str) -> str:
    """Escape ``& < > " '`` and keep runs of spaces visible, as the reference does."""
    escaped = text.translate(_ESCAPES)
    if "  " in escaped:
        escaped = _MULTI_SPACE.sub(lambda m: "&nbsp;" * (len(m.group()) - 1) + " ", escaped)
    return escaped


def uri_looks_safe(uri: str) -> bool:
    """True for http(s), mailto, tel, relative and fragment URLs (the reference's rule)."""
    url = uri.strip()
    if url[:1] in ("#", "/"):
        return True
    colon = url.find(":")
    if colon == -1 or url[:colon].lower() in _ALLOWED_PROTOCOLS:
        return True
    query = url.find("?")
    if query != -1 and colon > query:
        return True
    hash_at = url.find("#")
    return hash_at != -1 and colon > hash_at


def to_html(
    blocks: Any,
    *,
    types: Mapping[str, TypeHandler] | None = None,
    marks: Mapping[str, MarkHandler] | None = None,
    block_styles: Mapping[str, BlockHandler] | None = None,
    list_items: Mapping[str, BlockHandler] | None = None,
    lists: Mapping[str, ListHandler] | None = None,
    on_unknown: UnknownHandler | None = None,
) -> str:
    """Render a Portable Text block or list of blocks to HTML.

    ``None`` renders as ``""``; anything that is neither an object nor a list raises
    ``ValueError``. Handlers override the default output for the names they hold.
    """
    if blocks is None:
        return ""
    if isinstance(blocks, Mapping):
        items: list[Any] = [blocks]
    elif isinstance(blocks, list | tuple):
        items = list(blocks)
    else:
        raise ValueError(
            f"portable text must be a block object or a list of blocks, not {type(blocks).__name__}"
        )
    renderer = _Renderer(
        types or {}, marks or {}, block_styles or {}, list_items or {}, lists or {}, on_unknown
    )
    nested = nest_lists(items)
    return "".join(renderer.node(node, index, False) for index, node in enumerate(nested))


def to_plain_text(blocks: Any) -> str:
    """The text of every span, blocks separated by a blank line (toolkit ``toPlainText``).

    For excerpts, feed summaries and meta descriptions. Text inside custom types is left
    out; an inline object between two spans becomes a space when neither has one.
    """
    if blocks is None:
        return ""
    items = (
        [blocks] if is_map(blocks) else list(blocks) if isinstance(blocks, list | tuple) else None
    )
    if items is None:
        raise ValueError(
            f"portable text must be a block object or a list of blocks, not {type(blocks).__name__}"
        )
    text = ""
    for index, block in enumerate(items):
        if not is_block(block):
            continue
        text = _add_block_text(text, block)
        if index != len(items) - 1:
            text += "\n\n"
    return text


def _add_block_text(text: str, block: Mapping[str, Any]) -> str:
    pad = False
    for child in block["children"]:
        if not is_span(child):
            pad = True
            continue
        if pad and text and not text[-1].isspace() and not child["text"][:1].isspace():
            text += " "
        text += child["text"]
        pad = False
    return text


# --- rendering -----------------------------------------------------------------------


@dataclass
class _Renderer:
    types: Mapping[str, TypeHandler]
    marks: Mapping[str, MarkHandler]
    block_styles: Mapping[str, BlockHandler]
    list_items: Mapping[str, BlockHandler]
    lists: Mapping[str, ListHandler]
    on_unknown: UnknownHandler | None

    def node(self, node: Any, index: int, inline: bool) -> str:
        if isinstance(node, ListNode):
            return self.list(node)
        if isinstance(node, SpanNode):
            return self.span(node)
        if isinstance(node, TextNode):
            return "<br/>" if node.text == "\n" else escape_html(node.text)
        if not is_map(node):
            return ""
        if not is_block(node):
            return self.custom(node, inline)
        if has_list_props(node):
            return self.list_item(node, index)
        return self.block(node, index, inline)

    def missing(self, node_type: str, name: str) -> None:
        if self.on_unknown is not None:
            self.on_unknown(node_type, name)

    def children(self, block: Mapping[str, Any]) -> str:
        return "".join(self.node(child, i, True) for i, child in enumerate(marks_tree(block)))

    def list(self, node: ListNode) -> str:
        items = "".join(self.node(child, i, False) for i, child in enumerate(node.children))
        handler = self.lists.get(node.list_item)
        if handler is not None:
            return handler({"listItem": node.list_item, "level": node.level}, items)
        tag = _DEFAULT_LISTS.get(node.list_item)
        if tag is None:
            self.missing("listStyle", node.list_item)
            tag = "ul"
        return f"<{tag}>{items}</{tag}>"

    def list_item(self, node: Mapping[str, Any], index: int) -> str:
        style = node.get("style")
        if not js_falsy(style) and style != "normal":
            inner = self.node({k: v for k, v in node.items() if k != "listItem"}, index, False)
        else:
            inner = self.children(node)
        handler = self.list_items.get(node["listItem"])
        return handler(node, inner) if handler is not None else f"<li>{inner}</li>"

    def block(self, node: Mapping[str, Any], index: int, inline: bool) -> str:
        children = self.children(node)
        style = node.get("style")
        name = "normal" if js_falsy(style) else js_str(style)
        handler = self.block_styles.get(name)
        if handler is not None:
            return handler(node, children)
        tag = _DEFAULT_STYLES.get(name)
        if tag is None:
            self.missing("blockStyle", name)
            tag = "p"
        return f"<{tag}>{children}</{tag}>"

    def span(self, node: SpanNode) -> str:
        children = "".join(self.node(child, i, True) for i, child in enumerate(node.children))
        name = node.mark_type if isinstance(node.mark_type, str) else None
        handler = self.marks.get(name) if name is not None else None
        if handler is not None:
            return handler(node.mark_def, children, name or "")
        if name in _DEFAULT_MARKS:
            start, end = _DEFAULT_MARKS[name]
            return f"{start}{children}{end}"
        if name == "link":
            return _default_link(node.mark_def, children)
        type_name = js_str(node.mark_type) if node.mark_type is not None else "undefined"
        self.missing("mark", type_name)
        return f'<span class="unknown__pt__mark__{escape_html(type_name)}">{children}</span>'

    def custom(self, value: Mapping[str, Any], inline: bool) -> str:
        type_name = value.get("_type")
        handler = self.types.get(type_name) if isinstance(type_name, str) else None
        if handler is not None:
            return handler(value)
        shown = js_str(type_name) if "_type" in value else "undefined"
        self.missing("block", shown)
        warning = (
            f'Unknown block type "{escape_html(shown)}", specify a component for it in the '
            "`components.types` option"
        )
        tag = "span" if inline else "div"
        return f'<{tag} style="display:none">{warning}</{tag}>'


def _default_link(mark_def: Mapping[str, Any] | None, children: str) -> str:
    href = mark_def.get("href") if mark_def is not None else None
    if not isinstance(href, str):
        href = ""
    if not uri_looks_safe(href):
        return children
    return f'<a href="{escape_html(href)}">{children}</a>'
