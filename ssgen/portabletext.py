"""Portable Text to HTML, matching @portabletext/to-html 6 with its default components.

Owns ``to_html``: list nesting (levels, mixed bullet/number, skipped levels filled with
empty items), mark nesting in the reference's order, markDefs annotations, hard breaks,
escaping, safe links, unknown types/marks/styles, and custom handlers that return HTML
(render.py routes them through user Jinja macros). Pure: no I/O.

Deliberate differences from the reference, all on malformed input only: names of unknown
types and marks are escaped in the placeholders, entries that are not objects are
skipped instead of crashing, and list levels are capped at ``MAX_LEVEL``, fractional
ones rounded down and those below 1 read as 1 (the reference would drop such an item).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

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

MAX_LEVEL = 64
_KNOWN_DECORATORS = ("strong", "em", "code", "underline", "strike-through")
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
    nested = _nest_lists(items)
    return "".join(renderer.node(node, index, False) for index, node in enumerate(nested))


def to_plain_text(blocks: Any) -> str:
    """The text of every span, blocks separated by a blank line (toolkit ``toPlainText``).

    For excerpts, feed summaries and meta descriptions. Text inside custom types is left
    out; an inline object between two spans becomes a space when neither has one.
    """
    if blocks is None:
        return ""
    items = (
        [blocks] if _is_map(blocks) else list(blocks) if isinstance(blocks, list | tuple) else None
    )
    if items is None:
        raise ValueError(
            f"portable text must be a block object or a list of blocks, not {type(blocks).__name__}"
        )
    text = ""
    for index, block in enumerate(items):
        if not _is_block(block):
            continue
        text = _add_block_text(text, block)
        if index != len(items) - 1:
            text += "\n\n"
    return text


def _add_block_text(text: str, block: Mapping[str, Any]) -> str:
    pad = False
    for child in block["children"]:
        if not _is_span(child):
            pad = True
            continue
        if pad and text and not text[-1].isspace() and not child["text"][:1].isspace():
            text += " "
        text += child["text"]
        pad = False
    return text


# --- toolkit nodes -------------------------------------------------------------------


@dataclass
class _List:
    list_item: str
    level: float
    children: list[Any]


@dataclass
class _Span:
    mark_type: Any
    mark_key: str
    mark_def: Mapping[str, Any] | None
    children: list[Any] = field(default_factory=list)


@dataclass
class _Text:
    text: str


_TOOLKIT = (_List, _Span, _Text)


def _js_falsy(value: Any) -> bool:
    if value is None or value is False or value == "":
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0 or math.isnan(value)
    return False


def _js_str(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join("" if v is None else _js_str(v) for v in value)
    return str(value)


def _is_map(value: Any) -> bool:
    # ABC isinstance checks are slow; JSON data is nearly always a plain dict.
    return type(value) is dict or isinstance(value, Mapping)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_span(node: Any) -> bool:
    if not _is_map(node) or node.get("_type") != "span":
        return False
    if not isinstance(node.get("text"), str):
        return False
    if "marks" not in node:
        return True
    node_marks = node["marks"]
    return isinstance(node_marks, list) and all(isinstance(m, str) for m in node_marks)


def _is_block(node: Any) -> bool:
    if not _is_map(node):
        return False
    node_type = node.get("_type")
    defs = node.get("markDefs")
    typed = isinstance(node_type, str) and not node_type.startswith("@") and _js_falsy(defs)
    keyed = isinstance(defs, list) and all(
        _is_map(d) and isinstance(d.get("_key"), str) for d in defs
    )
    children = node.get("children")
    return (
        (typed or keyed)
        and isinstance(children, list)
        and all((_is_map(c) and "_type" in c) or isinstance(c, _TOOLKIT) for c in children)
    )


def _is_list_item(node: Any) -> bool:
    return _is_block(node) and _has_list_props(node)


def _has_list_props(block: Mapping[str, Any]) -> bool:
    if not isinstance(block.get("listItem"), str):
        return False
    return "level" not in block or _is_number(block["level"])


def _level(block: Mapping[str, Any]) -> float:
    level = block.get("level")
    if _js_falsy(level) or not isinstance(level, int | float) or isinstance(level, bool):
        return 1
    if level > MAX_LEVEL:
        return MAX_LEVEL
    # Fractional or negative levels make the reference drop the item; keep it instead.
    return max(1, math.floor(level))


# --- nesting lists (toolkit nestLists, "html" mode) ---------------------------------


def _nest_lists(blocks: list[Any]) -> list[Any]:
    tree: list[Any] = []
    current: _List | None = None
    for block in blocks:
        if block is None or not _is_map(block):
            continue
        if not _is_list_item(block):
            tree.append(block)
            current = None
            continue
        current = _place_list_item(tree, current, block)
    return tree


def _place_list_item(tree: list[Any], current: _List | None, block: Mapping[str, Any]) -> _List:
    level = _level(block)
    if current is None:
        return _start_list(tree, block)
    if level == current.level and block["listItem"] == current.list_item:
        current.children.append(block)
        return current
    if level > current.level:
        root, deepest = _nested_lists(block, current.level)
        _append_nested(current, root)
        return deepest
    if level < current.level:
        match = _find_list(tree[-1], level, block["listItem"]) if tree else None
        if match is not None:
            match.children.append(block)
            return match
        return _start_list(tree, block)
    # Same level, another list style: the reference never re-joins here (its lookup
    # passes no style), so a new top-level list starts.
    return _start_list(tree, block)


def _start_list(tree: list[Any], block: Mapping[str, Any]) -> _List:
    root, deepest = _nested_lists(block, 0)
    tree.append(root)
    return deepest


def _nested_lists(block: Mapping[str, Any], start_level: float) -> tuple[_List, _List]:
    """Lists from ``start_level + 1`` to the block's level; skipped levels get an empty item."""
    target = _level(block)
    first = start_level + 1
    root = _List(block["listItem"], first, _list_children(block, first, target))
    current = root
    level = first + 1
    while level <= target:
        deeper = _List(block["listItem"], level, _list_children(block, level, target))
        _append_nested(current, deeper)
        current = deeper
        level += 1
    return root, current


