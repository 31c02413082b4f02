"""GROQ Portable Text extension: the ``pt()`` constructor and ``pt::text()``.

A block is an object with a ``children`` array; its text is the concatenation of the
``text`` of its ``span`` children. Arrays (also nested ones, as ``a[].body`` yields)
contribute every block they contain; other elements (images, custom objects without
children) are skipped. Blocks are joined by a blank line.
"""

from __future__ import annotations

from typing import Any

from ssgen.groq.functions.registry import FunctionSpec, register
from ssgen.groq.runtime import Scope


def _collect(value: Any, out: list[str], depth: int = 0) -> None:
    if type(value) is dict:
        children = value.get("children")
        if type(children) is list:
            out.append("".join(
                child["text"] for child in children
                if type(child) is dict and child.get("_type") == "span"
                and type(child.get("text")) is str))
    elif type(value) is list and depth < 32:
        for item in value:
            _collect(item, out, depth + 1)


def _blocks_text(value: Any) -> list[str] | None:
    if type(value) is not dict and type(value) is not list:
        return None
    out: list[str] = []
    _collect(value, out)
    return out or None


def pt(scope: Scope, value: Any) -> Any:
    """``pt(x)``: x when it is a Portable Text block or an array with blocks, else null."""
    return value if _blocks_text(value) is not None else None


def text(scope: Scope, value: Any) -> Any:
    """``pt::text(x)``: the plain text of the blocks, blocks joined by a blank line."""
    blocks = _blocks_text(value)
    return None if blocks is None else "\n\n".join(blocks)


register(FunctionSpec("global", "pt", 1, 1, pt))
register(FunctionSpec("pt", "text", 1, 1, text))
