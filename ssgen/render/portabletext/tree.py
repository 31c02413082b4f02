"""The toolkit half of Portable Text rendering: node checks, list nesting, marks trees.

Owns what @portabletext/toolkit does for @portabletext/to-html: deciding what is a
block, a span or a list item (``is_block``...), nesting flat list items into lists
(``nest_lists``, "html" mode, skipped levels filled with empty items) and turning a
block's spans into a tree of marks in the reference's order (``marks_tree``). Pure data
transforms; ``ssgen.render.portabletext.html`` renders the result.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from ssgen.fastclass import dataclass

MAX_LEVEL = 64
_KNOWN_DECORATORS = ("strong", "em", "code", "underline", "strike-through")


# --- toolkit nodes -------------------------------------------------------------------


@dataclass
class ListNode:
    """A list of items (toolkit ``@list``): its ``listItem`` style, level and items."""

    list_item: str
    level: float
    children: list[Any]


@dataclass
class SpanNode:
    """A mark applied to its children (toolkit ``@span``); ``mark_def`` for annotations."""

    mark_type: Any
    mark_key: str
    mark_def: Mapping[str, Any] | None
    children: list[Any] = field(default_factory=list)


@dataclass
class TextNode:
    """A run of span text, or ``"\\n"`` for a hard break (toolkit ``@text``)."""

    text: str


TOOLKIT_NODES = (ListNode, SpanNode, TextNode)


def js_falsy(value: Any) -> bool:
    """JavaScript falsiness of a JSON value (``[]`` and ``{}`` are truthy)."""
    if value is None or value is False or value == "":
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0 or math.isnan(value)
    return False


def js_str(value: Any) -> str:
    """``String(value)`` as JavaScript writes it, for names shown in placeholders."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join("" if v is None else js_str(v) for v in value)
    return str(value)


def is_map(value: Any) -> bool:
    """True for a JSON object."""
    # ABC isinstance checks are slow; JSON data is nearly always a plain dict.
    return type(value) is dict or isinstance(value, Mapping)


def is_number(value: Any) -> bool:
    """True for a JSON number (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_span(node: Any) -> bool:
    """Strict span check: ``_type`` "span", text a string, marks absent or strings."""
    if not is_map(node) or node.get("_type") != "span":
        return False
    if not isinstance(node.get("text"), str):
        return False
    if "marks" not in node:
        return True
    node_marks = node["marks"]
    return isinstance(node_marks, list) and all(isinstance(m, str) for m in node_marks)


def is_block(node: Any) -> bool:
    """Strict block check, including the reference's operator-precedence quirk."""
    if not is_map(node):
        return False
    node_type = node.get("_type")
    defs = node.get("markDefs")
    typed = isinstance(node_type, str) and not node_type.startswith("@") and js_falsy(defs)
    keyed = isinstance(defs, list) and all(
        is_map(d) and isinstance(d.get("_key"), str) for d in defs
    )
    children = node.get("children")
    return (
        (typed or keyed)
        and isinstance(children, list)
        and all((is_map(c) and "_type" in c) or isinstance(c, TOOLKIT_NODES) for c in children)
    )


def is_list_item(node: Any) -> bool:
    """A block with a string ``listItem`` and a numeric or absent ``level``."""
    return is_block(node) and has_list_props(node)


def has_list_props(block: Mapping[str, Any]) -> bool:
    """The list-item half of ``is_list_item`` for a node already known to be a block."""
    if not isinstance(block.get("listItem"), str):
        return False
    return "level" not in block or is_number(block["level"])


def _level(block: Mapping[str, Any]) -> float:
    level = block.get("level")
    if js_falsy(level) or not isinstance(level, int | float) or isinstance(level, bool):
        return 1
    if level > MAX_LEVEL:
        return MAX_LEVEL
    # Fractional or negative levels make the reference drop the item; keep it instead.
    return max(1, math.floor(level))


# --- nesting lists (toolkit nestLists, "html" mode) ---------------------------------


def nest_lists(blocks: list[Any]) -> list[Any]:
    """Top-level nodes with consecutive list items grouped into nested ``ListNode``s."""
    tree: list[Any] = []
    current: ListNode | None = None
    for block in blocks:
        if block is None or not is_map(block):
            continue
        if not is_list_item(block):
            tree.append(block)
            current = None
            continue
        current = _place_list_item(tree, current, block)
    return tree


def _place_list_item(
    tree: list[Any], current: ListNode | None, block: Mapping[str, Any]
) -> ListNode:
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


def _start_list(tree: list[Any], block: Mapping[str, Any]) -> ListNode:
    root, deepest = _nested_lists(block, 0)
    tree.append(root)
    return deepest


def _nested_lists(block: Mapping[str, Any], start_level: float) -> tuple[ListNode, ListNode]:
    """Lists from ``start_level + 1`` to the block's level; skipped levels get an empty item."""
    target = _level(block)
    first = start_level + 1
    root = ListNode(block["listItem"], first, _list_children(block, first, target))
    current = root
    level = first + 1
    while level <= target:
        deeper = ListNode(block["listItem"], level, _list_children(block, level, target))
        _append_nested(current, deeper)
        current = deeper
        level += 1
    return root, current


def _list_children(block: Mapping[str, Any], level: float, target: float) -> list[Any]:
    if level == target:
        return [block]
    return [{**block, "children": [], "level": level}]


def _append_nested(parent: ListNode, child: ListNode) -> None:
    if not parent.children:
        return
    # Copy the last item rather than mutate the caller's block.
    last = parent.children[-1]
    parent.children[-1] = {**last, "children": [*last["children"], child]}


def _find_list(node: Any, level: float, list_item: str) -> ListNode | None:
    while True:
        if isinstance(node, ListNode) and node.level == level and node.list_item == list_item:
            return node
        children = node.children if isinstance(node, ListNode) else _mapping_children(node)
        if not children:
            return None
        node = children[-1]
        if is_span(node) or isinstance(node, TextNode | SpanNode):
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
    if not is_span(span) or not span.get("marks"):
        return []
    span_marks: list[str] = list(span["marks"])
    occurrences: dict[str, int] = {}
    for mark in span_marks:
        occurrences[mark] = 1
        for sibling in children[index + 1 :]:
            if (
                is_span(sibling)
                and isinstance(sibling.get("marks"), list)
                and mark in sibling["marks"]
            ):
                occurrences[mark] += 1
            else:
                break
    return sorted(
        span_marks, key=functools.cmp_to_key(functools.partial(_compare_marks, occurrences))
    )


def marks_tree(block: Mapping[str, Any]) -> list[Any]:
    """A block's children as ``SpanNode``/``TextNode`` trees, shared marks outermost."""
    children = block.get("children")
    if not isinstance(children, list) or not children:
        return []
    defs = block.get("markDefs")
    mark_defs = [d for d in defs if isinstance(d, Mapping)] if isinstance(defs, list) else []
    root = SpanNode("<unknown>", "", None)
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
            node = SpanNode(mark_def.get("_type") if mark_def is not None else key, key, mark_def)
            current.children.append(node)
            stack.append(node)
            current = node
        if is_span(child):
            current.children.extend(_text_nodes(child["text"]))
        else:
            current.children.append(child)
    return root.children


def _text_nodes(text: str) -> list[TextNode]:
    lines = text.split("\n")
    nodes = [TextNode(lines[0])]
    for line in lines[1:]:
        nodes.append(TextNode("\n"))
        nodes.append(TextNode(line))
    return nodes
