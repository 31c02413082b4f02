"""``ssgen init``, ``ssgen inspect`` and ``ssgen pull``: start a site, read the manifest's
page graph, and snapshot a Sanity dataset for offline builds."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from ssgen.cli.common import Options, err_console, fail, load_site
from ssgen.errors import ConfigError, SsgenError


def init_command(
    directory: Annotated[
        Path, typer.Argument(metavar="FOLDER", help="Folder to create the site in.")
    ] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty folder.")] = False,
) -> None:
    """Create a new site with a small dataset, templates and styles."""
    scaffold = resources.files("ssgen.cli") / "scaffold"
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


def inspect_command(
    ctx: typer.Context,
    path: Annotated[
        str | None, typer.Argument(metavar="PATH", help="A page's URL path, e.g. /blog/hello/.")
    ] = None,
    tag: Annotated[
        str | None, typer.Option("--tag", "-t", metavar="TAG", help="List pages with this tag.")
    ] = None,
    doc: Annotated[
        str | None, typer.Option("--doc", metavar="ID", help="List the pages that show this "
                                 "document (what serve's /api/locations answers the Studio).")
    ] = None,
    routes: Annotated[bool, typer.Option(
        "--routes", help="Which queries serve keeps up to date per document, and why not.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a page's tags, template chain and hashes, a tag's pages, a document's pages, or
    (--routes) which route queries run maintained."""
    from ssgen.build.inspect import document_locations, inspect_page, inspect_tag

    options: Options = ctx.obj
    if routes:
        _inspect_routes(options, as_json)
        return
    if sum(given is not None for given in (path, tag, doc)) != 1:
        what = "only one" if path is not None or tag is not None or doc is not None else \
            "e.g. ssgen inspect /blog/, --tag posts or --doc <id>"
        err_console.print(f"[red]error:[/red] give a page PATH, --tag or --doc, {what}")
        raise typer.Exit(2)
    try:
        config = load_site(options)
        if doc is not None:
            info = document_locations(config, doc)
        else:
            info = inspect_page(config, path) if path is not None else \
                inspect_tag(config, tag or "")
    except SsgenError as exc:
        raise fail(exc) from exc
    if doc is not None and not as_json:
        for item in info["locations"]:
            print(f"{item['href']}\t{item['title']}")
        return
    if as_json:
        print(json.dumps({"format": INSPECT_FORMAT, **info}, indent=2, sort_keys=True))
        return
    print("\n".join(page_text(info) if path is not None else tag_text(info)))


def _inspect_routes(options: Options, as_json: bool) -> None:
    from ssgen.build.inspect import route_queries

    try:
        rows = route_queries(load_site(options))
    except SsgenError as exc:
        raise fail(exc) from exc
    if as_json:
        print(json.dumps({"format": INSPECT_FORMAT, "queries": rows}, indent=2, sort_keys=True))
        return
    for row in rows:
        state = "maintained" if row["maintained"] else f"in full: {row['reason']}"
        print(f"{row['route']:<16} {row['query']:<12} {state}")
        for sub in row["subqueries"]:
            state = "kept per outer document" if sub["maintained"] else \
                f"evaluated again with its item: {sub['reason']}"
            print(f"{'':<16} {'  ' + sub['name']:<12} {state}")


# The --json layout's version: keys are only ever added; a removal or rename bumps it.
INSPECT_FORMAT = 1


def page_text(info: dict[str, Any]) -> list[str]:
    """``ssgen inspect PATH`` as aligned, readable lines (no Python reprs)."""
    params = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}"
                       for k, v in sorted(info["params"].items()))
    rows = [
        ("route", info["route"]),
        ("file", info["file"]),
        ("template", info["template"]),
        ("templates", ", ".join(info["templates"]) or "-"),
        ("params", params or "-"),
        ("data hash", info["data_hash"]),
        ("output hash", info["output_hash"]),
        ("last error", info["last_error"] or "none (the last build of this page succeeded)"),
    ]
    lines = [info["path"], *(f"  {label:<12}{value}" for label, value in rows)]
    lines.append(f"  tags ({len(info['tags'])})")
    lines += [f"    {tag}" for tag in info["tags"]]
    return lines


def tag_text(info: dict[str, Any]) -> list[str]:
    """``ssgen inspect --tag TAG``: the pages, one a line, under a count."""
    pages = info["pages"]
    if not pages:
        return [f"no page has the tag {info['tag']}"]
    noun = "page has" if len(pages) == 1 else "pages have"
    return [f"{len(pages)} {noun} the tag {info['tag']}:", *(f"  {page}" for page in pages)]


def pull_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE",
                     help="NDJSON file to write (default: content/dataset.ndjson)."),
    ] = None,
) -> None:
    """Snapshot the Sanity dataset to NDJSON, to build and test offline with the local source.

    Uses \\[source] project_id / dataset (or SANITY_PROJECT_ID / SANITY_DATASET) and
    SANITY_API_TOKEN; drafts come along when the token can read them.
    """
    from ssgen.sources.pull import pull as run_pull

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
