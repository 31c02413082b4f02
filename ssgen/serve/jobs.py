"""Rebuild jobs as serve reports them, retry backoff, deploys owed, route timers.

Owns ``RebuildResult`` (what a ``?wait=1`` caller and /api/status see), ``Submitted``
(a queued job), ``Backoff`` (exponential retry timing), ``DeployState`` (the files
owed to object storage since the last successful deploy, retried with backoff) and
``RouteTimers`` (time-based revalidation of routes with ``revalidate = N``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ssgen.build.change import Change
from ssgen.config.load import Config
from ssgen.errors import SsgenError
from ssgen.manifest.store import Manifest
from ssgen.serve.metrics import ServeMetrics

log = logging.getLogger("ssgen.serve")

MAX_BACKOFF = 300.0


@dataclass(frozen=True)
class RebuildResult:
    """What one rebuild round did, as reported to ``?wait=1`` callers and /api/status."""

    ok: bool
    changes: dict[str, list[str]]
    failures: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    summary: str = ""
    seconds: float = 0.0
    finished: float = 0.0
    # Seconds per stage of the round (the source's reload, then the build's stages), and
    # how long its last webhook waited for it (another round or the last one's settling).
    stages: dict[str, float] = field(default_factory=dict)
    queued: float = 0.0
    # The worker thread's CPU seconds in the round, and the process's page faults meanwhile
    # (minor, major): a slow round that worked, or one that waited for the CPU or the disk.
    cpu: float = 0.0
    faults: tuple[int, int] = (0, 0)

    def to_json(self) -> dict[str, Any]:
        """The JSON form used in replies and the status document."""
        return {
            "ok": self.ok, "changes": self.changes, "failures": self.failures,
            "error": self.error, "summary": self.summary, "seconds": round(self.seconds, 4),
            "finished": self.finished, "queued": round(self.queued, 4),
            "stages": {name: round(value, 4) for name, value in self.stages.items()},
            "cpu": round(self.cpu, 4),
            "faults": {"minor": self.faults[0], "major": self.faults[1]},
        }


@dataclass(frozen=True)
class Submitted:
    """A queued change: its job (queue) id, and whether the delivery key was seen before."""

    job: int
    duplicate: bool = False


@dataclass
class Backoff:
    attempts: int = 0
    due: float | None = None

    """Exponential retry timing: ``due`` is when to try again (None: nothing to retry)."""

    def schedule(self, now: float, base: float) -> float:
        """Schedule the next attempt; returns the delay."""
        delay: float = min(MAX_BACKOFF, base * 2.0 ** min(self.attempts, 30))
        self.attempts += 1
        self.due = now + delay
        return delay

    def clear(self) -> None:
        """Forget the failures (after a success)."""
        self.attempts, self.due = 0, None


@dataclass
class DeployState:
    """Changes owed to object storage, and how the last deploy went."""

    owed: dict[str, list[str]] | None = None
    retry: Backoff = field(default_factory=Backoff)
    last: str | None = None
    error: str | None = None
    deploys: int = 0
    traces: list[str] = field(default_factory=list)
    full: bool = False

    def owe(self, changes: Mapping[str, list[str]], traces: Sequence[str] = ()) -> None:
        """Add a rebuild's changes (and its webhooks' log ids) to what the next deploy carries."""
        self.traces.extend(traces)
        merged = self.owed or {"new": [], "changed": [], "deleted": []}
        for kind in ("new", "changed", "deleted"):
            merged[kind] = sorted(set(merged.get(kind, [])) | set(changes.get(kind, [])))
        self.owed = merged

    def owe_all(self) -> None:
        """A full deploy (the bucket is listed and diffed): after a takeover."""
        self.owe({})
        self.full = True

    def ready(self, now: float) -> bool:
        return self.retry.due is None or now >= self.retry.due

    def run(self, config: Config, now: float, base: float,
            metrics: ServeMetrics | None = None) -> None:
        """Deploy what is owed; the log names the webhooks' ids it carries."""
        from ssgen.deploy.sync import deploy_site

        started, traces = time.perf_counter(), list(self.traces)
        try:
            report = deploy_site(config, changes=None if self.full else self.owed)
        except SsgenError as exc:
            if metrics is not None:
                metrics.deployed(False, time.perf_counter() - started, purged=False)
            self.error = str(exc)
            delay = self.retry.schedule(now, base)
            log.error("deploy failed, retrying in %.1fs: %s", delay, exc,
                      extra={"event": "deploy_failed", "error": str(exc), "retry_in": delay,
                             "traces": traces})
            return
        self.owed, self.error, self.deploys, self.full = None, None, self.deploys + 1, False
        del self.traces[:len(traces)]
        if metrics is not None:
            purge = getattr(getattr(config, "deploy", None), "purge", None)
            metrics.deployed(True, time.perf_counter() - started, purged=purge is not None)
        self.retry.clear()
        self.last = report.summary()
        log.info("%s", self.last, extra={"event": "deploy", "traces": traces,
                                         "purged": getattr(report, "purged", 0)})

    def to_json(self, config: Config) -> dict[str, Any]:
        return {
            "configured": getattr(config, "deploy", None) is not None,
            "deploys": self.deploys,
            "last": self.last,
            "error": self.error,
            "owed": sum(len(v) for v in self.owed.values()) if self.owed else 0,
        }


def merge_entries(entries: list[tuple[int, Any]], reload_config: bool) -> tuple[Change, bool]:
    """One change (and whether to reload the config) from queue entries; an unreadable
    entry is logged and dropped."""
    change = Change()
    for job, payload in entries:
        try:
            change = change.merge(Change.from_json(payload["change"]))
            reload_config = reload_config or bool(payload.get("reload_config"))
        except (SsgenError, KeyError, TypeError) as exc:
            log.error("dropping unreadable queue entry %d: %s", job, exc,
                      extra={"event": "queue_error", "job": job})
    return change, reload_config


class RouteTimers:
    """Time-based revalidation: when each route with ``revalidate = N`` is next due."""

    def __init__(self, config: Config, now: float) -> None:
        self.periods = {r.name: float(r.revalidate) for r in config.routes if r.revalidate}
        self.next = {name: now + period for name, period in self.periods.items()}

    def due(self, now: float) -> bool:
        """True when some route is due."""
        return any(now >= when for when in self.next.values())

    def times(self) -> list[float]:
        """When each route is next due."""
        return list(self.next.values())

    def take(self, now: float) -> Change:
        """The ``route:<name>`` tags of the due routes (rescheduled), as a Change."""
        due = sorted(name for name, when in self.next.items() if now >= when)
        for name in due:
            self.next[name] = now + self.periods[name]
        if not due:
            return Change()
        return Change(tags=frozenset(f"route:{n}" for n in due),
                      reasons=tuple(f"revalidate route {n}" for n in due))


__all__ = ["MAX_BACKOFF", "Backoff", "DeployState", "RebuildResult", "RouteTimers", "Submitted",
           "merge_entries"]


def site_counts(manifest: Manifest) -> tuple[int, list[dict[str, str]]] | None:
    """The page count and failures /api/status shows (None: the manifest is unreadable)."""
    try:
        pages = manifest.page_count()
        failures = [{"path": f.path, "route": f.route, "error": f.error}
                    for f in manifest.failures()]
    except SsgenError as exc:
        log.warning("cannot read the manifest for status: %s", exc)
        return None
    return pages, failures
