"""When the worker's next round is due: pure decisions over the clock and its timers.

``rounds.RebuildWorker`` holds the state (its backoffs, route timers, last arrivals) and
asks these; nothing here blocks or reads the clock itself.
"""

from __future__ import annotations

from ssgen.serve.jobs import Backoff, DeployState, RouteTimers


def retry_dues(retry: Backoff, deploy: DeployState) -> list[float]:
    """The times a failed build's and a failed deploy's retries are due."""
    return [due for due in (retry.due, deploy.retry.due) if due is not None]


def is_due(now: float, dirty: bool, dues: list[float], timers: RouteTimers) -> bool:
    """Whether a round should run now: new work, a retry due, or a route's timer."""
    return dirty or any(now >= due for due in dues) or timers.due(now)


def sleep_for(now: float, dues: list[float], timers: RouteTimers) -> float | None:
    """How long the worker may sleep before a retry or timer is due (None: until woken)."""
    times = dues + timers.times()
    return None if not times else max(0.0, min(times) - now)


def retry_in(now: float, retry: Backoff, deploy: DeployState) -> float | None:
    """Seconds until the next retry, for the status document."""
    due = retry.due if retry.due is not None else deploy.retry.due
    return None if due is None else max(0.0, round(due - now, 3))


def is_burst(settle: float, waiting: int, arrivals: tuple[float, float]) -> bool:
    """True when several changes wait and the last two came within the settle window
    of each other. A lone webhook is built at once; in a burst, the settle window (and
    the rebuild in progress) lets the rest arrive and be merged into one round. One
    waiting change is no burst, however soon after the last it came: a client that
    sends the next webhook when the last one's ``?wait=1`` reply came would otherwise
    wait out the window on every webhook once rounds take less than it."""
    return settle > 0 and waiting > 1 and arrivals[1] - arrivals[0] < settle


__all__ = ["is_burst", "is_due", "retry_dues", "retry_in", "sleep_for"]
