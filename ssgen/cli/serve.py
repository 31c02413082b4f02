"""The ``ssgen serve`` command: options, logging, and running the app under uvicorn.

Owns ``serve_command`` (registered by ``ssgen.cli.app``) and the text/JSON log formats.
uvicorn's signal handling gives the graceful shutdown: on SIGINT/SIGTERM it stops
accepting, then the app's lifespan stops the watcher and waits for the rebuild worker
to finish the round in progress.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ssgen.errors import ConfigError, SsgenError

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(log_format: str, verbosity: int) -> None:
    """Send ssgen.serve logs to stderr as text or JSON."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("ssgen.serve")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO if verbosity >= 1 else logging.WARNING)
    logger.propagate = False
    access = logging.getLogger("ssgen.serve.access")
    access.setLevel(logging.INFO if verbosity >= 2 or log_format == "json" else logging.WARNING)


def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", metavar="HOST",
                                      help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, metavar="PORT",
                                      help="TCP port, 0 to 65535.")] = 8000,
    revalidate_secret: Annotated[
        str | None,
        typer.Option("--revalidate-secret", envvar="SSGEN_REVALIDATE_SECRET", metavar="SECRET",
                     help="Secret that webhooks must carry.", show_default=False),
    ] = None,
    dev: Annotated[bool, typer.Option("--dev", help="Local development: live reload, "
                                      "no secret required.")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Rebuild when site files change.")]
    = False,
    settle_ms: Annotated[int, typer.Option("--settle-ms", min=0, metavar="MS",
                                           help="Wait this long to merge a burst.")] = 50,
    replay_window: Annotated[float, typer.Option("--replay-window", min=1.0, metavar="SECONDS",
                                                 help="Max age of a signed webhook, 1 s or more.")]
    = 300.0,
    max_body: Annotated[int, typer.Option("--max-body", min=1, metavar="BYTES",
                                          help="Largest accepted webhook body (bytes).")]
    = 1024 * 1024,
    cache_control: Annotated[str, typer.Option("--cache-control", metavar="VALUE",
                                               help="Cache-Control for served files.")]
    = "public, max-age=0, must-revalidate",
    log_format: Annotated[str, typer.Option("--log-format", metavar="FORMAT",
                                          help="text or json.")] = "text",
    listen: Annotated[bool, typer.Option(
        "--listen", help="Sanity source: also rebuild on Listen API events (for VMs that "
        "webhooks cannot reach).")] = False,
) -> None:
    """Serve the site and rebuild the pages a webhook (or, with --watch, an edit) touches."""
    from ssgen.cli.common import Options, err_console

    options: Options = ctx.obj
    try:
        if log_format not in ("text", "json"):
            raise ConfigError(f"--log-format must be text or json, not {log_format!r}")
        if not revalidate_secret and not dev:
            raise ConfigError("serve needs a webhook secret: pass --revalidate-secret or set "
                              "SSGEN_REVALIDATE_SECRET (or use --dev for local development)")
        setup_logging(log_format, options.verbosity)
        server = _server(options.site, host, port, revalidate_secret or None, dev, watch,
                         settle_ms / 1000.0, replay_window, max_body, cache_control, listen)
    except SsgenError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(exc.exit_code) from exc
    err_console.print(f"ssgen serve: http://{host}:{port}/", highlight=False)
    server.run()


def _server(site: Path, host: str, port: int, secret: str | None, dev: bool, watch: bool,
            settle: float, replay_window: float, max_body: int, cache_control: str,
            listen: bool = False) -> Any:
    import uvicorn

    from ssgen.config.load import load_config
    from ssgen.serve.app import ServeSettings, Service, create_app
    from ssgen.serve.livereload import LiveReload
    from ssgen.serve.watch import Watcher
    from ssgen.serve.worker import RebuildWorker
    from ssgen.sources import open_source

    config = load_config(site)
    source = open_source(config, kept=True)
    worker = RebuildWorker(config, settle=settle, source=source)
    services: list[Service] = []
    if watch:
        services.append(Watcher(config, worker, source.watched_paths()))
    if listen:
        services.append(_listen_bridge(source, worker))
    settings = ServeSettings(secret=secret, dev=dev, replay_window=replay_window,
                             max_body=max_body, cache_control=cache_control)
    app = create_app(worker, settings, livereload=LiveReload() if dev else None,
                     services=services)
    uv_config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                               lifespan="on", timeout_graceful_shutdown=30)
    return uvicorn.Server(uv_config)


def _listen_bridge(source: Any, worker: Any) -> Any:
    from ssgen.serve.listen import ListenBridge

    if not hasattr(source, "listen"):
        raise ConfigError('--listen needs [source] type = "sanity" (the Listen API is Sanity\'s)')
    return ListenBridge(lambda on_event: source.listen("*", on_event), worker)


__all__ = ["JsonFormatter", "serve_command", "setup_logging"]
