"""GROQ Portable Text extension: the ``pt()`` constructor and ``pt::text()``."""

from __future__ import annotations

from typing import Any

from ssgen.groq.functions import FunctionSpec, register
from ssgen.groq.runtime import Scope


def _is_block(value: Any) -> bool:
    if type(value) is not dict or type(value.get("children")) is not list:
        return False
    return all(type(child) is dict for child in value["children"])


def _blocks(value: Any) -> list[dict[str, Any]] | None:
    if type(value) is dict:
        return [value] if _is_block(value) else None
    if type(value) is list:
        return value if value and all(_is_block(item) for item in value) else None
    return None


def pt(scope: Scope, value: Any) -> Any:
    """``pt(x)``: x when it is a Portable Text block or an array of blocks, else null."""
    return value if _blocks(value) is not None else None


def text(scope: Scope, value: Any) -> Any:
    """``pt::text(x)``: the plain text of the blocks, blocks joined by a blank line."""
    blocks = _blocks(value)
    if blocks is None:
        return None
    parts = []
    for block in blocks:
        spans = [child.get("text") for child in block["children"]]
        parts.append("".join(s for s in spans if type(s) is str))
    return "\n\n".join(parts)


register(FunctionSpec("global", "pt", 1, 1, pt))
register(FunctionSpec("pt", "text", 1, 1, text))
