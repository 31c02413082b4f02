"""The ``ssgen serve`` command: options, logging, and running the app under uvicorn.

Owns ``serve_command`` (registered by ``ssgen.cli.app``) and the text/JSON log formats.
uvicorn's signal handling gives the graceful shutdown: on SIGINT/SIGTERM it stops
accepting, then the app's lifespan stops the watcher and waits for the rebuild worker
to finish the round in progress; a stop that shut down cleanly exits 0 (systemd counts
it a success). The port is bound before anything is loaded or built: a busy port is a
usage error (exit 2), not a build followed by uvicorn's ``[Errno 98]``.
"""

from __future__ import annotations

import errno
import json
import logging
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Annotated, Any, TextIO

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


class StderrHandler(logging.StreamHandler[TextIO]):
    """A stream handler bound to whatever ``sys.stderr`` is when a record is emitted.

    Binding the stream once kept a closed one alive when ``sys.stderr`` was swapped (test
    runners, embedding), and every later record failed with "I/O operation on closed file".
    """

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging(log_format: str, verbosity: int) -> None:
    """Send ssgen.serve logs to stderr as text or JSON."""
    handler = StderrHandler()
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
    base_url: Annotated[str | None, typer.Option(
        "--base-url", metavar="URL",
        help="Use this instead of \\[site] base_url (e.g. http://localhost:8000).")] = None,
    metrics_token: Annotated[str | None, typer.Option(
        "--metrics-token", envvar="SSGEN_METRICS_TOKEN", metavar="TOKEN", show_default=False,
        help="Bearer token GET /metrics requires (default: open).")] = None,
    allow_weak_secret: Annotated[bool, typer.Option(
        "--allow-weak-secret", help="Accept a secret under 16 non-whitespace characters.")]
    = False,
    preview_secret: Annotated[str | None, typer.Option(
        "--preview-secret", envvar="SSGEN_PREVIEW_SECRET", show_default=False, metavar="SECRET",
        help="Enable draft preview (/api/preview?secret=...) and /api/locations.")] = None,
    studio_origin: Annotated[str | None, typer.Option(
        "--studio-origin", metavar="URL", help="The Sanity Studio's origin, allowed by CORS on "
        "/api/locations.")] = None,
    locations_token: Annotated[str | None, typer.Option(
        "--locations-token", envvar="SSGEN_LOCATIONS_TOKEN", show_default=False, metavar="TOKEN",
        help="A token good for /api/locations only (the Studio's locations resolver).")]
    = None,
) -> None:
    """Serve the site and rebuild the pages a webhook (or, with --watch, an edit) touches."""
    from ssgen.cli.common import Options, err_console
    from ssgen.serve.policy import check_secret, dev_exposure_warning

    options: Options = ctx.obj
    try:
        if log_format not in ("text", "json"):
            raise ConfigError(f"--log-format must be text or json, not {log_format!r}")
        secret = check_secret(revalidate_secret, dev=dev, allow_weak=allow_weak_secret)
        setup_logging(log_format, options.verbosity)
        sock = bind_port(host, port)
        server = _server(options.site, host, port, secret, dev, watch,
                         settle_ms / 1000.0, replay_window, max_body, cache_control, listen,
                         (preview_secret or None, studio_origin, locations_token or None),
                         base_url=base_url, metrics_token=metrics_token or None)
    except SsgenError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(exc.exit_code) from exc
    warning = dev_exposure_warning(host, dev)
    if warning:
        err_console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    bound = sock.getsockname()[1]
    err_console.print(f"ssgen serve: http://{host}:{bound}/", highlight=False)
    run_until_stopped(server, sock)


def bind_port(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``; a busy or forbidden port is a ConfigError."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host!r}: not an address of this machine ({exc})") from exc
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use (another ssgen serve?): "
                              "stop that process or pass --port with a free port") from exc
        if exc.errno == errno.EACCES:
            raise ConfigError(f"port {port} needs more privileges: pass --port 1024 or "
                              "higher, or put a reverse proxy in front") from exc
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def run_until_stopped(server: Any, sock: socket.socket) -> None:
    """Run uvicorn on ``sock`` and return (exit 0) after a SIGINT or SIGTERM shutdown;
    the process then ends without freeing its heap (``leave_heap_for_exit``).

    uvicorn re-raises the signal once it has shut down gracefully, which would end the
    process with 130 or by SIGTERM; the handler installed around it takes that re-raise
    (and a signal that comes before uvicorn's own handlers) as a request to stop."""

    def stop(signum: int, frame: object) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        # uvicorn binds the checked address itself: serving on the pre-bound socket
        # left /api/status unanswered while a rebuild ran (test_serve_crash).
        server.config.port = sock.getsockname()[1]
        sock.close()
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    from ssgen.cli.plain import leave_heap_for_exit

    leave_heap_for_exit()  # the worker stopped and saved: nothing left needs the heap


def _server(site: Path, host: str, port: int, secret: str | None, dev: bool, watch: bool,
            settle: float, replay_window: float, max_body: int, cache_control: str,
            listen: bool = False,
            studio: tuple[str | None, str | None, str | None] = (None, None, None),
            base_url: str | None = None, metrics_token: str | None = None) -> Any:
    import uvicorn

    from ssgen.config.load import load_config
    from ssgen.serve.app import ServeSettings, Service, create_app
    from ssgen.serve.limits import uvicorn_config
    from ssgen.serve.livereload import LiveReload
    from ssgen.serve.preview import preview_setup
    from ssgen.serve.watch import Watcher
    from ssgen.serve.worker import RebuildWorker
    from ssgen.serve.worker.opening import open_kept

    config = load_config(site, base_url=base_url)
    source = open_kept(config)
    worker = RebuildWorker(config, settle=settle, source=source)
    if config.state_url is not None:
        from ssgen.serve.leader import Leadership

        worker.leader = Leadership(config.state_url)
    services: list[Service] = []
    if watch:
        services.append(Watcher(config, worker, source.watched_paths()))
    if listen:
        services.append(_listen_bridge(source, worker))
    settings = ServeSettings(secret=secret, dev=dev, replay_window=replay_window,
                             max_body=max_body, cache_control=cache_control,
                             metrics_token=metrics_token)
    preview, routes = preview_setup(config, worker, *studio)
    app = create_app(worker, settings, livereload=LiveReload() if dev else None,
                     services=services, preview=preview, extra_routes=routes)
    return uvicorn.Server(uvicorn_config(app, host=host, port=port))


def _listen_bridge(source: Any, worker: Any) -> Any:
    from ssgen.serve.listen import ListenBridge

    if not hasattr(source, "listen"):
        raise ConfigError('--listen needs [source] type = "sanity" (the Listen API is Sanity\'s)')
    return ListenBridge(lambda on_event: source.listen("*", on_event), worker)


__all__ = ["JsonFormatter", "bind_port", "run_until_stopped", "serve_command", "setup_logging"]
