"""The document ids a JSON value holds (pure): every string ``_id`` key at any depth,
found in the value's orjson encoding, or by walking a value orjson cannot encode."""

from __future__ import annotations

from typing import Any

import orjson

# A key "_id" with a string value in orjson's compact output follows "{" or ",": inside
# a JSON string every '"' is escaped, so neither '{"' nor ',"' occurs in string text.
_ID_OPEN = b'"_id":"'
_KEY_BEFORE = frozenset(b"{,")


def find_ids(value: Any) -> set[str]:
    """Every string ``_id`` anywhere in a JSON value (dereferenced documents included).

    Searched in the value's JSON encoding (C speed: a post item's Portable Text body is
    thousands of nodes); a value orjson cannot encode is walked instead."""
    try:
        encoded = orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return walk_ids(value)
    found: set[str] = set()
    at = encoded.find(_ID_OPEN)
    while at >= 0:
        if encoded[at - 1] in _KEY_BEFORE:
            end = encoded.find(b'"', at + len(_ID_OPEN))
            while _escaped(encoded, end):
                end = encoded.find(b'"', end + 1)
            found.add(orjson.loads(encoded[at + len(_ID_OPEN) - 1:end + 1]))
        at = encoded.find(_ID_OPEN, at + 1)
    return found


def _escaped(encoded: bytes, quote: int) -> bool:
    """Whether the '"' at ``quote`` is escaped (an odd run of backslashes before it)."""
    run = 0
    while encoded[quote - 1 - run] == 0x5C:
        run += 1
    return run % 2 == 1


def walk_ids(value: Any) -> set[str]:
    """``find_ids`` by walking the value."""
    found: set[str] = set()
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ident = current.get("_id")
            if isinstance(ident, str):
                found.add(ident)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found


__all__ = ["find_ids", "walk_ids"]
