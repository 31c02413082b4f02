"""Route path patterns: ``{field}`` / ``{a.b}`` placeholders filled from an item.

Owns the placeholder syntax, filling a pattern (strings go in as they are; a missing or
non-scalar field is a ``ConfigError`` naming the route, the field and the item), dotted
field lookup and the path of page N of a paginated route.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ssgen.errors import ConfigError
from ssgen.routes.paths import canonical_path

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")


def placeholders(pattern: str) -> list[str]:
    """The ``{field}`` names of a path or tag pattern, in order."""
    return PLACEHOLDER.findall(pattern)


def fill_pattern(pattern: str, item: Any, *, route: str, key: str = "path") -> str:
    """Fill ``{field}`` / ``{a.b}`` from ``item``; values are inserted as-is.

    A missing field, or one that is not a string or number, is a `ConfigError` naming the
    route, the field and the item's ``_id``. A filled path is returned in its canonical
    form (``ssgen.routes.paths.canonical_path``); its safety is enforced by the output.
    """

    def value_of(name: str) -> str:
        value = lookup(item, name)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            found = "missing" if value is None else f"a {kind_of(value)}, not a string or number"
            raise ConfigError(
                f"route {route!r}: {key} {pattern!r} needs field {name!r}, "
                f"which is {found} in item {item_name(item)}: return it from the route's "
                f"query (e.g. {{..., \"slug\": slug.current}}) and skip items without it "
                f"(e.g. *[_type == \"post\" && defined(slug.current)])"
            )
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    parts = _pattern_parts(pattern)
    out = [parts[0]]
    for i in range(1, len(parts), 2):
        value = lookup(item, parts[i])
        # Strings (nearly every slug) go straight in; the rest get the full check.
        out.append(value if type(value) is str else value_of(parts[i]))
        out.append(parts[i + 1])
    filled = "".join(out)
    # A path is normalised here, once: every later comparison and link uses this form.
    return canonical_path(filled) if key == "path" else filled


@lru_cache(maxsize=256)
def _pattern_parts(pattern: str) -> tuple[str, ...]:
    """``/a/{x}/b/`` as ("/a/", "x", "/b/"): literals at even, field names at odd indexes."""
    return tuple(PLACEHOLDER.split(pattern))


def lookup(item: Any, dotted: str) -> Any:
    """``item["a"]["b"]`` for ``"a.b"``; None when any step is missing."""
    value = item
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def page_path(base: str, number: int) -> str:
    """The path of page ``number`` of a paginated route: ``/blog/``, ``/blog/page/2/``."""
    return base if number == 1 else f"{base}page/{number}/"


def kind_of(value: Any) -> str:
    """How an error names a value's JSON type ("an object", "a list", ...)."""
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def item_name(item: Any) -> str:
    """How an error names an item: its ``_id`` when it has one."""
    if isinstance(item, dict) and isinstance(item.get("_id"), str):
        return f"_id={item['_id']!r}"
    return "(without _id)"
