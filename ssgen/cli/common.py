"""What every command shares: the ``Options`` of the global flags, the one error -> exit-code
mapping (``fail``), Ctrl-C handling, loading the site, and the build summary. The printing
itself lives in ``ssgen.cli.summary`` (typer-free, for the plain-build path); these wrap
its exit codes into typer exits.

Exit codes: 0 ok, 1 build or content error, 2 usage or configuration error, 130 interrupted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ssgen.build.report import BuildReport
from ssgen.cli.summary import (
    Options,
    report_build,
    report_error,
    report_interrupted,
)
from ssgen.cli.summary import err_console as _err_console
from ssgen.errors import SsgenError

err_console = _err_console()

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


def fail(exc: SsgenError) -> typer.Exit:
    """Print an ssgen error (a GROQ one with its caret) and the exit it maps to."""
    return typer.Exit(report_error(exc))


def interrupted() -> typer.Exit:
    """Say that Ctrl-C left no partial page, and exit 130."""
    return typer.Exit(report_interrupted())


def load_site(options: Options, base_url: str | None = None) -> Any:
    """The ``Config`` of the ``--site`` folder (``base_url``: ``--base-url``)."""
    from ssgen.config.load import load_config

    return load_config(options.site, base_url=base_url)


def finish(options: Options, report: BuildReport, changes: Path | None) -> None:
    """Print failures and the summary, write ``--changes``, exit 1 on failures."""
    code = report_build(options, report, changes)
    if code:
        raise typer.Exit(code)


__all__ = ["BaseUrlOption", "ChangesOption", "Options", "err_console", "fail", "finish",
           "interrupted", "load_site"]
