"""What every command shares: the ``Options`` of the global flags, the one error -> exit-code
mapping (``fail``), Ctrl-C handling, loading the site, and the build summary.

Exit codes: 0 ok, 1 build or content error, 2 usage or configuration error, 130 interrupted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from ssgen.build.progress import Reporter
from ssgen.build.report import BuildReport, group_failures
from ssgen.errors import GroqSyntaxError, SsgenError

# Messages stay whole lines: greppable, and a caret stays under its column.
err_console = Console(stderr=True, soft_wrap=True)

ChangesOption = Annotated[
    Path | None,
    typer.Option("--changes", metavar="FILE",
                 help="Write the new, changed and deleted files as JSON here."),
]

BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", metavar="URL",
                 help="Use this instead of \\[site] base_url (preview builds)."),
]


@dataclass
class Options:
    """Options shared by every command."""

    site: Path
    verbosity: int

    def reporter(self) -> Reporter:
        """A reporter on stderr at the chosen verbosity."""
        return Reporter(err_console, self.verbosity)

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


def load_site(options: Options, base_url: str | None = None) -> Any:
    """The ``Config`` of the ``--site`` folder (``base_url``: ``--base-url``)."""
    from ssgen.config.load import load_config

    return load_config(options.site, base_url=base_url)

def finish(options: Options, report: BuildReport, changes: Path | None) -> None:
    """Print failures and the summary, write ``--changes``, exit 1 on failures."""
    shown = None if options.verbosity >= 2 else 2
    for group in group_failures(report.failures):
        err_console.print(
            f"[red]failed:[/red] {escape(group.describe(shown))}", highlight=False, soft_wrap=True
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
    if options.verbosity >= 2:
        if report.reason:
            err_console.print(f"full build because: {escape(report.reason)}", highlight=False)
        err_console.print(f"stages: {report.timings()}", highlight=False)
    if options.verbosity >= 1 or not report.ok:
        err_console.print(report.summary(), highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)