def _list_children(block: Mapping[str, Any], level: float, target: float) -> list[Any]:
    if level == target:
        return [block]
    return [{**block, "children": [], "level": level}]


def _append_nested(parent: _List, child: _List) -> None:
    if not parent.children:
        return
    # Copy the last item rather than mutate the caller's block.
    last = parent.children[-1]
    parent.children[-1] = {**last, "children": [*last["children"], child]}


def _find_list(node: Any, level: float, list_item: str) -> _List | None:
    while True:
        if isinstance(node, _List) and node.level == level and node.list_item == list_item:
            return node
        children = node.children if isinstance(node, _List) else _mapping_children(node)
        if not children:
            return None
        node = children[-1]
        if _is_span(node) or isinstance(node, _Text | _Span):
            return None


def _mapping_children(node: Any) -> list[Any] | None:
    if isinstance(node, Mapping) and isinstance(node.get("children"), list):
        return list(node["children"])
    return None


# --- marks tree (toolkit buildMarksTree + sortMarksByOccurences) ---------------------


def _compare_marks(occurrences: dict[str, int], a: str, b: str) -> int:
    if occurrences[a] != occurrences[b]:
        return occurrences[b] - occurrences[a]
    a_pos = _KNOWN_DECORATORS.index(a) if a in _KNOWN_DECORATORS else -1
    b_pos = _KNOWN_DECORATORS.index(b) if b in _KNOWN_DECORATORS else -1
    if a_pos != b_pos:
        return a_pos - b_pos
    # Approximates JS localeCompare: case-insensitive first, lowercase before uppercase.
    key_a, key_b = (a.casefold(), a.swapcase()), (b.casefold(), b.swapcase())
    return (key_a > key_b) - (key_a < key_b)


