"""Front matter of plain ``key: value`` lines, read without a YAML parser.

Owns ``simple_mapping(raw) -> dict | None``. Most front matter is a few lines such as
``title: Hello world`` or ``draft: false``; PyYAML (even its C loader) spends ~40 µs on
each file building a node graph for them. This reads exactly that shape and nothing else:
every non-blank line is ``key: value`` at column 0, both plain scalars that start with an
ASCII letter or digit, hold no comment (`` #``), no ``: `` and no character YAML rejects,
and end without blanks. Each is resolved with a copy of PyYAML's implicit resolvers (the
ones for scalars that start with a letter or digit), as its SafeLoader does; only strings,
booleans and nulls are taken. Anything else returns None and the caller parses with
PyYAML, so the values are always those PyYAML would give (tests/test_front_matter_fast.py
compares them on generated front matter, and the copied table with PyYAML's own). The copy
keeps PyYAML out of a build whose front matter is all plain lines: importing it costs
~15 ms CPU in each process that parses files (the build and its parsing child).
"""

from __future__ import annotations

import re
from typing import Any

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
_BOOL_VALUES = {"yes": True, "no": False, "true": True, "false": False, "on": True,
                "off": False}  # SafeConstructor.bool_values

# PyYAML 6's Resolver.add_implicit_resolver calls (yaml/resolver.py) for the scalars this
# module reads, verbatim: (tag, pattern, first characters). Letters and digits start every
# key and value here, so merge (<), value (=) and yaml (!&*) never apply.
_X = re.X
IMPLICIT: tuple[tuple[str, str, int, str], ...] = (
    (_BOOL, r'''^(?:yes|Yes|YES|no|No|NO
                    |true|True|TRUE|false|False|FALSE
                    |on|On|ON|off|Off|OFF)$''', _X, "yYnNtTfFoO"),
    ("tag:yaml.org,2002:float", r'''^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$''', _X, "-+0123456789."),
    ("tag:yaml.org,2002:int", r'''^(?:[-+]?0b[0-1_]+
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+
                    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$''', _X, "-+0123456789"),
    (_NULL, r'''^(?: ~
                    |null|Null|NULL
                    | )$''', _X, "~nN"),
    ("tag:yaml.org,2002:timestamp", r'''^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
                     (?:[Tt]|[ \t]+)[0-9][0-9]?
                     :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
                     (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$''', _X, "0123456789"),
)
_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _tag_name, _pattern, _flags, _first in IMPLICIT:
    for _char in _first:
        _RESOLVERS.setdefault(_char, []).append((_tag_name, re.compile(_pattern, _flags)))


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
            data[key] = _BOOL_VALUES[value.lower()]
        elif tag == _NULL:
            data[key] = None
        else:  # numbers, dates, merge keys: PyYAML's constructors decide
            return None
    return data


def _tag(plain: str) -> str:
    """The tag PyYAML's resolver gives a plain scalar that starts with a letter or digit
    (``Resolver.resolve``'s rule; PyYAML registers no resolver for any first character)."""
    for tag, pattern in _RESOLVERS.get(plain[0], ()):
        if pattern.match(plain):
            return tag
    return _STR
