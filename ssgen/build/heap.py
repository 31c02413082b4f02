"""The cyclic garbage collector kept off the build's large, long-lived, acyclic heaps
(the loaded dataset, the page specs)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_after() -> Iterator[None]:
    """No cyclic collection while the pages are collected and planned, then freeze them:
    the page specs are long-lived and acyclic, and each collection that walked them made
    the query stage grow faster than the page count (collect + plan at 64,000 pages:
    33 us a page with the collector, 19 without; 24 at 16,000)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def freeze_heap() -> None:
    # The loaded dataset is a large, long-lived, acyclic heap: without this every full
    # collection rescans it (over a second at 100k documents), and forked render
    # workers would copy it page by page as the collector touches it.
    gc.freeze()
