"""Front matter of Markdown files: ``---`` YAML or ``+++`` TOML blocks -> plain JSON fields.

Owns ``split_front_matter``. Errors become ``SourceError`` naming the file and line.
Plain ``key: value`` lines are read by ``simple``; the rest by
libyaml's loader, or PyYAML's pure one where libyaml is the more lenient.

The package: this module splits and parses the block; ``simple`` reads the plain lines.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from ssgen.errors import SourceError
from ssgen.sources.frontmatter.simple import simple_mapping

if TYPE_CHECKING:
    import yaml

_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")
# libyaml's loader with the same safe constructors: ~10x faster, same values, except
# where libyaml is the more lenient (tests/test_front_matter_fast.py has each case):
# a bare "!" tag ('' there, None here), tabs, "|#" / ">#" block scalar headers and "?"
# inside flow collections. Front matter with any of them takes the pure loader.
# Set on first use: PyYAML is imported only for front matter that is not plain lines.
_FAST_LOADER: Any = None
_LENIENT_IN_LIBYAML = re.compile(r"(?:^|[\s\[{,])!|\t|[|>][-+0-9]*#|(?s:[\[{].*\?|\?.*[\]}])")


def split_front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    """Split ``---`` YAML or ``+++`` TOML front matter from a Markdown file's body.

    Returns ``({}, text)`` when the file has none. ``source`` names the file in errors:
    ``SourceError("posts/a.md:3: invalid YAML front matter: ...")``. Dates and times
    become ISO 8601 strings (UTC as ``Z``) so the fields are plain JSON, like a Sanity
    document's.
    """
    body = text[1:] if text.startswith("\ufeff") else text
    lines = body.splitlines(keepends=True)
    delimiter = lines[0].strip() if lines else ""
    if delimiter not in ("---", "+++"):
        return {}, body
    end = _closing_line(lines, delimiter)
    if end is None:
        kind = "YAML" if delimiter == "---" else "TOML"
        raise SourceError(
            f"{source}:1: {kind} front matter opened with {delimiter!r} is never closed"
        )
    raw = "".join(lines[1:end])
    data = _parse_yaml(raw, source) if delimiter == "---" else _parse_toml(raw, source)
    return _jsonable(data), "".join(lines[end + 1 :])


def _closing_line(lines: list[str], delimiter: str) -> int | None:
    closers = ("---", "...") if delimiter == "---" else ("+++",)
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() in closers:
            return number
    return None


def _parse_yaml(raw: str, source: str) -> dict[str, Any]:
    simple = simple_mapping(raw)
    if simple is not None:
        return simple
    if _LENIENT_IN_LIBYAML.search(raw):
        return _require_mapping(_parse_yaml_slow(raw, source), source, "YAML")
    import yaml

    try:
        data = yaml.load(raw, Loader=fast_loader())
    except yaml.YAMLError:
        data = _parse_yaml_slow(raw, source)
    return _require_mapping(data, source, "YAML")


def fast_loader() -> Any:
    """libyaml's safe loader (PyYAML's pure one where libyaml is not built)."""
    global _FAST_LOADER
    if _FAST_LOADER is None:
        import yaml

        _FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return _FAST_LOADER


def _parse_yaml_slow(raw: str, source: str) -> Any:
    # The pure-Python loader's messages and marks are the documented error format.
    import yaml

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise SourceError(f"{source}:{_yaml_problem(exc)}") from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """``"<line>: invalid YAML front matter: <problem> (<context> at line N)"``."""
    # Marks count from 0 inside the front matter, which starts on the file's line 2.
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 2 if mark is not None else 2
    message = f"{line}: invalid YAML front matter: {getattr(exc, 'problem', None) or exc}"
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line + 2 != line:
        message += f" ({context} at line {context_mark.line + 2})"
    return message


def _parse_toml(raw: str, source: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_LINE.search(message)
        line = int(found.group(1)) + 1 if found else 2
        reason = _TOML_LINE.sub("", message).strip()
        raise SourceError(f"{source}:{line}: invalid TOML front matter: {reason}") from exc
    return data


def _require_mapping(data: Any, source: str, kind: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SourceError(
            f"{source}:2: {kind} front matter must be a mapping of keys to values, "
            f"not {type(data).__name__}"
        )
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date | time):
        text = value.isoformat()
        # UTC as "Z", the way Sanity writes _createdAt/_updatedAt.
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return value
