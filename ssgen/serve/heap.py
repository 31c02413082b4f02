"""The server's heap: the loaded dataset stays frozen, out of the collector's way.

A long-running server's heap is mostly its loaded dataset: a full collection walks all
of it (1.6 s at 20k documents) and stalls any webhook that arrives meanwhile. So the
heap is frozen (``gc.freeze``) around each build, the pass after a build sees only what
that build allocated, and the full collection waits until the server has been idle.

Even idle, a full collection holds the worker (~1.1 s at 10k documents, ten times that at
100k) and a webhook arriving meanwhile waits for it. What it can free is only cyclic
garbage among frozen objects (acyclic ones are freed by their reference counts, frozen or
not), which grows the frozen heap: so an idle collection runs only once the frozen heap
has grown by a quarter since the last one, CPython's own rule for its full collections
(``long_lived_pending > long_lived_total / 4``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GROWTH = 0.25  # of the frozen heap since the last full collection, before the next


class FrozenHeap:
    """When the collector may run, for one rebuild worker."""

    def __init__(self) -> None:
        self.owed = False  # builds ran since the last full collection
        self.collections = 0
        self._settle = False  # a build's allocations are still to collect
        self._collected_at = 0  # the frozen heap's size after the last full collection

    @contextmanager
    def building(self, *, settle: bool = True) -> Iterator[None]:
        """Around a build: freeze first, so build()'s own collection before it freezes
        the heap for its render workers costs O(new objects), not O(dataset); after it,
        collect what the build allocated (its cyclic garbage included, a few ms) and
        freeze the survivors with the rest, at once or (``settle=False``) when the
        caller calls ``settle``. Cycles among older objects wait for ``collect_idle``."""
        gc.freeze()
        try:
            yield
        finally:
            self._settle = self.owed = True
            if settle:
                self.settle()

    def settle(self) -> None:
        """Collect what the builds since the last call allocated, and freeze the rest
        (serve: after the round's waiting replies went out, not before them)."""
        if self._settle:
            gc.collect()
            gc.freeze()
            self._settle = False

    def collect_idle(self) -> bool:
        """A full collection while idle, then the heap is frozen again, if the frozen heap
        grew by ``GROWTH`` since the last one; whether it ran."""
        self.owed = False
        if gc.get_freeze_count() <= self._collected_at * (1 + GROWTH):
            return False
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._collected_at = gc.get_freeze_count()
        self.collections += 1
        return True

    def release(self) -> None:
        """Hand the heap back to the collector (the worker stops)."""
        gc.unfreeze()
