"""What the commands print and the exit codes it maps to, without typer: the stderr console,
the global ``Options``, an error's message, Ctrl-C, a build's summary and its broken links.
``ssgen.cli.common`` wraps these into typer exits; the plain path of ``ssgen.cli.entry`` uses
them as they are. rich is imported only when something is printed.

Exit codes: 0 ok, 1 build or content error, 2 usage or configuration error, 130 interrupted.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ssgen.build.progress import Reporter
from ssgen.build.report import BuildReport, group_failures
from ssgen.errors import GroqSyntaxError, SsgenError
from ssgen.fastclass import dataclass

if TYPE_CHECKING:
    from rich.console import Console

    from ssgen.links import LinkReport

INTERRUPTED = 130
_SHOWN = 50  # broken links listed without -v


@functools.cache
def err_console() -> Console:
    """The stderr console every command prints through (made on first use)."""
    from rich.console import Console

    # Messages stay whole lines: greppable, and a caret stays under its column.
    return Console(stderr=True, soft_wrap=True)


def escape(text: str) -> str:
    """``text`` with rich markup escaped."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


@dataclass
class Options:
    """Options shared by every command."""

    site: Path
    verbosity: int

    def reporter(self) -> Reporter:
        """A reporter on stderr at the chosen verbosity."""
        return Reporter(err_console() if self.verbosity >= 1 else None, self.verbosity)


def report_error(exc: SsgenError) -> int:
    """Print an ssgen error (a GROQ one with its caret); the exit code it maps to."""
    message = exc.render() if isinstance(exc, GroqSyntaxError) else str(exc)
    # Escaped: messages name TOML tables ("[deploy]") that rich would eat as markup.
    # Not wrapped: a caret under a GROQ query must stay under its column.
    err_console().print(
        f"[red]error:[/red] {escape(message)}", highlight=False, markup=True, soft_wrap=True
    )
    return exc.exit_code


def report_interrupted() -> int:
    """Say that Ctrl-C left no partial page; the exit code 130."""
    err_console().print(
        "interrupted: every file written is complete (no partial pages); "
        "run the command again to finish the build",
        highlight=False,
        soft_wrap=True,
    )
    return INTERRUPTED


def report_build(options: Options, report: BuildReport, changes: Path | None) -> int:
    """Print failures and the summary, write ``--changes``; the exit code (1 on failures)."""
    shown = None if options.verbosity >= 2 else 2
    for group in group_failures(report.failures):
        err_console().print(
            f"[red]failed:[/red] {escape(group.describe(shown))}", highlight=False,
            soft_wrap=True,
        )
    if changes is not None:
        try:
            changes.write_text(json.dumps(report.changes(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            err_console().print(
                f"[red]error:[/red] --changes {escape(str(changes))}: cannot write it "
                f"({escape(exc.strerror or str(exc))}); the build itself finished",
                highlight=False,
                soft_wrap=True,
            )
            return 1
    if options.verbosity >= 2:
        if report.reason:
            err_console().print(f"full build because: {escape(report.reason)}", highlight=False)
        err_console().print(f"stages: {report.timings()}", highlight=False)
    if options.verbosity >= 1 or not report.ok:
        err_console().print(report.summary(), highlight=False, soft_wrap=True)
    return 0 if report.ok else 1


def print_links(options: Options, report: LinkReport) -> None:
    """Print the broken links (all with -v, else the first 50) and the summary."""
    shown = report.broken if options.verbosity >= 2 else report.broken[:_SHOWN]
    for broken in shown:
        err_console().print(f"[red]broken link:[/red] {escape(broken.line())}",
                            highlight=False, soft_wrap=True)
    if len(shown) < len(report.broken):
        err_console().print(f"... and {len(report.broken) - len(shown)} more (-v lists all)",
                            highlight=False)
    if options.verbosity >= 1 or not report.ok:
        err_console().print(report.summary(), highlight=False, soft_wrap=True)
