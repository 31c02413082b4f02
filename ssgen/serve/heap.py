"""The server's heap: the loaded dataset stays frozen, out of the collector's way.

A long-running server's heap is mostly its loaded dataset: a full collection walks all
of it (1.6 s at 20k documents) and stalls any webhook that arrives meanwhile. So the
heap is frozen (``gc.freeze``) around each build, the pass after a build sees only what
that build allocated, and the full collection waits until the server has been idle.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


class FrozenHeap:
    """When the collector may run, for one rebuild worker."""

    def __init__(self) -> None:
        self.owed = False  # builds ran since the last full collection
        self.collections = 0
        self._settle = False  # a build's allocations are still to collect

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

    def collect_idle(self) -> None:
        """A full collection while idle, then the heap is frozen again."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.owed = False
        self.collections += 1

    def release(self) -> None:
        """Hand the heap back to the collector (the worker stops)."""
        gc.unfreeze()
