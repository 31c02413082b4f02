"""Front matter of plain ``key: value`` lines, read without a YAML parser.

Owns ``simple_mapping(raw) -> dict | None``. Most front matter is a few lines such as
``title: Hello world`` or ``draft: false``; PyYAML (even its C loader) spends ~40 µs on
each file building a node graph for them. This reads exactly that shape and nothing else:
every non-blank line is ``key: value`` at column 0, both plain scalars that start with an
ASCII letter or digit, hold no comment (`` #``), no ``: `` and no character YAML rejects,
and end without blanks. Each is resolved with PyYAML's own implicit resolvers, as its
SafeLoader does; only strings, booleans and nulls are taken. Anything else returns None
and the caller parses with PyYAML, so the values are always those PyYAML would give
(tests/test_front_matter_fast.py compares them on generated front matter).
"""

from __future__ import annotations

import re
from typing import Any

from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

# key: value; both plain scalars that cannot be anything but one line of text.
_LINE = re.compile(r"([A-Za-z0-9][^:#\s]*(?: [^:#\s]+)*): ([A-Za-z0-9][^\t\n]*)")
# What may not appear inside a plain value: a comment, a mapping indicator, a colon
# that ends it, trailing blanks, or a character PyYAML's reader refuses.
# YAML's line breaks beyond "\n" (\x85, \u2028, \u2029) and a BOM count as refused too.
# The refused set is spelled out (the complement of x20-x7e, xa0-u2027, u202a-ud7ff,
# ue000-ufefe, uff00-ufffd, U00010000-U0010ffff): the same characters, but the negated
# class over all of Unicode took ~18 ms to compile at every start.
_VALUE_TROUBLE = re.compile(
    r" #|: |:$|\s$"
    r"|[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
)
_MAX_KEY = 1000  # PyYAML refuses a simple key over 1024 characters
_STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


def simple_mapping(raw: str) -> dict[str, Any] | None:
    """The mapping ``raw`` holds when it is only plain one-line entries, else None."""
    data: dict[str, Any] = {}
    for line in raw.split("\n"):
        if not line:
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            return None
        key, value = match.groups()
        if _VALUE_TROUBLE.search(value) or _VALUE_TROUBLE.search(key) or len(key) > _MAX_KEY:
            return None
        if _tag(key) != _STR:
            return None
        tag = _tag(value)
        if tag == _STR:
            data[key] = value
        elif tag == _BOOL:
            data[key] = SafeConstructor.bool_values[value.lower()]
        elif tag == _NULL:
            data[key] = None
        else:  # numbers, dates, merge keys: PyYAML's constructors decide
            return None
    return data


def _tag(plain: str) -> str:
    """The tag PyYAML's resolver gives a plain scalar (``Resolver.resolve``'s rule)."""
    implicit = Resolver.yaml_implicit_resolvers
    for tag, pattern in implicit.get(plain[0], []) + implicit.get(None, []):
        if pattern.match(plain):
            tag_name: str = tag
            return tag_name
    return _STR
