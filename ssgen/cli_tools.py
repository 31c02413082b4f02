"""``ssgen revalidate``, ``ssgen inspect`` and ``ssgen pull``: the commands around a build.

``revalidate`` rebuilds what given tags, paths and documents reach; ``inspect`` reads the
manifest's page graph; ``pull`` snapshots a Sanity dataset for offline builds. They share
the main CLI's options, error mapping and summary (``ssgen.cli``).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from ssgen.cli import ChangesOption, Options, err_console, fail, finish, interrupted, load_site
from ssgen.errors import ConfigError, SsgenError


def revalidate_command(
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
    changes: ChangesOption = None,
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
        config = load_site(options)
        types = document_types(config, doc or [])
        change = Change(
            documents=tuple(DocChange(d, types.get(d)) for d in doc or []),
            tags=frozenset(tag or []),
            paths=frozenset(path or []),
            reasons=("revalidate",),
        )
        _warn_unreached(config, path or [], tag or [])
        report = run_build(config, change=change, reporter=options.reporter(), release=False)
    except SsgenError as exc:
        raise fail(exc) from exc
    except KeyboardInterrupt:
        raise interrupted() from None
    finish(options, report, changes)


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


def inspect_command(
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
        config = load_site(options)
        info = inspect_page(config, path) if path is not None else inspect_tag(config, tag or "")
    except SsgenError as exc:
        raise fail(exc) from exc
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


def pull_command(
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
        config = load_site(options)
        if not (config.source.project_id and config.source.dataset):
            raise ConfigError(
                "source.project_id and source.dataset are needed to pull "
                "(or set SANITY_PROJECT_ID and SANITY_DATASET)"
            )
        target = out or config.content_dir / "dataset.ndjson"
        count = run_pull(config, target)
    except SsgenError as exc:
        raise fail(exc) from exc
    err_console.print(f"pulled {count} documents into {target}", highlight=False)
