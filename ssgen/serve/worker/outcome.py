"""What a finished rebuild round reports: its ``RebuildResult``, the failure text for
/api/status, and its log line (``rebuild``, ``rebuild_failures`` or ``rebuild_failed``)."""

from __future__ import annotations

import logging
import resource
import time
from typing import Any

from ssgen.build.report import BuildReport, group_failures
from ssgen.serve.jobs import RebuildResult

log = logging.getLogger("ssgen.serve")


Usage = tuple[float, int, int]  # the worker thread's CPU seconds, the process's faults


def usage_now() -> Usage:
    """This thread's CPU time and the process's (minor, major) page faults so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return time.thread_time(), ru.ru_minflt, ru.ru_majflt


def round_result(report: BuildReport, started: float, *, load: float = 0.0,
                 queued: float = 0.0, usage: Usage | None = None) -> RebuildResult:
    """The result of a round whose build returned ``report`` (``started``: perf_counter;
    ``load``: the source's reload before the build; ``queued``: how long its last
    webhook waited for it; ``usage``: ``usage_now()`` at its start)."""
    failures = [{"path": f.path, "route": f.route, "error": f.message, "kind": f.kind}
                for f in report.failures]
    cpu, faults = 0.0, (0, 0)
    if usage is not None:
        (cpu_now, minor, major), (cpu_then, minor_then, major_then) = usage_now(), usage
        cpu, faults = cpu_now - cpu_then, (minor - minor_then, major - major_then)
    return RebuildResult(report.ok, report.changes(), failures, None, report.summary(),
                         time.perf_counter() - started, time.time(),
                         {"reload": load, **report.stages}, queued, cpu, faults)


def failure_text(report: BuildReport) -> str | None:
    """The page failures of ``report`` grouped for /api/status (None: none)."""
    groups = group_failures(report.failures)[:20]
    return "\n".join(g.describe() for g in groups) or None


def log_failures(result: RebuildResult, text: str | None) -> None:
    """The pages that kept their last good version, if any."""
    if result.failures:
        log.error("rebuild kept the last good version of %d page(s): %s",
                  len(result.failures), text,
                  extra={"event": "rebuild_failures", "failures": result.failures})


def log_rebuilt(report: BuildReport, result: RebuildResult, jobs: int, carried: list[str],
                load_seconds: float) -> None:
    """The round's summary line."""
    changes = result.changes
    log.info("%s", report.summary(), extra={
        "event": "rebuild", "jobs": jobs, "traces": carried, "seconds": result.seconds,
        "load_seconds": load_seconds, "build_seconds": report.seconds,
        "new": len(changes["new"]), "changed": len(changes["changed"]),
        "deleted": len(changes["deleted"]), "failures": len(result.failures),
        "planned": report.planned, "kept": report.kept})


def log_failed(message: str, delay: float, carried: list[str], jobs: int,
               started: float) -> None:
    """A round whose build raised: it is retried in ``delay`` seconds."""
    fields: dict[str, Any] = {"event": "rebuild_failed", "error": message, "traces": carried,
                              "retry_in": delay, "jobs": jobs,
                              "seconds": time.perf_counter() - started}
    log.error("rebuild failed, retrying in %.1fs: %s", delay, message, extra=fields)


__all__ = ["failure_text", "log_failed", "log_failures", "log_rebuilt", "round_result"]
