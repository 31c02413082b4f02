"""``ssgen check`` and the link report of ``ssgen build --check``: each broken link with
its file, attribute, link, reason and template line, then a summary; exit 1 if any."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ssgen.cli.common import Options, err_console, fail, interrupted, load_site
from ssgen.errors import SsgenError
from ssgen.links import LinkReport

CheckOption = Annotated[
    bool,
    typer.Option("--check", help="Then check every internal link, src, srcset and #fragment "
                                 "of the output (incremental after a checked build); "
                                 "exit 1 if one is broken."),
]
ExternalOption = Annotated[
    bool,
    typer.Option("--external",
                 help="Also look up off-site links over HTTP (as \\[check] external = true "
                      "does); results are cached for \\[check] external_ttl seconds."),
]
_SHOWN = 50  # broken links listed without -v


def check_command(ctx: typer.Context, external: ExternalOption = False) -> None:
    """Check the links of the built output; exit 1 if one is broken.

    Checks every internal href, src, srcset and #fragment in the HTML output.
    With --external (or \\[check] external = true), off-site URLs too.
    `ssgen build --check` does the same after a build, incrementally.
    """
    from ssgen.build.linkcheck import check_site, link_options

    options: Options = ctx.obj
    try:
        config = load_site(options)
        if not config.output_dir.is_dir():
            err_console.print(f"[red]error:[/red] no output in {escape(str(config.output_dir))}"
                              ": run `ssgen build` first", highlight=False, soft_wrap=True)
            raise typer.Exit(1)
        report = check_site(config, link_options(config, external=external or None))
    except SsgenError as exc:
        raise fail(exc) from exc
    except KeyboardInterrupt:
        raise interrupted() from None
    print_links(options, report)
    if not report.ok:
        raise typer.Exit(1)


def print_links(options: Options, report: LinkReport) -> None:
    """Print the broken links (all with -v, else the first 50) and the summary."""
    shown = report.broken if options.verbosity >= 2 else report.broken[:_SHOWN]
    for broken in shown:
        err_console.print(f"[red]broken link:[/red] {escape(broken.line())}", highlight=False,
                          soft_wrap=True)
    if len(shown) < len(report.broken):
        err_console.print(f"... and {len(report.broken) - len(shown)} more (-v lists all)",
                          highlight=False)
    if options.verbosity >= 1 or not report.ok:
        err_console.print(report.summary(), highlight=False, soft_wrap=True)
