"""Reading ``ssgen.toml`` for ssgen.config.load: TOML with file:line errors and schema checks.

Owns the low-level part of configuration validation: locating a key path's line in the
file (best effort, for error messages), checking a table against a schema (unknown keys
with a did-you-mean, types, required keys, defaults) and ``{placeholder}`` syntax.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ssgen.errors import ConfigError

CONFIG_FILE = "ssgen.toml"
REQUIRED: Any = object()
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_PLACEHOLDER_BODY = re.compile(rf"{IDENT}(?:\.{IDENT})*")
STR, BOOL, INT, STRS, TABLE = ("a string", "true or false", "an integer", "a list of strings",
                               "a table")
Spec = Mapping[str, tuple[str, Any]]


class TomlContext:
    """The file being loaded and a best-effort map from key paths to line numbers."""

    def __init__(self, path: Path, text: str, display: str) -> None:
        self.path = path
        self.display = display
        self.lines = _key_lines(text)

    def error(self, key: str, message: str) -> ConfigError:
        """A ConfigError ``file:line: key: message`` (line of the nearest known key)."""
        probe = key
        while probe and probe not in self.lines:
            probe = re.sub(r"(\[\d+\]|\.[^.\[]+|^[^.\[]+)$", "", probe)
        where = f"{self.display}:{self.lines[probe]}" if probe else self.display
        return ConfigError(f"{where}: {key}: {message}")


def _key_lines(text: str) -> dict[str, int]:
    """Map ``routes[1].path``-style key paths to the line that sets them (best effort)."""
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    in_multiline = False
    for number, line in enumerate(text.splitlines(), 1):
        if in_multiline:
            in_multiline = (line.count("'''") + line.count('"""')) % 2 == 0
            continue
        stripped = line.strip()
        if match := re.match(r"\[\[\s*([^\]]+?)\s*\]\]", stripped):
            name = match.group(1)
            index = counts.get(name, 0)
            counts[name] = index + 1
            table = f"{name}[{index}]"
            lines[table] = number
        elif match := re.match(r"\[\s*([^\]]+?)\s*\]", stripped):
            table = match.group(1)
            lines.setdefault(table, number)
        elif match := re.match(r"((?:[A-Za-z0-9_-]+|\"[^\"]*\")(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*=",
                               stripped):
            key = re.sub(r"\s*\.\s*", ".", match.group(1)).strip('"')
            lines[f"{table}.{key}" if table else key] = number
            in_multiline = (stripped.count("'''") + stripped.count('"""')) % 2 == 1
    return lines


def _type_ok(value: Any, expected: str) -> bool:
    if expected == STR:
        return isinstance(value, str)
    if expected == BOOL:
        return isinstance(value, bool)
    if expected == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == STRS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if expected == TABLE:
        return isinstance(value, dict)
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def describe(value: Any) -> str:
    """``a string``, ``an integer``, ...: the TOML kind of ``value`` for messages."""
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    return kinds.get(type(value), type(value).__name__)


def take(table: dict[str, Any], spec: Mapping[str, tuple[str, Any]], where: str,
          ctx: TomlContext) -> dict[str, Any]:
    """Check ``table`` against ``spec`` (unknown keys, types, required) and fill defaults."""
    prefix = f"{where}." if where else ""
    for key in table:
        if key not in spec:
            import difflib  # only for a mistake's did-you-mean

            close = difflib.get_close_matches(key, list(spec), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            valid = ", ".join(spec)
            raise ctx.error(f"{prefix}{key}", f"unknown key{hint}; valid keys here: {valid}")
    out: dict[str, Any] = {}
    for key, (expected, default) in spec.items():
        if key not in table:
            if default is REQUIRED:
                raise ctx.error(f"{prefix}{key}", f"required key is missing: add {key} = ...")
            out[key] = default
            continue
        value = table[key]
        if not _type_ok(value, expected):
            raise ctx.error(f"{prefix}{key}", f"must be {expected}, not {describe(value)}")
        out[key] = tuple(value) if expected == STRS else value
    return out


def placeholders(text: str, key: str, ctx: TomlContext) -> tuple[str, ...]:
    """The ``{field}`` / ``{a.b}`` names in ``text``, rejecting malformed braces."""
    names: list[str] = []
    for part in re.split(r"(\{[^{}]*\})", text):
        if part.startswith("{") and part.endswith("}") and len(part) >= 2:
            body = part[1:-1].strip()
            if not _PLACEHOLDER_BODY.fullmatch(body):
                raise ctx.error(key, f"bad placeholder {part!r} in {text!r}: use {{field}} "
                                     "or {a.b} with letters, digits and _")
            names.append(body)
        elif "{" in part or "}" in part:
            raise ctx.error(key, f"unbalanced brace in {text!r}: placeholders are "
                                 "written {field}")
    return tuple(names)



def _display(path: Path) -> str:
    """``ssgen.toml`` / ``site/ssgen.toml`` when under the working folder, else absolute."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def read_toml(site_dir: Path) -> tuple[dict[str, Any], TomlContext]:
    """Parse ``site_dir/ssgen.toml``; a missing file or a syntax error is a ConfigError."""
    path = site_dir / CONFIG_FILE
    if not site_dir.is_dir():
        what = "is a file, not a folder" if site_dir.exists() else "does not exist"
        raise ConfigError(f"site folder {site_dir} {what}: pass --site with the folder that "
                          f"holds {CONFIG_FILE}, or create one with `ssgen init {site_dir}`")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no {CONFIG_FILE} here: run `ssgen init {site_dir}` to "
                          "create a site, or pass --site DIR") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    ctx = TomlContext(path, text, _display(path))
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line = f":{match.group(1)}" if match else ""
        if not match and "(at end of document)" in str(exc):  # cut short: its last line
            line = f":{len(text.splitlines()) or 1}"
        raise ConfigError(f"{ctx.display}{line}: TOML syntax error: {exc}") from exc
    return raw, ctx


