"""The ``ssgen`` command line: parses options, calls the library, maps errors to exit codes.

Exit codes: 0 ok, 1 build or content error, 2 usage or configuration error.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

from ssgen import __version__
from ssgen.errors import ConfigError, GroqSyntaxError, SsgenError
from ssgen.progress import Reporter
from ssgen.reporting import BuildReport

app = typer.Typer(
    name="ssgen",
    help=(
        "A static site generator for Sanity content. `ssgen build` renders the site from "
        "GROQ queries; `ssgen serve` rebuilds only the pages a CMS change touched."
    ),
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Messages stay whole lines: greppable, and a caret stays under its column.
err_console = Console(stderr=True, soft_wrap=True)


ChangesOption = Annotated[
    Path | None,
    typer.Option("--changes", help="Write the new, changed and deleted files as JSON here."),
]


@dataclass
class Options:
    """Options shared by every command."""

    site: Path
    verbosity: int

    def reporter(self) -> Reporter:
        """A reporter on stderr at the chosen verbosity."""
        return Reporter(err_console, self.verbosity)


def _version(value: bool) -> None:
    if value:
        print(f"ssgen {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    site: Annotated[
        Path, typer.Option("--site", "-s", help="The site folder (holds ssgen.toml).")
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


def fail(exc: SsgenError) -> typer.Exit:
    """Print an ssgen error (a GROQ one with its caret) and the exit it maps to."""
    message = exc.render() if isinstance(exc, GroqSyntaxError) else str(exc)
    # Escaped: messages name TOML tables ("[deploy]") that rich would eat as markup.
    # Not wrapped: a caret under a GROQ query must stay under its column.
    err_console.print(
        f"[red]error:[/red] {escape(message)}", highlight=False, markup=True, soft_wrap=True
    )
    return typer.Exit(exc.exit_code)


def interrupted() -> typer.Exit:
    """Say that Ctrl-C left no partial page, and exit 130."""
    err_console.print(
        "interrupted: every file written is complete (no partial pages); "
        "run the command again to finish the build",
        highlight=False,
        soft_wrap=True,
    )
    return typer.Exit(130)


def load_site(options: Options) -> Any:
    """The ``Config`` of the ``--site`` folder."""
    from ssgen.config import load_config

    return load_config(options.site)


@app.command()
def build(
    ctx: typer.Context,
    full: Annotated[
        bool, typer.Option("--full", help="Ignore the manifest: clean full build.")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Render processes (default: all cores)."),
    ] = None,
    drafts: Annotated[
        bool, typer.Option("--drafts", help="Include drafts, overlaid on published documents.")
    ] = False,
    changes: ChangesOption = None,
) -> None:
    """Build the site into the output folder (incremental when a manifest exists)."""
    from ssgen.build import build as run_build

    options: Options = ctx.obj
    reporter = options.reporter()
    try:
        config = load_site(options)
        report = run_build(config, full=full, jobs=jobs, drafts=drafts, reporter=reporter,
                           release=False)
    except SsgenError as exc:
        raise fail(exc) from exc
    except KeyboardInterrupt:
        raise interrupted() from None
    finish(options, report, changes)


def finish(options: Options, report: BuildReport, changes: Path | None) -> None:
    """Print failures and the summary, write ``--changes``, exit 1 on failures."""
    for failure in report.failures:
        err_console.print(
            f"[red]failed:[/red] {escape(f'{failure.path} (route {failure.route}): ')}"
            f"{escape(failure.message)}",
            highlight=False,
            soft_wrap=True,
        )
    if changes is not None:
        try:
            changes.write_text(json.dumps(report.changes(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            err_console.print(
                f"[red]error:[/red] --changes {escape(str(changes))}: cannot write it "
                f"({escape(exc.strerror or str(exc))}); the build itself finished",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from exc
    if options.verbosity >= 1 or not report.ok:
        err_console.print(report.summary(), highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def query(
    ctx: typer.Context,
    groq: Annotated[
        str, typer.Argument(help="The GROQ query, e.g. '*[_type == \"post\"]{title}'.")
    ],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="A query parameter as name=JSON (repeatable)."),
    ] = None,
    drafts: Annotated[bool, typer.Option("--drafts", help="Include drafts.")] = False,
) -> None:
    """Run a GROQ query against the site's source and print the JSON result."""
    from ssgen.groq import parse
    from ssgen.sources import open_source

    options: Options = ctx.obj
    try:
        params = _parse_params(param or [])
        config = load_site(options)
        result = open_source(config, drafts=drafts).query(parse(groq), params).value
    except SsgenError as exc:
        if "missing query parameter" in str(exc):
            exc.args = (f"{exc}: pass it as -p name=JSON, e.g. -p slug='\"hello\"'",)
        raise fail(exc) from exc
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if sys.stdout.isatty():
        Console().print(Syntax(text, "json", background_color="default"))
    else:
        print(text)


def _parse_params(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param {item!r}: expected name=JSON, e.g. slug='\"hello\"'")
        try:
            params[name] = json.loads(raw)
        except json.JSONDecodeError:
            params[name] = raw  # a bare word is taken as a string, as users expect
    return params


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the site in.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty folder.")] = False,
) -> None:
    """Create a new site with a small dataset, templates and styles."""
    scaffold = resources.files("ssgen") / "scaffold"
    if directory.exists() and not directory.is_dir():
        err_console.print(f"[red]error:[/red] {directory} is a file; choose a new folder name")
        raise typer.Exit(2)
    if directory.exists() and any(directory.iterdir()) and not force:
        err_console.print(
            f"[red]error:[/red] {directory} is not empty; choose a new folder or pass --force"
        )
        raise typer.Exit(2)
    try:
        with resources.as_file(scaffold) as source:
            shutil.copytree(source, directory, dirs_exist_ok=True)
    except OSError as exc:
        err_console.print(f"[red]error:[/red] cannot create the site in {directory}: {exc}")
        raise typer.Exit(1) from exc
    err_console.print(f"Created a site in {directory}. Next: cd {directory} && ssgen build")







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
    from ssgen.build import left_for_exit

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


# Commands that live in their own modules register last, so `ssgen --help` lists them.
from ssgen.cli_tools import inspect_command, pull_command, revalidate_command  # noqa: E402
from ssgen.deploy_cli import deploy_command  # noqa: E402
from ssgen.serve.cli import serve_command  # noqa: E402

app.command(name="revalidate")(revalidate_command)
app.command(name="inspect")(inspect_command)
app.command(name="pull")(pull_command)
app.command(name="serve")(serve_command)
app.command(name="deploy")(deploy_command)
