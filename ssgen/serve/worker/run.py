"""Running a rebuild round: the kept source, the build call and the fragment-cache warming.

Owns ``RoundRunner``: it opens the source once and keeps it (reloading it before each
round, so a webhook's write is seen), runs the incremental build on it under the frozen
heap (``ssgen.serve.heap``), leaves the GC pass and the freeing of replaced files for
after the round's replies (``settle``), and warms the fragment cache a chunk at a time on
the source as the last round left it.

The first round on a kept source plans every page (``PLAN_EVERY_PAGE``): each page's data
is hashed and compared with its record, and only pages that changed are rendered. That
fills the memos later rounds keep pages by (expansions, data hashes, maintained query
results); without it the start-up round was skipped whole on an unchanged fingerprint, and
the first webhook paid for it (a retitle reaches every post page through the ``posts``
tag: 63 s at 100,000 posts).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from ssgen.build import readahead
from ssgen.build.change import Change
from ssgen.build.memo import carry
from ssgen.build.output import defer_frees, take_displaced
from ssgen.build.outwatch import watch_output
from ssgen.build.readahead import reading_ahead
from ssgen.build.report import BuildReport
from ssgen.build.search import DEFERRED, SearchMode
from ssgen.config.load import Config
from ssgen.errors import SsgenError
from ssgen.manifest.connect import checkpoint, checkpoints_deferred, sqlite_path, wal_bytes
from ssgen.manifest.lock import BuildLock
from ssgen.manifest.store import Manifest
from ssgen.serve.freeing import Freer
from ssgen.serve.freshness import expect_revisions, fresh_source
from ssgen.serve.heap import FrozenHeap
from ssgen.serve.warm import Warming
from ssgen.serve.worker.opening import open_kept
from ssgen.sources import Source
from ssgen.sources.local import lines as _lines  # noqa: F401
from ssgen.sources.ndjson import proof as _proof  # noqa: F401

# ``_lines`` and ``_proof`` (with ``reread`` and ``leased``): what a kept source's re-read
# of a changed file uses, imported where used so that a cold build does without them
# (``ssgen.sources.local``), and here so that serve's first webhook does not import them.

log = logging.getLogger("ssgen.serve")
BuildFn = Callable[..., BuildReport]
DISPLACED_DIR = "displaced"  # in the state folder: the files a round replaced, until freed
PLAN_EVERY_PAGE = Change(everything=True, reasons=("start-up: plan every page",))
# A WAL this large is checkpointed after a round's replies even when more work waits.
WAL_LIMIT = 64 << 20
# The rounds' manifest's page cache (SQLite fills it only as pages are read): a 10k-post
# site's rounds read ~6,000 distinct 4 KiB pages in 40 webhooks (24 MB).
ROUND_CACHE_KIB = 256 * 1024
# Seconds without a webhook after which serve saves the source's snapshot it owes: longer
# than the gaps of a run of webhooks, so the fork and the child's life fall after it, not
# into its rounds (at 1 s, a bench whose webhooks came ~1.04 s apart forked every 10 s,
# and a round within a second of a fork took twice the CPU: 149 ms against 74).
SAVE_IDLE = 5.0
# ... times the server's resident size in these (at least one): the child's life grows
# with the heap it encodes, and every round during it pays the copy on write. At 100,000
# posts (7.3 GB) the fork alone held the server 448 ms and a round in the child's first
# 16 s took 2.2 s instead of ~0.4 (round 18): 36 s there, unchanged up to 1 GB (10k).
SAVE_IDLE_UNIT = 1 << 30


def save_idle(idle: float, resident: int) -> float:
    """Seconds without a webhook before a server of ``resident`` bytes forks the save it
    owes: ``idle`` (``SAVE_IDLE``), longer for a server over ``SAVE_IDLE_UNIT``."""
    return idle * max(1.0, resident / SAVE_IDLE_UNIT)


def resident_bytes() -> int:
    """This process's resident size (0 where ``/proc`` is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class RoundRunner:
    """The kept source and heap of the worker, and the build one round runs on them."""

    def __init__(self, source: Source | None, build_fn: BuildFn | None) -> None:
        self.source = fresh_source(source) if source is not None else None
        self.build_fn = build_fn
        self.heap = FrozenHeap()
        self.freer = Freer()
        self.checkpoint_owed = False  # rounds committed to the manifest since the last one
        self.load_seconds = 0.0  # the last round's source reload
        self.config: Config | None = None  # the last round's, if it completed
        self.planned = False  # a round planned every page on this source (see the docstring)
        # Write what the source holds in memory only before each round's build (the
        # mirror's snapshot): a preview's drafts source reads it from disk.
        self.write_through = False
        self.save_owed = False  # a round settled without saving the source's snapshot
        # The worker's manifest, which each round builds on (SQLite: set by the worker).
        self.manifest: Manifest | None = None

    def build_on(self, manifest: Manifest, config: Config) -> None:
        """Build every round on ``manifest``, the worker's (SQLite only). It queues the
        webhooks too, so no other connection's write resets SQLite's page cache between
        rounds: what a round reads of the manifest stays in serve's memory instead of
        being re-read from the OS's page cache, which may have dropped it (a disk read
        each cold page)."""
        if config.state_url is None:
            manifest.set_cache(ROUND_CACHE_KIB)
            self.manifest = manifest

    def _kept(self, config: Config) -> Manifest | None:
        """``build_on``'s manifest while ``config`` still names it (a reloaded config may
        name another state folder, or PostgreSQL: the build opens that)."""
        kept = self.manifest
        if kept is None or config.state_url is not None or \
                kept.path != sqlite_path(config.state_dir):
            return None
        return kept

    @property
    def plans_every_page(self) -> bool:
        """Whether the next round plans every page (a stand-in build has no memos)."""
        return not self.planned and self.build_fn is None

    def reopen(self) -> None:
        """Open the source afresh at the next round (a new config), and plan every page."""
        self.source = None
        self.planned = False

    def build(self, config: Config, change: Change, take_search: Callable[[], SearchMode],
              jobs: int | None = None, *, reload: bool = True,
              settle: bool = True) -> BuildReport:
        """Build ``change`` (empty: everything) on the kept source, reloaded first unless
        ``reload`` is False; ``take_search`` hands over a search bundle to write.
        ``settle=False``: the build's garbage is collected, and the files its writes
        replaced are freed, at ``settle()`` (serve: after the round's replies)."""
        try:
            return self._round(config, change, take_search, jobs, reload=reload, settle=settle)
        except SsgenError:
            if self.source is None or _proof_holds(self.source):
                raise
        return self._refuted(config, change, take_search, jobs, settle)

    def _refuted(self, config: Config, change: Change, take_search: Callable[[], SearchMode],
                 jobs: int | None, settle: bool) -> BuildReport:
        """The round again after its hinted reload's proof failed: the file that
        differed beyond the named document is read whole this time."""
        log.warning("the dataset changed beyond the webhook's document: built again "
                    "from the file read whole", extra={"event": "hint_refuted"})
        return self.build(config, change, take_search, jobs, settle=settle)

    def _round(self, config: Config, change: Change, take_search: Callable[[], SearchMode],
               jobs: int | None, *, reload: bool, settle: bool) -> BuildReport:
        # A round that raised may have left the source half reloaded: not to be saved.
        started, self.config = time.perf_counter(), None
        if self.source is None:
            self.source = fresh_source(open_kept(config))
        elif reload:
            _reload(self.source, change)
        # Whoever opened the source (``ssgen serve`` hands its own over): find_damage then
        # checks only what changed, not all 11k owned files (a no-op once watched).
        if config.state_url is None:  # another host's writes raise no event here
            watch_output(config.output_dir)
        expect_revisions(self.source, change)
        if self.write_through:  # a preview's drafts source reads the files
            self.flush(config)
        self.load_seconds = time.perf_counter() - started
        wanted = None if change.empty else change
        planning = self.plans_every_page
        if planning:
            wanted = PLAN_EVERY_PAGE if wanted is None else wanted.merge(PLAN_EVERY_PAGE)
        defer_frees(None if settle else str(config.state_dir / DISPLACED_DIR))
        try:
            with checkpoints_deferred():
                report = self._build(config, wanted, take_search, jobs, settle)
        finally:
            defer_frees(None)
            self.checkpoint_owed = True
        if not _proof_holds(self.source):  # a round that wrote no page (no-op, untouched)
            return self._refuted(config, change, take_search, jobs, settle)
        self.planned = self.planned or planning
        self.config = config
        return report

    def _build(self, config: Config, wanted: Change | None,
               take_search: Callable[[], SearchMode], jobs: int | None,
               settle: bool) -> BuildReport:
        with self.heap.building(settle=settle):
            if self.build_fn is not None:
                return self.build_fn(config, change=wanted, source=self.source)
            from ssgen.build.pipeline import build

            search, kept = take_search(), self._kept(config)
            with reading_ahead(kept.path if kept is not None else None):
                return build(config, change=wanted, source=self.source, frozen_heap=True,
                             search=search if search.ready else DEFERRED, jobs=jobs,
                             manifest=kept)

    def settle(self, *, save: bool = True) -> None:
        """What the last builds left for after their replies: the replaced files to free
        (``ssgen.build.output.temps``; on the freer's thread), the garbage to collect, the
        kept source's bytes to patch (``LocalSource.settle``), and the source's snapshot
        to save (in a forked child, when due; ``save=False``: owed
        until ``save``, which the worker calls once no webhook came for ``save_idle()``)."""
        self.freer.free(take_displaced())
        self.heap.settle()
        settle = getattr(self.source, "settle", None)  # a stand-in source may lack it
        if callable(settle):
            settle()
        self.save_owed = True
        if save:
            self.save()

    def save(self, *, final: bool = False) -> None:
        """Save the source's snapshot in a forked child, when due: for the first new
        process after serve to resume. Not between two rounds of a burst: the fork copies
        the page tables of the whole server and each page the next round writes is
        copied again while the child lives (the 10k starter site's p99, round 10).
        ``final``: the server stops; the save is waited for."""
        self.save_owed = False
        if self.config is not None:
            carry.keep_later(self.config, self.source, final=final)

    def checkpoint(self, config: Config, *, idle: bool) -> bool:
        """Checkpoint the manifest's WAL that the rounds since the last one left (their
        manifests never do: ``ssgen.manifest.connect``), when ``idle`` or once the WAL
        has grown past ``WAL_LIMIT``; whether it did."""
        if not self.checkpoint_owed or not (
                idle or wal_bytes(config.state_dir, config.state_url) > WAL_LIMIT):
            return False
        self.checkpoint_owed = False
        return checkpoint(config.state_dir, config.state_url)

    def idle(self) -> None:
        """While the server is idle: a full collection, and what the source holds in
        memory only written out (``flush``)."""
        self.heap.collect_idle()
        self.flush()

    def flush(self, config: Config | None = None) -> None:
        """The source's changes that live in memory only written out (the Sanity
        mirror's snapshot, see ``MirrorSource.flush``); a failure is logged, and the
        next start's sync fetches them again."""
        flush = getattr(self.source, "flush", None)
        config = config or self.config
        if not callable(flush) or config is None:
            return
        lock = BuildLock(config.site_dir, wait=True)  # a build may sync meanwhile
        try:
            lock.acquire()
            try:
                flush()
            finally:
                lock.release()
        except SsgenError as exc:
            log.warning("could not write the source's snapshot: %s", exc)

    def finish(self) -> None:
        """What a stopping server owes the next process: the source's changes held in
        memory written out (``flush``), and the snapshot saved unless the last save was
        of this state (its child waited for a while: the next process resumes the state
        served last)."""
        self.flush()
        self.save(final=True)

    def close(self) -> None:
        """Free what is still to free, and let the freer's and the read-ahead's threads
        end."""
        self.freer.close()
        readahead.stop()

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


__all__ = ["PLAN_EVERY_PAGE", "SAVE_IDLE", "BuildFn", "RoundRunner", "save_idle"]


def _proof_holds(source: Source) -> bool:
    """Whether the proof of the last hinted reload held (waited for; True unless
    ``reload_hinted`` ran and its proof failed: ``LocalSource.proven``)."""
    proven = getattr(type(source), "proven", None)  # the class's: no lazy source loaded
    return not callable(proven) or bool(proven(source))


def _reload(source: Source, change: Change) -> None:
    """Reload ``source``; a local source told the one document a webhook named (a kept
    NDJSON file is then taken to differ in its line, the rest proved on a thread, and
    ``build`` waits for the proof before the round's reply)."""
    hinted = getattr(type(source), "reload_hinted", None)
    docs = change.documents
    if callable(hinted) and len(docs) == 1 and docs[0].operation == "update" \
            and not (change.tags or change.paths or change.templates or change.everything):
        hinted(source, docs[0].id)
    else:
        source.reload()
