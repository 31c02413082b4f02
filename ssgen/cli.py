"""The ``ssgen`` command line: parses options, calls the library, maps errors to exit codes.

Exit codes: 0 ok, 1 build or content error, 2 usage or configuration error.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

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


def _fail(exc: SsgenError) -> typer.Exit:
    message = exc.render() if isinstance(exc, GroqSyntaxError) else str(exc)
    # Escaped: messages name TOML tables ("[deploy]") that rich would eat as markup.
    # Not wrapped: a caret under a GROQ query must stay under its column.
    err_console.print(
        f"[red]error:[/red] {escape(message)}", highlight=False, markup=True, soft_wrap=True
    )
    return typer.Exit(exc.exit_code)


def _interrupted() -> typer.Exit:
    err_console.print(
        "interrupted: every file written is complete (no partial pages); "
        "run the command again to finish the build",
        highlight=False,
        soft_wrap=True,
    )
    return typer.Exit(130)


def _load(options: Options) -> Any:
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
    changes: Annotated[
        Path | None,
        typer.Option("--changes", help="Write the new, changed and deleted files as JSON here."),
    ] = None,
) -> None:
    """Build the site into the output folder (incremental when a manifest exists)."""
    from ssgen.build import build as run_build

    options: Options = ctx.obj
    reporter = options.reporter()
    try:
        config = _load(options)
        report = run_build(config, full=full, jobs=jobs, drafts=drafts, reporter=reporter)
    except SsgenError as exc:
        raise _fail(exc) from exc
    except KeyboardInterrupt:
        raise _interrupted() from None
    _finish(options, report, changes)


def _finish(options: Options, report: BuildReport, changes: Path | None) -> None:
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
        config = _load(options)
        result = open_source(config, drafts=drafts).query(parse(groq), params).value
    except SsgenError as exc:
        if "missing query parameter" in str(exc):
            exc.args = (f"{exc}: pass it as -p name=JSON, e.g. -p slug='\"hello\"'",)
        raise _fail(exc) from exc
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







@app.command()
def revalidate(
    ctx: typer.Context,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Rebuild pages with this tag.")
    ] = None,
    path: Annotated[
        list[str] | None, typer.Option("--path", "-p", help="Re-render this URL path.")
    ] = None,
    doc: Annotated[
        list[str] | None, typer.Option("--doc", "-d", help="A document _id that changed.")
    ] = None,
    changes: Annotated[
        Path | None,
        typer.Option("--changes", help="Write the new, changed and deleted files as JSON here."),
    ] = None,
) -> None:
    """Rebuild only what the given tags, paths and documents reach."""
    from ssgen.build import build as run_build
    from ssgen.change import Change, DocChange
    from ssgen.inspect import document_types

    options: Options = ctx.obj
    if not (tag or path or doc):
        err_console.print("[red]error:[/red] give at least one --tag, --path or --doc")
        raise typer.Exit(2)
    try:
        config = _load(options)
        types = document_types(config, doc or [])
        change = Change(
            documents=tuple(DocChange(d, types.get(d)) for d in doc or []),
            tags=frozenset(tag or []),
            paths=frozenset(path or []),
            reasons=("revalidate",),
        )
        _warn_unreached(config, path or [], tag or [])
        report = run_build(config, change=change, reporter=options.reporter())
    except SsgenError as exc:
        raise _fail(exc) from exc
    except KeyboardInterrupt:
        raise _interrupted() from None
    _finish(options, report, changes)


def _warn_unreached(config: Any, paths: list[str], tags: list[str]) -> None:
    """Say which --path / --tag matches no page of the last build (a typo does nothing)."""
    from ssgen.inspect import inspect_page, inspect_tag

    def known(page: str) -> bool:
        try:
            inspect_page(config, page)
        except SsgenError:
            return False
        return True

    for page in paths:
        if not known(page):
            err_console.print(
                f"[yellow]warning:[/yellow] no page {escape(page)} in the last build "
                "(see `ssgen inspect --tag route:<name>` for a route's pages)",
                highlight=False,
                soft_wrap=True,
            )
    for name in tags:
        with contextlib.suppress(SsgenError):
            if not inspect_tag(config, name).get("pages"):
                err_console.print(
                    f"[yellow]warning:[/yellow] no page has the tag {escape(name)}",
                    highlight=False,
                    soft_wrap=True,
                )


@app.command()
def inspect(
    ctx: typer.Context,
    path: Annotated[
        str | None, typer.Argument(help="A page's URL path, e.g. /blog/hello/.")
    ] = None,
    tag: Annotated[
        str | None, typer.Option("--tag", "-t", help="List pages with this tag.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a page's tags, template chain and hashes, or the pages that depend on a tag."""
    from ssgen.inspect import inspect_page, inspect_tag

    options: Options = ctx.obj
    if (path is None) == (tag is None):
        what = "not both" if path is not None else "e.g. ssgen inspect /blog/ or --tag posts"
        err_console.print(f"[red]error:[/red] give a page PATH or --tag, {what}")
        raise typer.Exit(2)
    try:
        config = _load(options)
        info = inspect_page(config, path) if path is not None else inspect_tag(config, tag or "")
    except SsgenError as exc:
        raise _fail(exc) from exc
    if as_json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return
    console = Console()
    for key, value in info.items():
        if isinstance(value, list):
            console.print(f"[bold]{key}[/bold] ({len(value)})")
            for item in value:
                console.print(f"  {item}", highlight=False)
        else:
            console.print(f"[bold]{key}[/bold]: {value}", highlight=False)


@app.command()
def pull(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="NDJSON file to write (default: content/dataset.ndjson)."),
    ] = None,
) -> None:
    """Snapshot the Sanity dataset to NDJSON, to build and test offline with the local source.

    Uses \\[source] project_id / dataset (or SANITY_PROJECT_ID / SANITY_DATASET) and
    SANITY_API_TOKEN; drafts come along when the token can read them.
    """
    from ssgen.pull import pull as run_pull

    options: Options = ctx.obj
    try:
        config = _load(options)
        if not (config.source.project_id and config.source.dataset):
            raise ConfigError(
                "source.project_id and source.dataset are needed to pull "
                "(or set SANITY_PROJECT_ID and SANITY_DATASET)"
            )
        target = out or config.content_dir / "dataset.ndjson"
        count = run_pull(config, target)
    except SsgenError as exc:
        raise _fail(exc) from exc
    err_console.print(f"pulled {count} documents into {target}", highlight=False)


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
    """Console-script entry point."""
    app(args=hoist_global_options(sys.argv[1:]))


# Commands that live in their own packages register last, so `ssgen --help` lists them.
from ssgen.deploy_cli import deploy_command  # noqa: E402
from ssgen.serve.cli import serve_command  # noqa: E402

app.command(name="serve")(serve_command)
app.command(name="deploy")(deploy_command)
