"""The ``ssgen`` typer app: global options, the console entry point, and the commands that
the other ``ssgen.cli`` modules define, registered in the order ``--help`` lists them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ssgen import __version__
from ssgen.cli.argv import hoist_global_options
from ssgen.cli.build import build_command, query_command, revalidate_command
from ssgen.cli.check import check_command
from ssgen.cli.common import Options
from ssgen.cli.deploy import deploy_command
from ssgen.cli.help import PlainCommand, PlainGroup
from ssgen.cli.plain import exit_process
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


def main() -> None:
    """Run the command line on ``sys.argv`` (ends with ``SystemExit``)."""
    app(args=hoist_global_options(sys.argv[1:]))


def run() -> None:
    """The typer app on ``sys.argv``, then exit (see ``ssgen.cli.plain.exit_process``); the
    console entry point is ``ssgen.cli.entry.run``, which reads a plain build itself."""
    try:
        main()
        code: str | int | None = 0
    except SystemExit as exc:
        code = exc.code
    exit_process(code)


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
