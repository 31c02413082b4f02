"""A first look at ``ssgen.toml``'s ``[source]``, before the configuration's modules load.

Owns ``read_source(site_dir)`` and ``source_keys(text)``: the four values that decide a
local site's input files and parse cache (``type``, ``files``, ``markdown_dir``,
``markdown_type``; their defaults when not written), read line by line from the simple
forms TOML writes them in (``key = "string"``, ``'literal'``, a one-line array of those,
comments). A command uses them to start listing and parsing the Markdown files on the
other core while it imports the rest (``ssgen.build.ahead``): ~25 ms earlier than from
the loaded configuration. This is a guess, not a TOML reader: a value it cannot read
(escapes, multi-line strings, other types) gives None, and what it does not follow it
misreads (a ``[source]`` line inside another table's multi-line string, a dotted
``source.key``, an inline table). Its caller never trusts it: work started from it is
kept only when the loaded configuration has the same values (``ssgen.sources.early``),
and thrown away otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_FILE = "ssgen.toml"  # as ``ssgen.config.toml.CONFIG_FILE``
# type, files (None: every dataset file under content/), markdown_dir, markdown_type
SourceKeys = tuple[str, "tuple[str, ...] | None", str, str]
_DEFAULTS: dict[str, str | tuple[str, ...] | None] = {
    "type": "local", "files": None, "markdown_dir": "content", "markdown_type": "page"}


class _Unread(Exception):
    """A value written in a form ``source_keys`` does not read."""


def read_source(site_dir: Path) -> SourceKeys | None:
    """``source_keys`` of the site folder's ``ssgen.toml``; None when it cannot be read."""
    try:
        with open(os.path.join(site_dir, CONFIG_FILE), "rb") as handle:
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return source_keys(text)


def source_keys(text: str) -> SourceKeys | None:
    """The ``[source]`` values of the configuration ``text`` as far as they can be read
    line by line (see the module's doc); None when one of them is not a plain string
    (``files``: a one-line array of them)."""
    found = dict(_DEFAULTS)
    table = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            table = stripped[1:stripped.find("]")].strip() if "]" in stripped else "?"
            continue
        key, sep, value = stripped.partition("=")
        key = key.strip()
        if table != "source" or not sep or key not in found:
            continue
        try:
            found[key] = _array(value.strip()) if key == "files" else _scalar(value.strip())
        except _Unread:
            return None
    kind, files, folder, markdown_type = (found[key] for key in _DEFAULTS)
    if not (isinstance(kind, str) and isinstance(folder, str)
            and isinstance(markdown_type, str) and not isinstance(files, str)):
        return None
    return kind, files, folder, markdown_type


def _scalar(text: str) -> str:
    """The string ``text`` holds, before an optional comment."""
    value, rest = _string(text)
    if rest and not rest.startswith("#"):
        raise _Unread
    return value


def _string(text: str) -> tuple[str, str]:
    """The string ``text`` starts with, and the text after it (which must end the line:
    nothing, a comma or bracket for ``_array``, or a comment)."""
    quote = text[:1]
    end = text.find(quote, 1)
    if quote not in ("'", '"') or end < 1 or text.startswith(quote * 3):
        raise _Unread
    value, rest = text[1:end], text[end + 1:].strip()
    if quote == '"' and "\\" in value:
        raise _Unread  # an escape: TOML would decode it
    if rest and rest[0] not in "#,]":
        raise _Unread
    return value, rest


def _array(text: str) -> tuple[str, ...]:
    """The one-line array of strings ``text`` holds."""
    if not text.startswith("["):
        raise _Unread
    values: list[str] = []
    rest = text[1:].strip()
    while not rest.startswith("]"):
        value, rest = _string(rest)
        values.append(value)
        if rest.startswith(","):
            rest = rest[1:].strip()
        elif not rest.startswith("]"):
            raise _Unread
    tail = rest[1:].strip()
    if tail and not tail.startswith("#"):
        raise _Unread
    return tuple(values)
