"""Replayed Sanity webhooks: the same signed bytes twice are one delivery.

A Sanity signature covers ``t`` and the raw body and is valid only inside the replay
window, so remembering the signatures accepted during the window is enough to answer a
replay (same bytes, whatever its unsigned headers say: a new ``idempotency-key``, a
far-future ``sanity-transaction-time``) with the first delivery's job. Once its window
has passed, the signature itself is refused, so the entry can go.

This is no ordering state: it only merges identical deliveries and never keeps a new
delivery of a document out. Each accepted delivery is rebuilt against the source's
current data, so the order in which deliveries arrive cannot change the output.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MAX_REMEMBERED = 100_000  # bounds memory under a flood of genuine deliveries


class ReplayGuard:
    """Signatures accepted in the last ``2 * window`` seconds -> their job id."""

    def __init__(self, window: float, *, clock: Callable[[], float] = time.monotonic,
                 limit: int = MAX_REMEMBERED) -> None:
        self.keep = 2 * window  # a signature is valid up to ``window`` either side of t
        self.limit = limit
        self._clock = clock
        self._jobs: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def job_of(self, signed: str | None) -> int | None:
        """The job of an earlier delivery with the same signature, if one is remembered."""
        self._expire()
        if signed is None:
            return None
        entry = self._jobs.get(signed)
        return None if entry is None else entry[1]

    def remember(self, signed: str | None, job: int) -> None:
        """Record that the delivery signed ``signed`` became ``job``."""
        if signed is None:
            return
        self._jobs[signed] = (self._clock() + self.keep, job)
        self._jobs.move_to_end(signed)
        while len(self._jobs) > self.limit:
            self._jobs.popitem(last=False)

    def _expire(self) -> None:
        now = self._clock()
        while self._jobs:
            signed, (until, _) = next(iter(self._jobs.items()))
            if until > now:
                return
            del self._jobs[signed]

    def __len__(self) -> int:
        return len(self._jobs)


__all__ = ["MAX_REMEMBERED", "ReplayGuard"]
