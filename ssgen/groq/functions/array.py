"""GROQ ``array::`` functions: join, compact, unique, intersects."""

from __future__ import annotations

from typing import Any

from ssgen.groq.functions.registry import FunctionSpec, register
from ssgen.groq.runtime import Scope
from ssgen.groq.values import equal, hash_key, to_string


def join(scope: Scope, value: Any, sep: Any) -> Any:
    """``array::join(array, sep)``: null when an element is not a scalar."""
    if type(value) is not list or type(sep) is not str:
        return None
    parts = []
    for item in value:
        if item is None:
            return None
        text = to_string(item)
        if text is None:
            return None
        parts.append(text)
    return sep.join(parts)


def compact(scope: Scope, value: Any) -> Any:
    """``array::compact(array)``: the array without nulls."""
    if type(value) is not list:
        return None
    return [item for item in value if item is not None]


def unique(scope: Scope, value: Any) -> Any:
    """``array::unique(array)``: scalars deduplicated; arrays/objects always kept."""
    if type(value) is not list:
        return None
    seen: set[Any] = set()
    out = []
    for item in value:
        key = hash_key(item)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        out.append(item)
    return out


def intersects(scope: Scope, left: Any, right: Any) -> Any:
    """``array::intersects(a, b)``: whether the arrays share an (equal) element."""
    if type(left) is not list or type(right) is not list:
        return None
    keys = {hash_key(item) for item in right if hash_key(item) is not None}
    for item in left:
        key = hash_key(item)
        if key is not None and key in keys and any(equal(item, other) for other in right):
            return True
    return False


register(FunctionSpec("array", "join", 2, 2, join))
register(FunctionSpec("array", "compact", 1, 1, compact))
register(FunctionSpec("array", "unique", 1, 1, unique))
register(FunctionSpec("array", "intersects", 2, 2, intersects))
