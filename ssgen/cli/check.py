"""``ssgen check`` and the ``--check``/``--external`` options of ``ssgen build``: each
broken link with its file, attribute, link, reason and template line, then a summary
(``ssgen.cli.summary.print_links``); exit 1 if any."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ssgen.cli.common import Options, err_console, fail, interrupted, load_site
from ssgen.cli.summary import print_links
from ssgen.errors import SsgenError

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
        from ssgen.build.pipeline import settle_quick

        settle_quick(config)  # pages quick builds wrote: their links recorded first
        report = check_site(config, link_options(config, external=external or None))
    except SsgenError as exc:
        raise fail(exc) from exc
    except KeyboardInterrupt:
        raise interrupted() from None
    print_links(options, report)
    if not report.ok:
        raise typer.Exit(1)

