"""``ssgen deploy``: the command-line face of ``ssgen.deploy.sync.deploy_site``.

Owns the command's options, the dry-run plan listing (stdout) and the summary (stderr).
``ssgen.cli.app`` registers ``deploy_command``; errors go through ``ssgen.cli.common.fail``
so exit codes match every other command (2 configuration, 1 upload or purge failure).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ssgen.errors import SsgenError


def _print_plan(report: Any) -> None:
    new, changed = set(report.new), set(report.changed)
    for rel in report.uploaded:
        mark = "+" if rel in new else "~" if rel in changed else " "
        typer.echo(f"{mark} {rel}")
    for rel in report.deleted:
        typer.echo(f"- {rel}")


def deploy_command(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(metavar="TARGET",
                       help="s3://bucket/prefix (default: target in \\[deploy] of ssgen.toml)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Print the plan; change nothing.")
    ] = False,
    delete: Annotated[
        bool | None,
        typer.Option("--delete/--no-delete",
                     help="Remove remote files that no longer exist locally "
                          "(default: delete in \\[deploy])."),
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, max=64, metavar="N",
                     help="Parallel uploads, 1 to 64.")
    ] = None,
) -> None:
    """Upload the built site to object storage (only what changed), then purge the CDN."""
    from ssgen.cli.common import fail
    from ssgen.config.load import load_config
    from ssgen.deploy.sync import deploy_site

    options = ctx.obj
    reporter = options.reporter()
    try:
        config = load_config(options.site)
        report = deploy_site(config, target=target, delete=delete, dry_run=dry_run,
                             jobs=jobs, reporter=reporter)
    except SsgenError as exc:
        raise fail(exc) from exc
    if dry_run:
        _print_plan(report)
    reporter.info(report.summary())
    if report.purged:
        reporter.info(f"purged {report.purged} URLs")
