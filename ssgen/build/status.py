"""``ssgen status``: the state a cron check or an alert needs, read from the manifest.

Owns ``site_status(config, now, max_queue_age)``: queue depth and the age of its oldest
change, the time of the last successful rebuild (meta ``last_success``, written by
serve's worker and by ``ssgen build``), failing pages, the page count, the builder
(meta ``builder``, with PostgreSQL state) and ``healthy`` with the reasons it is not.
"""

from __future__ import annotations

from typing import Any

from ssgen.build.inspect import open_existing
from ssgen.config.load import Config

LAST_SUCCESS = "last_success"


def site_status(config: Config, now: float, max_queue_age: float) -> dict[str, Any]:
    """The status document (``healthy`` False when a change waits too long or pages fail)."""
    with open_existing(config) as manifest:
        depth, oldest = manifest.queue_stats()
        last = manifest.get_meta(LAST_SUCCESS)
        failures = manifest.failures()
        pages = manifest.page_count()
        builder = manifest.get_meta("builder")
    age = max(0.0, now - oldest) if oldest is not None else 0.0
    problems = []
    if depth and age > max_queue_age:
        problems.append(f"the oldest queued change is {age:.0f}s old (limit {max_queue_age:g}s)")
    if failures:
        problems.append(f"{len(failures)} page(s) failing")
    return {
        "version": 1,
        "healthy": not problems,
        "problems": problems,
        "queue_depth": depth,
        "queue_oldest_age_seconds": round(age, 3),
        "last_success": float(last) if last else None,
        "pages": pages,
        "failures": [{"path": f.path, "route": f.route, "error": f.error} for f in failures],
        "builder": builder,
    }


def describe(status: dict[str, Any], now: float) -> list[str]:
    """The status as readable lines."""
    last = status["last_success"]
    since = f"{now - last:.0f}s ago" if last else "never"
    lines = [
        f"{'healthy' if status['healthy'] else 'UNHEALTHY'}",
        f"queue: {status['queue_depth']} change(s), oldest "
        f"{status['queue_oldest_age_seconds']:.0f}s",
        f"last successful rebuild: {since}",
        f"pages: {status['pages']}, failing: {len(status['failures'])}",
    ]
    if status["builder"]:
        lines.append(f"builder: {status['builder']}")
    lines += [f"problem: {p}" for p in status["problems"]]
    return lines
