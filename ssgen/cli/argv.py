"""The command line's words before typer sees them: global options written after the
command move before it (``hoist_global_options``), and a plain ``ssgen build`` or
``ssgen revalidate`` is recognised (``plain_command``) so the console entry point can run
it without importing typer, click and pydantic (about 0.15 s of CPU at every start).

``plain_command`` accepts only the spellings typer itself reads the same way: the global
``--site PATH``/``--site=PATH``/``-s PATH``, ``-q``/``--quiet``, ``-v``/``--verbose``, then
the command: ``build`` with ``--full``, ``--drafts``, ``--check``, ``--external``,
``-j N``/``--jobs N`` (``N`` a plain decimal of 1 or more), ``--changes FILE`` and
``--base-url URL``; or ``revalidate`` with at least one of ``--doc``/``-d ID``,
``--tag``/``-t TAG``, ``--path``/``-p PATH`` (each repeatable) and ``--changes FILE``.
Valued long options also take ``=``; every other option is given at most once. Anything
else (``--help``, ``--version``, grouped or attached short options, a value that is empty
or looks like an option, an unknown word) returns None and goes through typer, which
gives the help, the errors and their exit codes. tests/test_cli_plain.py holds the two
paths equal. Pure: no I/O.
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
    index = _command_index(args)
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


def _command_index(args: list[str]) -> int:
    """The index of the command word: the first word that is not a global option or the
    value of one (``len(args)`` when there is none)."""
    index = 0
    while index < len(args) and args[index].startswith("-"):
        index += 2 if args[index] in _GLOBAL_VALUED else 1
    return index


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
    check: bool = False
    external: bool = False


@dataclass(frozen=True)
class PlainRevalidate:
    """The options of a plain ``ssgen revalidate``, as the typer command would receive
    them (each repeatable option's values in the order given)."""

    site: Path = Path(".")
    verbosity: int = 1
    tags: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()
    changes: Path | None = None


# Option word -> (field, takes a value, repeatable). Short and long spellings share a field.
_Spec = dict[str, tuple[str, bool, bool]]
_GLOBAL: _Spec = {"-s": ("site", True, False), "--site": ("site", True, False),
                  "-q": ("quiet", False, False), "--quiet": ("quiet", False, False),
                  "-v": ("verbose", False, False), "--verbose": ("verbose", False, False)}
_BUILD: _Spec = {"--full": ("full", False, False), "--drafts": ("drafts", False, False),
                 "--check": ("check", False, False), "--external": ("external", False, False),
                 "-j": ("jobs", True, False), "--jobs": ("jobs", True, False),
                 "--changes": ("changes", True, False), "--base-url": ("base_url", True, False)}
_REVALIDATE: _Spec = {"-t": ("tags", True, True), "--tag": ("tags", True, True),
                      "-p": ("paths", True, True), "--path": ("paths", True, True),
                      "-d": ("docs", True, True), "--doc": ("docs", True, True),
                      "--changes": ("changes", True, False)}
_COMMANDS = {"build": _BUILD, "revalidate": _REVALIDATE}
_JOBS = re.compile(r"[1-9][0-9]{0,5}")
_Found = dict[str, "str | bool | list[str]"]


def plain_command(args: list[str]) -> PlainBuild | PlainRevalidate | None:
    """The options of ``args`` (already hoisted) when they are a plain ``build`` or
    ``revalidate``; else None."""
    command = _command_index(args)
    if command >= len(args) or args[command] not in _COMMANDS:
        return None
    name = args[command]
    found: _Found = {}
    if not _read(args[:command], _GLOBAL, found) or \
            not _read(args[command + 1 :], _COMMANDS[name], found):
        return None
    site = Path(str(found["site"])) if "site" in found else Path(".")
    verbosity = 0 if found.get("quiet") else (2 if found.get("verbose") else 1)
    changes = Path(str(found["changes"])) if "changes" in found else None
    if name == "revalidate":
        return _revalidate(found, site, verbosity, changes)
    jobs = found.get("jobs")
    if jobs is not None and not (isinstance(jobs, str) and _JOBS.fullmatch(jobs)):
        return None
    return PlainBuild(
        site=site, verbosity=verbosity, full=bool(found.get("full")),
        jobs=int(str(jobs)) if jobs is not None else None, drafts=bool(found.get("drafts")),
        changes=changes, base_url=str(found["base_url"]) if "base_url" in found else None,
        check=bool(found.get("check")), external=bool(found.get("external")),
    )


def _revalidate(found: _Found, site: Path, verbosity: int,
                changes: Path | None) -> PlainRevalidate | None:
    """The revalidate of ``found``; None without a tag, path or document (typer's error)."""
    tags, paths, docs = (tuple(_listed(found, key)) for key in ("tags", "paths", "docs"))
    if not (tags or paths or docs):
        return None
    return PlainRevalidate(site=site, verbosity=verbosity, tags=tags, paths=paths, docs=docs,
                           changes=changes)


def _listed(found: _Found, key: str) -> list[str]:
    value = found.get(key, [])
    return value if isinstance(value, list) else []


def plain_build(args: list[str]) -> PlainBuild | None:
    """``plain_command`` when it is a ``build``; else None."""
    request = plain_command(args)
    return request if isinstance(request, PlainBuild) else None


def _read(words: list[str], known: _Spec, found: _Found) -> bool:
    """Read ``words`` as options of ``known`` into ``found``; False at anything else."""
    index = 0
    while index < len(words):
        word = words[index]
        name, sep, inline = word.partition("=") if word.startswith("--") else (word, "", "")
        spec = known.get(name)
        if spec is None:
            return False
        field, valued, repeatable = spec
        if field in found and not repeatable:
            return False
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
        if repeatable:
            values = found.setdefault(field, [])
            assert isinstance(values, list)
            values.append(value)
        else:
            found[field] = value
    return True
