"""The command line's words before typer sees them: global options written after the
command move before it (``hoist_global_options``), and a plain ``ssgen build`` is
recognised (``plain_build``) so the console entry point can run it without importing
typer, click and pydantic (about 0.15 s of CPU at every start).

``plain_build`` accepts only the spellings typer itself reads the same way, each option at
most once: ``--site PATH``/``--site=PATH``/``-s PATH``, ``-q``/``--quiet``,
``-v``/``--verbose``, then ``build`` with ``--full``, ``--drafts``, ``-j N``/``--jobs N``
(``N`` a plain decimal of 1 or more), ``--changes FILE`` and ``--base-url URL`` (both also
with ``=``). Anything else (``--help``, ``--version``, grouped short flags, a value that
looks like an option, an unknown word) returns None and goes through typer, which gives
the help, the errors and their exit codes. tests/test_cli_plain.py holds the two paths
equal. Pure: no I/O.
"""

from __future__ import annotations

import re
from pathlib import Path

from ssgen.fastclass import dataclass

_GLOBAL_FLAGS = frozenset({"-v", "--verbose", "-q", "--quiet"})
_GLOBAL_VALUED = frozenset({"-s", "--site"})


def hoist_global_options(args: list[str]) -> list[str]:
    """Move global options written after the command (``ssgen build -q``) before it.

    Hugo and most CLIs accept both orders; click only the first. Stops at ``--``.
    """
    index = 0
    while index < len(args) and args[index].startswith("-"):
        index += 2 if args[index] in _GLOBAL_VALUED else 1
    if index >= len(args):
        return args
    moved: list[str] = []
    kept: list[str] = []
    rest = iter(args[index + 1 :])
    for token in rest:
        if token == "--":
            kept += [token, *rest]
        elif token in _GLOBAL_FLAGS or token.startswith("--site="):
            moved.append(token)
        elif token in _GLOBAL_VALUED:
            value = next(rest, None)
            moved += [token] if value is None else [token, value]
        else:
            kept.append(token)
    return [*args[:index], *moved, args[index], *kept]


@dataclass(frozen=True)
class PlainBuild:
    """The options of a plain ``ssgen build``, as the typer command would receive them."""

    site: Path = Path(".")
    verbosity: int = 1
    full: bool = False
    jobs: int | None = None
    drafts: bool = False
    changes: Path | None = None
    base_url: str | None = None


# Option word -> (field, takes a value). Short and long spellings share a field.
_GLOBAL = {"-s": ("site", True), "--site": ("site", True), "-q": ("quiet", False),
           "--quiet": ("quiet", False), "-v": ("verbose", False), "--verbose": ("verbose", False)}
_BUILD = {"--full": ("full", False), "--drafts": ("drafts", False), "-j": ("jobs", True),
          "--jobs": ("jobs", True), "--changes": ("changes", True),
          "--base-url": ("base_url", True)}
_JOBS = re.compile(r"[1-9][0-9]{0,5}")


def plain_build(args: list[str]) -> PlainBuild | None:
    """The options of ``args`` (already hoisted) when they are a plain ``build``; else None."""
    try:
        command = args.index("build")
    except ValueError:
        return None
    found: dict[str, str | bool] = {}
    if not _read(args[:command], _GLOBAL, found) or not _read(args[command + 1 :], _BUILD, found):
        return None
    jobs = found.get("jobs")
    if jobs is not None and not (isinstance(jobs, str) and _JOBS.fullmatch(jobs)):
        return None
    site, changes, base_url = found.get("site"), found.get("changes"), found.get("base_url")
    return PlainBuild(
        site=Path(str(site)) if site is not None else Path("."),
        verbosity=0 if found.get("quiet") else (2 if found.get("verbose") else 1),
        full=bool(found.get("full")),
        jobs=int(str(jobs)) if jobs is not None else None,
        drafts=bool(found.get("drafts")),
        changes=Path(str(changes)) if changes is not None else None,
        base_url=str(base_url) if base_url is not None else None,
    )


def _read(words: list[str], known: dict[str, tuple[str, bool]],
          found: dict[str, str | bool]) -> bool:
    """Read ``words`` as options of ``known`` into ``found``; False at anything else."""
    index = 0
    while index < len(words):
        word = words[index]
        name, sep, inline = word.partition("=") if word.startswith("--") else (word, "", "")
        spec = known.get(name)
        if spec is None or spec[0] in found:
            return False
        field, valued = spec
        if not valued:
            if sep:
                return False
            found[field] = True
            index += 1
            continue
        if sep:
            value, index = inline, index + 1
        elif index + 1 < len(words):
            value, index = words[index + 1], index + 2
        else:
            return False
        if not value or value.startswith("-"):
            return False
        found[field] = value
    return True
