"""Well-formed text from JSON that escapes lone UTF-16 surrogates.

JSON may escape a surrogate code unit that has no partner (``"\\ud83d"``): Sanity's API,
whose strings are JavaScript's (UTF-16), sends one when a string was cut inside an emoji,
and an export or a ``ssgen pull`` of it keeps it. Such a string has no UTF-8 form, so no
page could carry it. Each JSON edge of the sources (the NDJSON lines, the HTTP API's
bodies, the Listen API's events) makes every lone surrogate U+FFFD once, as a browser's
``TextEncoder`` does, and the document builds; the rest of ssgen never sees one.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Only an escape can bring a surrogate in: valid UTF-8 never encodes one.
_ESCAPED = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def may_escape_surrogates(raw: bytes) -> bool:
    """Whether the JSON text ``raw`` escapes a surrogate (paired or not)."""
    return _ESCAPED.search(raw) is not None


def well_formed(value: Any) -> Any:
    """``value`` (parsed JSON) with each lone surrogate in its strings and keys made
    U+FFFD (a pair escaped as two ``\\u`` escapes is one character once parsed)."""
    if type(value) is str:
        return _LONE.sub(REPLACEMENT, value)
    if type(value) is dict:
        return {well_formed(key): well_formed(item) for key, item in value.items()}
    if type(value) is list:
        return [well_formed(item) for item in value]
    return value


def loads(raw: bytes) -> Any:
    """``json.loads(raw)``, its strings made well-formed when ``raw`` escapes a
    surrogate; ``ValueError`` as ``json.loads`` raises it."""
    value = json.loads(raw)
    return well_formed(value) if may_escape_surrogates(raw) else value
