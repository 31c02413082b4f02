"""Prometheus metrics of ``ssgen serve`` (``GET /metrics``) and the round observer behind them.

Owns ``ServeMetrics``: one registry per app (tests run several apps in one process), the
webhook counters (received, accepted, refused by reason), the rebuild and deploy
histograms, pages rendered/written/failed, the time of the last successful rebuild, the
queue gauges (read from the shared queue at scrape time, so every replica reports the
same depth) and the freshness lag stage by stage: the publish time is the ``t`` of the
signed webhook (or the request's arrival), and each queued change carries it through
the queue, so the replica that builds and deploys it observes the lag even when another
replica accepted it. Stages: ``disk`` (page written), ``deployed`` (uploaded to the
bucket), ``purged`` (the CDN purge hooks returned).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ssgen.build.report import BuildReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)
_BUILD_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)
_T_FIELD = re.compile(r"(?:^|,)\s*t=(\d{10,16})\s*(?:,|$)")
QueueStats = Callable[[], tuple[int, float | None]]  # (depth, created time of the oldest)


def signed_publish_time(signature: str | None) -> float | None:
    """The ``t`` (epoch milliseconds) of a ``sanity-webhook-signature`` header, in seconds."""
    if not signature:
        return None
    match = _T_FIELD.search(signature)
    return int(match.group(1)) / 1000.0 if match else None


def refusal_reason(status: int) -> str:
    """A bounded label for a refused webhook's HTTP status."""
    return {400: "bad_request", 401: "unauthorized", 405: "method", 413: "too_large",
            503: "queue_unavailable"}.get(status, f"http_{status}")


class _QueueCollector(Collector):
    """Queue depth and the age of the oldest entry, read when Prometheus scrapes."""

    def __init__(self, stats: Callable[[], QueueStats | None]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        reader = self._stats()
        depth, oldest = reader() if reader is not None else (0, None)
        yield GaugeMetricFamily("ssgen_queue_depth", "Changes accepted and not yet rebuilt.",
                                value=depth)
        age = max(0.0, time.time() - oldest) if oldest is not None else 0.0
        yield GaugeMetricFamily("ssgen_queue_oldest_age_seconds",
                                "Age of the oldest queued change (0 when empty).", value=age)


class ServeMetrics:
    """The registry and instruments of one serve app; thread-safe (prometheus-client is)."""

    def __init__(self, queue_stats: QueueStats | None = None) -> None:
        r = self.registry = CollectorRegistry()
        self.queue_stats = queue_stats
        self.received = Counter("ssgen_webhooks_received", "Webhook requests received.",
                                registry=r)
        self.accepted = Counter("ssgen_webhooks_accepted", "Webhooks queued (2xx).",
                                registry=r)
        self.refused = Counter("ssgen_webhooks_refused", "Webhooks refused, by reason.",
                               ["reason"], registry=r)
        self.rebuilds = Counter("ssgen_rebuilds", "Rebuild rounds, by outcome.", ["outcome"],
                                registry=r)
        self.rebuild_seconds = Histogram("ssgen_rebuild_duration_seconds",
                                         "Rebuild round duration.", buckets=_BUILD_BUCKETS,
                                         registry=r)
        self.rendered = Counter("ssgen_pages_rendered", "Pages rendered.", registry=r)
        self.written = Counter("ssgen_pages_written", "Pages whose bytes changed on disk.",
                               registry=r)
        self.failed = Counter("ssgen_page_failures", "Page renders that failed.", registry=r)
        self.last_success = Gauge("ssgen_last_successful_rebuild_timestamp_seconds",
                                  "Unix time of the last rebuild without failures.",
                                  registry=r)
        self.deploys = Counter("ssgen_deploys", "Deploys, by outcome.", ["outcome"],
                               registry=r)
        self.deploy_seconds = Histogram("ssgen_deploy_duration_seconds", "Deploy duration.",
                                        buckets=_BUILD_BUCKETS, registry=r)
        self.lag = Histogram("ssgen_freshness_lag_seconds",
                             "Publish time (signed webhook t) to the stage.", ["stage"],
                             buckets=_LAG_BUCKETS, registry=r)
        self.leader = Gauge("ssgen_builder", "1 while this replica is the builder.", registry=r)
        r.register(_QueueCollector(lambda: self.queue_stats))
        self._owed: list[float] = []  # publish times built but not yet deployed
        self._lock = threading.Lock()

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)

    # -- the worker's round observer --------------------------------------------

    def rebuilt(self, report: BuildReport | None, seconds: float,
                published: Iterable[float], deploying: bool) -> None:
        """A round ended (``report`` None: it failed as a whole)."""
        self.rebuild_seconds.observe(seconds)
        if report is None:
            self.rebuilds.labels("error").inc()
            return
        self.rebuilds.labels("ok" if report.ok else "failures").inc()
        self.rendered.inc(report.rendered)
        self.written.inc(report.written)
        self.failed.inc(len(report.failures))
        now = time.time()
        if report.ok:
            self.last_success.set(now)
        times = list(published)
        for when in times:
            self.lag.labels("disk").observe(max(0.0, now - when))
        if deploying:
            with self._lock:
                self._owed.extend(times)

    def deployed(self, ok: bool, seconds: float, purged: bool) -> None:
        """A deploy attempt ended; a successful one settles the lag of what it carried."""
        self.deploys.labels("ok" if ok else "error").inc()
        self.deploy_seconds.observe(seconds)
        if not ok:
            return
        now = time.time()
        with self._lock:
            owed, self._owed = self._owed, []
        for when in owed:
            self.lag.labels("deployed").observe(max(0.0, now - when))
            if purged:
                self.lag.labels("purged").observe(max(0.0, now - when))


def publish_times(payloads: Iterable[Mapping[str, Any]]) -> list[float]:
    """The publish times carried by queue payloads (entries without one are skipped)."""
    found = []
    for payload in payloads:
        when = payload.get("published") if isinstance(payload, Mapping) else None
        if isinstance(when, int | float):
            found.append(float(when))
    return found


def traces(payloads: Iterable[Mapping[str, Any]]) -> list[str]:
    """The log ids carried by queue payloads."""
    return [str(p["trace"]) for p in payloads if isinstance(p, Mapping) and p.get("trace")]


__all__ = ["CONTENT_TYPE", "ServeMetrics", "publish_times", "refusal_reason",
           "signed_publish_time", "traces"]
