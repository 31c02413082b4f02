"""``ssgen deploy``: the command-line face of ``ssgen.deploy.sync.deploy_site``.

Owns the command's options, the dry-run plan listing (stdout) and the summary (stderr).
``--endpoint-url``, ``--region`` and ``--profile`` (as the AWS CLI has them) win over the
``[deploy]`` keys, which win over boto3's environment (AWS_ENDPOINT_URL, AWS_REGION...).
``ssgen.cli.app`` registers ``deploy_command``; errors go through ``ssgen.cli.common.fail``
so exit codes match every other command (2 configuration, 1 upload or purge failure).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Any

import typer

from ssgen.errors import ConfigError, SsgenError


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
    endpoint_url: Annotated[str | None, typer.Option(
        "--endpoint-url", metavar="URL",
        help="S3-compatible endpoint (R2, MinIO...); default: endpoint_url in \\[deploy].")] = None,
    region: Annotated[str | None, typer.Option(
        "--region", metavar="REGION", help="Bucket region; default: region in \\[deploy].")] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", metavar="NAME",
        help="AWS credentials profile; default: profile in \\[deploy].")] = None,
) -> None:
    """Upload the built site to object storage (only what changed), then purge the CDN."""
    from ssgen.cli.common import fail
    from ssgen.config.load import load_config
    from ssgen.deploy.sync import deploy_site

    options = ctx.obj
    reporter = options.reporter()
    try:
        config = with_connection(load_config(options.site), endpoint_url, region, profile)
        report = deploy_site(config, target=target, delete=delete, dry_run=dry_run,
                             jobs=jobs, reporter=reporter)
    except SsgenError as exc:
        raise fail(exc) from exc
    if dry_run:
        _print_plan(report)
    reporter.info(report.summary())
    if report.purged:
        reporter.info(f"purged {report.purged} URLs")


def with_connection(config: Any, endpoint_url: str | None, region: str | None,
                    profile: str | None) -> Any:
    """``config`` with the command line's connection options over its ``[deploy]`` ones."""
    from ssgen.config.deploy import DeployConfig

    given = {"endpoint_url": endpoint_url, "region": region, "profile": profile}
    given = {key: value for key, value in given.items() if value is not None}
    if not given:
        return config
    if endpoint_url is not None and not re.match(r"https?://[^/]", endpoint_url):
        raise ConfigError(f"--endpoint-url {endpoint_url!r} must start with http:// or https://")
    deploy = dataclasses.replace(config.deploy or DeployConfig(), **given)
    return dataclasses.replace(config, deploy=deploy)
