"""``ssgen build``, ``ssgen revalidate`` and ``ssgen query``: build the site, rebuild what
given tags, paths and documents reach, and ask the site's source a GROQ query."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

from ssgen.cli.check import CheckOption, ExternalOption
from ssgen.cli.common import (
    BaseUrlOption,
    ChangesOption,
    Options,
    err_console,
    fail,
    load_site,
)
from ssgen.cli.plain import build_site, revalidate_site
from ssgen.cli.summary import print_links
from ssgen.errors import ConfigError, SsgenError


def build_command(
    ctx: typer.Context,
    full: Annotated[
        bool, typer.Option("--full", help="Ignore the manifest: clean full build. It leaves "
                           "no quick plan for the next build of Markdown edits (a plain "
                           "`ssgen build` does).")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, metavar="N",
                     help="Render processes, 1 or more (default: all cores)."),
    ] = None,
    drafts: Annotated[
        bool, typer.Option("--drafts", help="Include drafts, overlaid on published documents.")
    ] = False,
    changes: ChangesOption = None,
    base_url: BaseUrlOption = None,
    check: CheckOption = False,
    external: ExternalOption = False,
) -> None:
    """Build the site into the output folder (incremental when a manifest exists)."""
    code = build_site(ctx.obj, full=full, jobs=jobs, drafts=drafts, changes=changes,
                      base_url=base_url, check=check, external=external, show_links=print_links)
    if code:
        raise typer.Exit(code)


def revalidate_command(
    ctx: typer.Context,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", metavar="TAG", help="Rebuild pages with this tag."),
    ] = None,
    path: Annotated[
        list[str] | None,
        typer.Option("--path", "-p", metavar="PATH", help="Re-render this URL path."),
    ] = None,
    doc: Annotated[
        list[str] | None,
        typer.Option("--doc", "-d", metavar="ID", help="A document _id that changed."),
    ] = None,
    changes: ChangesOption = None,
) -> None:
    """Rebuild only what the given tags, paths and documents reach."""
    if not (tag or path or doc):
        err_console.print("[red]error:[/red] give at least one --tag, --path or --doc")
        raise typer.Exit(2)
    code = revalidate_site(ctx.obj, tags=tuple(tag or ()), paths=tuple(path or ()),
                           docs=tuple(doc or ()), changes=changes)
    if code:
        raise typer.Exit(code)


def query_command(
    ctx: typer.Context,
    groq: Annotated[
        str, typer.Argument(metavar="QUERY",
                       help="The GROQ query, e.g. '*[_type == \"post\"]{title}'.")
    ],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", metavar="NAME=JSON",
                     help="A query parameter as name=JSON (repeatable)."),
    ] = None,
    drafts: Annotated[bool, typer.Option("--drafts", help="Include drafts.")] = False,
) -> None:
    """Run a GROQ query against the site's source and print the JSON result."""
    from ssgen.groq import parse
    from ssgen.groq.evaluate import parameters
    from ssgen.sources import open_source

    options: Options = ctx.obj
    try:
        params = _parse_params(param or [])
        query = parse(groq)
        missing = sorted(parameters(query) - params.keys())
        if missing:  # a usage mistake, exit 2 as from `build` (see config.params)
            names = ", ".join(f"${name}" for name in missing)
            raise ConfigError(f"missing query parameter {names}: pass it as -p name=JSON, "
                              "e.g. -p slug='\"hello\"'")
        config = load_site(options)
        source = open_source(config, drafts=drafts)
        for _, message in getattr(source, "faults", list)():  # left out, as the build does
            err_console.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False,
                              soft_wrap=True)
        result = source.query(query, params).value
    except SsgenError as exc:
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