def _sorted_marks(children: list[Any], index: int) -> list[str]:
    span = children[index]
    if not _is_span(span) or not span.get("marks"):
        return []
    span_marks: list[str] = list(span["marks"])
    occurrences: dict[str, int] = {}
    for mark in span_marks:
        occurrences[mark] = 1
        for sibling in children[index + 1 :]:
            if (
                _is_span(sibling)
                and isinstance(sibling.get("marks"), list)
                and mark in sibling["marks"]
            ):
                occurrences[mark] += 1
            else:
                break
    return sorted(
        span_marks, key=functools.cmp_to_key(functools.partial(_compare_marks, occurrences))
    )


def _marks_tree(block: Mapping[str, Any]) -> list[Any]:
    children = block.get("children")
    if not isinstance(children, list) or not children:
        return []
    defs = block.get("markDefs")
    mark_defs = [d for d in defs if isinstance(d, Mapping)] if isinstance(defs, list) else []
    root = _Span("<unknown>", "", None)
    stack = [root]
    for index, child in enumerate(children):
        if child is None:
            continue
        needed = _sorted_marks(children, index)
        pos = 1
        while pos < len(stack) and stack[pos].mark_key in needed:
            needed.remove(stack[pos].mark_key)
            pos += 1
        del stack[pos:]
        current = stack[-1]
        for key in needed:
            mark_def = next((d for d in mark_defs if d.get("_key") == key), None)
            node = _Span(mark_def.get("_type") if mark_def is not None else key, key, mark_def)
            current.children.append(node)
            stack.append(node)
            current = node
        if _is_span(child):
            current.children.extend(_text_nodes(child["text"]))
        else:
            current.children.append(child)
    return root.children


def _text_nodes(text: str) -> list[_Text]:
    lines = text.split("\n")
    nodes = [_Text(lines[0])]
    for line in lines[1:]:
        nodes.append(_Text("\n"))
        nodes.append(_Text(line))
    return nodes


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
        if isinstance(node, _List):
            return self.list(node)
        if isinstance(node, _Span):
            return self.span(node)
        if isinstance(node, _Text):
            return "<br/>" if node.text == "\n" else escape_html(node.text)
        if not _is_map(node):
            return ""
        if not _is_block(node):
            return self.custom(node, inline)
        if _has_list_props(node):
            return self.list_item(node, index)
        return self.block(node, index, inline)

    def missing(self, node_type: str, name: str) -> None:
        if self.on_unknown is not None:
            self.on_unknown(node_type, name)

    def children(self, block: Mapping[str, Any]) -> str:
        return "".join(self.node(child, i, True) for i, child in enumerate(_marks_tree(block)))

    def list(self, node: _List) -> str:
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
        if not _js_falsy(style) and style != "normal":
            inner = self.node({k: v for k, v in node.items() if k != "listItem"}, index, False)
        else:
            inner = self.children(node)
        handler = self.list_items.get(node["listItem"])
        return handler(node, inner) if handler is not None else f"<li>{inner}</li>"

    def block(self, node: Mapping[str, Any], index: int, inline: bool) -> str:
        children = self.children(node)
        style = node.get("style")
        name = "normal" if _js_falsy(style) else _js_str(style)
        handler = self.block_styles.get(name)
        if handler is not None:
            return handler(node, children)
        tag = _DEFAULT_STYLES.get(name)
        if tag is None:
            self.missing("blockStyle", name)
            tag = "p"
        return f"<{tag}>{children}</{tag}>"

    def span(self, node: _Span) -> str:
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
        type_name = _js_str(node.mark_type) if node.mark_type is not None else "undefined"
        self.missing("mark", type_name)
        return f'<span class="unknown__pt__mark__{escape_html(type_name)}">{children}</span>'

    def custom(self, value: Mapping[str, Any], inline: bool) -> str:
        type_name = value.get("_type")
        handler = self.types.get(type_name) if isinstance(type_name, str) else None
        if handler is not None:
            return handler(value)
        shown = _js_str(type_name) if "_type" in value else "undefined"
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
