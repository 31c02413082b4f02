"""The cyclic garbage collector kept off the build's large, long-lived, acyclic heaps
(the loaded dataset, the page specs, the render's outcomes)."""

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


# The oldest generation's threshold while pages render: no full collection starts.
_NO_FULL = 1 << 30


@contextmanager
def young_only(*, keep: bool = False) -> Iterator[None]:
    """Only the young generations collected while the pages render (in this process and
    the workers it forks). The render's survivors are the pages' outcomes and rows, kept
    to the end, acyclic; a full collection walks all of them and finds next to nothing
    (at 100,000 pages: 5 passes of 37-145 ms in the build process, 2 in its worker, each
    longer than the last, all collecting 0 objects; none below ~20,000 pages). The
    young passes still collect the cycles a page's render leaves. ``keep``: the
    survivors frozen after it (a command's cold build, which unfreezes its heap at its
    end: ``ssgen.build.pipeline.build``), else the first full pass after the render
    walks them all once (128 ms at 100,000 pages) and collects what cycles outlived
    the young passes."""
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, _NO_FULL)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)
        if keep:
            gc.freeze()
