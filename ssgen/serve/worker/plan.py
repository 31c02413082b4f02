"""Planning a rebuild round: what the queue, the route timers and a pending retry ask for.

Owns ``RoundPlan`` (the queue ids a round takes, their payloads, the merged ``Change``
and whether the config is reloaded first) and ``plan_round``, which reads the durable
queue and adds routes whose ``revalidate`` period ran out and, during a retry, the pages
whose last render failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ssgen.build.change import Change
from ssgen.manifest.store import Manifest
from ssgen.serve.jobs import RouteTimers, merge_entries


@dataclass(frozen=True)
class RoundPlan:
    """One round's work: queue ids, their payloads, the merged change, config reload."""

    ids: list[int]
    payloads: list[Any]
    change: Change
    reload_config: bool


def plan_round(manifest: Manifest, timers: RouteTimers, now: float, *,
               reload_config: bool, retrying: bool) -> RoundPlan:
    """Everything pending in ``manifest``'s queue merged with the due route timers (and
    the failed pages when ``retrying``); ``reload_config`` carries an earlier reload that
    has not loaded yet."""
    entries = manifest.pending()
    change, reload = merge_entries(entries, reload_config)
    change = change.merge(timers.take(now))
    if retrying:
        change = change.merge(failed_pages(manifest))
    return RoundPlan([job for job, _ in entries], [payload for _, payload in entries],
                     change, reload)


def failed_pages(manifest: Manifest) -> Change:
    """Pages whose last render failed, forced to render again (a retry, or a fix)."""
    paths = frozenset(f.path for f in manifest.failures() if f.route)
    return Change(paths=paths, reasons=("retry failed pages",)) if paths else Change()


__all__ = ["RoundPlan", "failed_pages", "plan_round"]
