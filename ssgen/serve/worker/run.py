"""Running a rebuild round: the kept source, the build call and the fragment-cache warming.

Owns ``RoundRunner``: it opens the source once and keeps it (reloading it before each
round, so a webhook's write is seen), runs the incremental build on it under the frozen
heap (``ssgen.serve.heap``), leaves the GC pass and the freeing of replaced files for
after the round's replies (``settle``), and warms the fragment cache a chunk at a time on
the source as the last round left it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ssgen.build.change import Change
from ssgen.build.memo import carry
from ssgen.build.output import defer_frees, free_displaced
from ssgen.build.outwatch import watch_output
from ssgen.build.report import BuildReport
from ssgen.build.search import DEFERRED, SearchMode
from ssgen.config.load import Config
from ssgen.serve.freshness import expect_revisions, fresh_source
from ssgen.serve.heap import FrozenHeap
from ssgen.serve.warm import Warming
from ssgen.sources import Source, open_source

BuildFn = Callable[..., BuildReport]
DISPLACED_DIR = "displaced"  # in the state folder: the files a round replaced, until freed


class RoundRunner:
    """The kept source and heap of the worker, and the build one round runs on them."""

    def __init__(self, source: Source | None, build_fn: BuildFn | None) -> None:
        self.source = fresh_source(source) if source is not None else None
        self.build_fn = build_fn
        self.heap = FrozenHeap()
        self.load_seconds = 0.0  # the last round's source reload
        self.config: Config | None = None  # the last round's, if it completed

    def build(self, config: Config, change: Change, take_search: Callable[[], SearchMode],
              jobs: int | None = None, *, reload: bool = True,
              settle: bool = True) -> BuildReport:
        """Build ``change`` (empty: everything) on the kept source, reloaded first unless
        ``reload`` is False; ``take_search`` hands over a search bundle to write.
        ``settle=False``: the build's garbage is collected, and the files its writes
        replaced are freed, at ``settle()`` (serve: after the round's replies)."""
        # A round that raised may have left the source half reloaded: not to be saved.
        started, self.config = time.perf_counter(), None
        if self.source is None:
            self.source = fresh_source(open_source(config, kept=True))
            if config.state_url is None:  # another host's writes raise no event here
                watch_output(config.output_dir)
        elif reload:
            self.source.reload()
        expect_revisions(self.source, change)
        self.load_seconds = time.perf_counter() - started
        wanted = None if change.empty else change
        defer_frees(None if settle else str(config.state_dir / DISPLACED_DIR))
        try:
            report = self._build(config, wanted, take_search, jobs, settle)
        finally:
            defer_frees(None)
        self.config = config
        return report

    def _build(self, config: Config, wanted: Change | None,
               take_search: Callable[[], SearchMode], jobs: int | None,
               settle: bool) -> BuildReport:
        with self.heap.building(settle=settle):
            if self.build_fn is not None:
                return self.build_fn(config, change=wanted, source=self.source)
            from ssgen.build.pipeline import build

            search = take_search()
            return build(config, change=wanted, source=self.source, frozen_heap=True,
                         search=search if search.ready else DEFERRED, jobs=jobs)

    def settle(self) -> None:
        """What the last builds left for after their replies: the replaced files to free
        (``ssgen.build.output.temps``), the garbage to collect, and the source's
        snapshot to save (in a forked child, when due)."""
        free_displaced()
        self.heap.settle()
        if self.config is not None:  # for the first new process after serve to resume
            carry.keep_later(self.config, self.source)

    def warm(self, warming: Warming, config: Config, take_search: Callable[[], SearchMode],
             interrupted: Callable[[], bool]) -> Any:
        """Warm a chunk at a time until done or ``interrupted()``."""
        # The source as the last round left it: files are rewritten only if their
        # bytes differ, so the same content writes nothing. Reloading here read
        # content files while their writer was still writing them (before any
        # webhook said they were done), and a half-written file removed pages.
        return warming.run(
            lambda change: self.build(config, change, take_search, jobs=1, reload=False),
            interrupted)


__all__ = ["BuildFn", "RoundRunner"]
