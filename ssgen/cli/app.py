"""The ``ssgen`` typer app: global options, the console entry point, and the commands that
the other ``ssgen.cli`` modules define, registered in the order ``--help`` lists them."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ssgen import __version__
from ssgen.cli.build import build_command, query_command, revalidate_command
from ssgen.cli.check import check_command
from ssgen.cli.common import Options
from ssgen.cli.deploy import deploy_command
from ssgen.cli.help import PlainCommand, PlainGroup
from ssgen.cli.serve import serve_command
from ssgen.cli.site_files import clean_command, new_command
from ssgen.cli.status import status_command
from ssgen.cli.tools import init_command, inspect_command, pull_command

app = typer.Typer(
    name="ssgen",
    cls=PlainGroup,
    help=(
        "A static site generator for Sanity content. `ssgen build` renders the site from "
        "GROQ queries; `ssgen serve` rebuilds only the pages a CMS change touched."
    ),
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"ssgen {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    site: Annotated[
        Path,
        typer.Option("--site", "-s", metavar="PATH", help="The site folder (holds ssgen.toml)."),
    ] = Path("."),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show more detail.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only show errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options."""
    ctx.obj = Options(site=site, verbosity=0 if quiet else (2 if verbose else 1))


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


def main() -> None:
    """Run the command line on ``sys.argv`` (ends with ``SystemExit``)."""
    app(args=hoist_global_options(sys.argv[1:]))


def run() -> None:
    """Console-script entry point (``ssgen``, ``python -m ssgen``): ``main``, then, when a
    build left its dataset for the process's exit, ``os._exit`` without freeing it.
    Only this entry exits that way: ``main`` called in-process returns to its caller."""
    from ssgen.build.pipeline import left_for_exit

    try:
        main()
        code: str | int | None = 0
    except SystemExit as exc:
        code = exc.code
    if left_for_exit():
        _exit_now(code)
    sys.exit(code)


def _exit_now(code: object) -> NoReturn:
    """Exit without freeing the dataset a build left behind (0.25 s at 20k documents):
    the output and the manifest are closed already; only the streams need flushing."""
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code or 0)


# Commands, in the order ``ssgen --help`` lists them.
app.command(name="build", cls=PlainCommand)(build_command)
app.command(name="check", cls=PlainCommand)(check_command)
app.command(name="query", cls=PlainCommand)(query_command)
app.command(name="init", cls=PlainCommand)(init_command)
app.command(name="new", cls=PlainCommand)(new_command)
app.command(name="revalidate", cls=PlainCommand)(revalidate_command)
app.command(name="inspect", cls=PlainCommand)(inspect_command)
app.command(name="pull", cls=PlainCommand)(pull_command)
app.command(name="serve", cls=PlainCommand)(serve_command)
app.command(name="deploy", cls=PlainCommand)(deploy_command)
app.command(name="status", cls=PlainCommand)(status_command)
app.command(name="clean", cls=PlainCommand)(clean_command)
