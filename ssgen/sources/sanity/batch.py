"""Pure helpers of the Sanity source: batching sub-queries and deriving dependency ids.

Owns the rewrite that combines per-page queries into one request as an object of
sub-queries (``{"q0": (<query with $x renamed $q0_x>), ...}``), the chunking that keeps
each combined query within limits, and the conservative ``ids`` of a remote result (every
``_id``, ``_originalId`` and ``_ref`` found in it). No I/O here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ssgen.fastclass import dataclass

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FN_DECL = re.compile(r"^\s*fn\s", re.MULTILINE)


def rename_params(text: str, prefix: str) -> str:
    """``$name`` -> ``$<prefix>name`` outside string literals and ``//`` comments."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
        elif ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(text[i:end])
            i = end
        elif ch == "$" and (m := _IDENT.match(text, i + 1)):
            out.append(f"${prefix}{m.group()}")
            i = m.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return len(text)


def batchable(text: str) -> bool:
    """False for queries that must stand alone (custom ``fn`` declarations)."""
    return not _FN_DECL.search(text)


@dataclass(frozen=True)
class Batch:
    """Several queries combined into one: ``keys[i]`` holds the result of ``indexes[i]``."""

    text: str
    params: dict[str, Any]
    keys: tuple[str, ...]
    indexes: tuple[int, ...]


def combine(items: Sequence[tuple[int, str, Mapping[str, Any]]]) -> Batch:
    """One query whose result is ``{"q<k>": <result of item k>}``."""
    parts, params, keys = [], {}, []
    for k, (_, text, item_params) in enumerate(items):
        key = f"q{k}"
        parts.append(f'"{key}": (\n{rename_params(text, key + "_")}\n)')
        params.update({f"{key}_{name}": value for name, value in item_params.items()})
        keys.append(key)
    text = "{\n" + ",\n".join(parts) + "\n}"
    return Batch(text, params, tuple(keys), tuple(index for index, _, _ in items))


def chunk(
    items: Sequence[tuple[int, str, Mapping[str, Any]]], *, max_items: int, max_chars: int
) -> Iterator[Sequence[tuple[int, str, Mapping[str, Any]]]]:
    """Greedy groups of at most ``max_items`` whose text+params stay under ``max_chars``."""
    group: list[tuple[int, str, Mapping[str, Any]]] = []
    size = 0
    for item in items:
        cost = len(item[1]) + len(json.dumps(item[2], default=str)) + 16
        if group and (len(group) >= max_items or size + cost > max_chars):
            yield group
            group, size = [], 0
        group.append(item)
        size += cost
    if group:
        yield group


def collect_ids(value: Any, *, drafts: bool = False) -> frozenset[str]:
    """Every ``_id``/``_originalId``/``_ref`` in a result (plus ``drafts.<id>`` when drafts)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in ("_id", "_originalId", "_ref"):
                ref = item.get(key)
                if isinstance(ref, str):
                    found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    if drafts:
        found |= {f"drafts.{i}" for i in found if not i.startswith("drafts.")}
    return frozenset(found)


def revisions(value: Any) -> dict[str, str]:
    """``{_id: _rev}`` for every object in a result that has both (``_originalId`` first)."""
    revs: dict[str, str] = {}
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            rev = item.get("_rev")
            ident = item.get("_originalId", item.get("_id"))
            if isinstance(rev, str) and isinstance(ident, str):
                revs[ident] = rev
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return revs
