"""The rebuild worker's book of jobs: queued, in flight or done, and who waits on them.

Callers hold the worker's lock (``RebuildWorker._cond``) around every call; the book
only keeps the sets straight.
"""

from __future__ import annotations

from collections import OrderedDict
from concurrent.futures import Future

from ssgen.serve.jobs import RebuildResult

_KEEP_RESULTS = 10_000


class JobBook:
    """Queue ids by state, the futures of ``?wait=1`` callers and recent results."""

    def __init__(self, pending: set[int], highest: int) -> None:
        self.pending = pending | {highest}
        # Queue ids only grow; a start-up entry (the initial round) tells a repeated
        # delivery key (an id not above it) apart from new work after a restart.
        self.highest = highest
        self.inflight: set[int] = set()
        self._futures: dict[int, Future[RebuildResult]] = {}
        self._results: OrderedDict[int, RebuildResult] = OrderedDict()

    def add(self, job: int) -> bool:
        """Record a newly queued job; False when it is a repeated delivery."""
        if job <= self.highest:
            return False
        self.highest = job
        self.pending.add(job)
        return True

    def depth(self) -> int:
        """Jobs not yet acknowledged: queued or being built."""
        return len(self.pending) + len(self.inflight)

    def start(self, ids: list[int]) -> None:
        """``ids`` go into a round."""
        self.inflight.update(ids)
        self.pending.difference_update(ids)

    def requeue(self, ids: list[int]) -> None:
        """A failed round: ``ids`` wait for the retry."""
        self.inflight.difference_update(ids)
        self.pending.update(ids)

    def finish(self, ids: list[int]) -> None:
        """``ids`` were acknowledged in the queue."""
        self.inflight.difference_update(ids)

    def waiter(self, job: int) -> Future[RebuildResult] | RebuildResult | None:
        """A future for a job still to build, its result when built, or None (unknown)."""
        result = self._results.get(job)
        if result is None and (job in self.pending or job in self.inflight):
            found = self._futures.get(job)
            if found is None or found.cancelled():  # an earlier waiter gave up
                found = self._futures[job] = Future()
            return found
        return result

    def resolve(self, ids: list[int], result: RebuildResult) -> None:
        """``ids`` were built: keep ``result`` for them and wake their waiters."""
        for job in ids:
            self._results[job] = result
            future = self._futures.pop(job, None)
            # A waiter that timed out cancelled its future (?wait=1 past wait_timeout):
            # setting it would raise and kill this thread.
            if future is not None and not future.cancelled():
                future.set_result(result)
        while len(self._results) > _KEEP_RESULTS:
            self._results.popitem(last=False)


__all__ = ["JobBook"]
