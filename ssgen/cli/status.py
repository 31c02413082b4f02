"""The ``ssgen status`` command: the site's publishing state for cron checks and alerts."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from ssgen.cli.common import Options, fail, load_site
from ssgen.errors import SsgenError


def status_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    max_queue_age: Annotated[float, typer.Option(
        "--max-queue-age", min=0.0, metavar="SECONDS",
        help="Unhealthy when a queued change is older than this.")] = 600.0,
) -> None:
    """Queue depth, last successful rebuild and failing pages; exit 1 when unhealthy."""
    from ssgen.build.status import describe, site_status

    options: Options = ctx.obj
    now = time.time()
    try:
        status = site_status(load_site(options), now, max_queue_age)
    except SsgenError as exc:
        raise fail(exc) from exc
    if as_json:
        print(json.dumps(status, indent=2, sort_keys=True))
    else:
        print("\n".join(describe(status, now)))
    if not status["healthy"]:
        raise typer.Exit(1)
