"""``RebuildWorker``: the thread that merges queued changes into rounds and builds them.

The package docstring (``ssgen.serve.worker``) says what a round does. This module owns
the thread, its lifecycle, submissions and status; a round is planned by ``plan``, run by
``run``, and reported by ``outcome``; the job sets are ``book``'s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from ssgen.build.change import Change
from ssgen.build.outwatch import unwatch_output
from ssgen.build.report import BuildReport
from ssgen.build.search import SearchIndex, SearchMode
from ssgen.config.load import Config
from ssgen.errors import SsgenError
from ssgen.manifest.connect import checkpoints_deferred, open_state
from ssgen.serve.indexer import SearchIndexer
from ssgen.serve.jobs import (
    Backoff,
    DeployState,
    RebuildResult,
    RouteTimers,
    Submitted,
    site_counts,
)
from ssgen.serve.metrics import ServeMetrics, publish_times, traces
from ssgen.serve.warm import Warming
from ssgen.serve.worker import timing
from ssgen.serve.worker.book import JobBook
from ssgen.serve.worker.outcome import (
    Usage,
    failure_text,
    log_failed,
    log_failures,
    log_rebuilt,
    round_result,
    usage_now,
)
from ssgen.serve.worker.plan import plan_round
from ssgen.serve.worker.reload import reload_config
from ssgen.serve.worker.run import SAVE_IDLE, BuildFn, RoundRunner, resident_bytes, save_idle
from ssgen.sources import Source

if TYPE_CHECKING:
    from ssgen.serve.leader import Leadership

log = logging.getLogger("ssgen.serve")


class RebuildWorker:
    """Coalescing rebuilds on one thread; thread-safe ``submit``/``future``/``status``."""

    def __init__(
        self,
        config: Config,
        *,
        settle: float = 0.05,
        source: Source | None = None,
        build_fn: BuildFn | None = None,
        retry_base: float = 1.0,
        idle_gc: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.settle = settle
        self.retry_base = retry_base
        self._build_fn = build_fn
        self._clock = clock
        self._runner = RoundRunner(source, build_fn)
        with checkpoints_deferred():  # the worker checkpoints when idle (``_run``)
            self._manifest = open_state(config.state_dir, config.state_url,
                                        reset_broken=True, fenced=False)
        self._runner.build_on(self._manifest, config)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._dirty = True
        self._submit_lock = threading.Lock()
        self._arrivals = (float("-inf"), float("-inf"))  # the last two submissions
        self._site: tuple[int, list[dict[str, str]]] = (0, [])
        self._warming: Warming | None = None  # after the first good round
        self.idle_gc = idle_gc
        self._reload_config = False
        queued = {job for job, _ in self._manifest.pending()}
        self._jobs = JobBook(queued, self._manifest.enqueue(
            {"change": Change(reasons=("start",)).to_json(), "reload_config": False}))
        self._retry = Backoff()
        self._deploy = DeployState()
        self._timers = RouteTimers(self.config, self._clock())
        self.state = "idle"
        self.rebuilds = 0
        self.generation = 0
        self.last: RebuildResult | None = None
        self.last_error: str | None = None
        self.listeners: list[Callable[[RebuildWorker], None]] = []
        self.metrics = ServeMetrics(self._manifest.queue_stats)
        self._round_payloads: list[Any] = []
        self.leader: Leadership | None = None  # set with shared state (serve/leader.py)
        self._search_ready: SearchIndex | None = None
        self.indexer = SearchIndexer(lambda: self.config, self.search_ready)
        self.listeners.append(lambda _worker: self.indexer.poke())
        self._site = site_counts(self._manifest) or self._site  # status never waits on it

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread (replays whatever the queue holds)."""
        replayed = len(self._jobs.pending) - 1  # less the start-up round itself
        if replayed:
            log.info("replaying %d queued change(s)", replayed,
                     extra={"event": "replay", "queued": replayed})
        self._thread = threading.Thread(target=self._run, name="ssgen-rebuild", daemon=True)
        self._thread.start()
        self.indexer.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the round in progress (queued work stays queued for the next start)."""
        self._stop.set()
        self.indexer.stop(timeout)
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.leader is not None:
            self.leader.close()
        self._manifest.close()
        self._runner.close()
        if self._thread is None or not self._thread.is_alive():  # else a round still runs
            self._runner.finish()
        self._runner.heap.release()
        unwatch_output(self.config.output_dir)

    # -- submitting ------------------------------------------------------------

    def submit(self, change: Change, key: str | None = None, *,
               reload_config: bool = False, meta: dict[str, Any] | None = None) -> Submitted:
        """Durably queue ``change`` (with ``meta``: trace, published) and wake the worker."""
        payload = {**(meta or {}), "change": change.to_json(), "reload_config": reload_config}
        with self._submit_lock:
            job = self._manifest.enqueue(payload, key=key)
            with self._cond:
                if not self._jobs.add(job):
                    return Submitted(job, duplicate=True)
                self._arrivals = (self._arrivals[1], time.monotonic())
                self._dirty = True
                self._cond.notify_all()
        return Submitted(job)

    def future(self, job: int) -> Future[RebuildResult]:
        """Resolves when ``job`` has been rebuilt (at once when it already was)."""
        with self._cond:
            found = self._jobs.waiter(job)
        if isinstance(found, Future):
            return found
        result = found
        done: Future[RebuildResult] = Future()
        done.set_result(result or RebuildResult(True, {"new": [], "changed": [], "deleted": []},
                                                summary="already applied"))
        return done

    # -- status ----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The /api/status document."""
        with self._cond:
            depth = self._jobs.depth()
            last = self.last.to_json() if self.last else None
        return {
            "state": self.state,
            "queue_depth": depth,
            "rebuilds": self.rebuilds,
            "generation": self.generation,
            "last_rebuild": last,
            "last_error": self.last_error,
            "retry_in": timing.retry_in(self._clock(), self._retry, self._deploy),
            "pages": self._site[0],
            "failures": self._site[1],
            "revalidate": {r.name: r.revalidate for r in self.config.routes if r.revalidate},
            "deploy": self._deploy.to_json(self.config),
        }

    # -- the loop --------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.leader is not None and not self.leader.turn(self, self._stop):
                continue  # shared state: only the builder runs rounds
            idle = self._wait_for_work()
            if idle:
                (self._runner.save if idle == "save" else self._runner.idle)()
                continue
            if self._stop.is_set():
                return
            if self._bursting():
                self._stop.wait(self.settle)  # let the rest of a burst arrive
            try:
                self._round()
            except Exception:  # a bug must not kill the only worker thread
                log.exception("rebuild worker error", extra={"event": "worker_error"})
                self._retry.schedule(self._clock(), self.retry_base)
                self.state = "retrying"
            self._checkpoint()

    def _checkpoint(self) -> None:
        """The manifest's WAL checkpointed after the replies: when no work is due, or
        when it has grown too large to wait (``RoundRunner.checkpoint``)."""
        with self._cond:
            idle = not self._due()
        self._runner.checkpoint(self.config, idle=idle)

    def _wait_for_work(self) -> str:
        """Block until work is due (""), or idle long enough to save ("save") or collect."""
        with self._cond:
            now, owed = time.monotonic(), self._runner
            idle = [(now + self.idle_gc, "collect")] * owed.heap.owed \
                + [(now + save_idle(SAVE_IDLE, resident_bytes()), "save")] * owed.save_owed
            while not self._stop.is_set() and not self._due():
                timeout = self._sleep_for()
                if idle:
                    at, what = min(idle)
                    if (left := at - time.monotonic()) <= 0:
                        return what
                    timeout = left if timeout is None else min(timeout, left)
                self._cond.wait(timeout)
            return ""

    def _bursting(self) -> bool:
        """Whether a burst is arriving (``timing.is_burst``)."""
        with self._cond:
            return timing.is_burst(self.settle, len(self._jobs.pending), self._arrivals)

    def _due(self) -> bool:
        return timing.is_due(self._clock(), self._dirty,
                             timing.retry_dues(self._retry, self._deploy), self._timers)

    def _sleep_for(self) -> float | None:
        return timing.sleep_for(self._clock(), timing.retry_dues(self._retry, self._deploy),
                                self._timers)

    def _round(self) -> None:
        with self._cond:
            self._dirty = False
        plan = plan_round(self._manifest, self._timers, self._clock(),
                          reload_config=self._reload_config,
                          retrying=self._retry.due is not None)
        self._round_payloads = plan.payloads
        ids, change = plan.ids, plan.change
        with self._cond:
            self._jobs.start(ids)
        try:
            if ids or not change.empty or self._retry.due is not None or self._search_ready:
                self._rebuild(change, ids, plan.reload_config)
        finally:
            self._runner.settle(save=False)  # after the replies: no wait of theirs
        if self._warms_next(self.last):  # "warming" since ``_resolve``: it takes seconds
            self._warming = Warming.of_site(self.config, self._manifest)
        if self._warming is not None and not self._warming.finished:
            self._warm(self._warming)
        if self.state == "warming":  # the first good round's settle and warming are done
            self.state = "idle"
        if self._deploy.owed is not None and self._deploy.ready(self._clock()) and (
                self.leader is None or self.leader.still()):
            self._deploy.run(self.config, self._clock(), self.retry_base, self.metrics)

    def _warms_next(self, result: RebuildResult | None) -> bool:
        """Whether the round that gave ``result`` is the first good one: the warming
        (``Warming``: a page of each route, then the long pages) follows it."""
        return self._warming is None and self._build_fn is None and result is not None \
            and result.ok

    def _warm(self, warming: Warming) -> None:
        state, self.state = self.state, "warming"
        try:
            self._runner.warm(warming, self.config, self._take_search,
                              lambda: self._dirty or self._stop.is_set())
        finally:
            self.state = state

    def _rebuild(self, change: Change, ids: list[int], reload_config: bool) -> None:
        self.state = "building"
        started, usage = time.perf_counter(), usage_now()
        with self._cond:  # none yet (the start-up round): none waited
            latest = self._arrivals[1]
        queued = max(0.0, time.monotonic() - latest) if latest > float("-inf") else 0.0
        try:
            if reload_config:
                self._load_config()
            # The start-up round plans every page: the site is served meanwhile, and
            # the webhooks that arrive wait for the next round.
            self.state = "warming" if self._runner.plans_every_page else "building"
            report = self._build(change)
        except SsgenError as exc:
            self._failed(ids, str(exc), started)
            return
        self._succeeded(ids, report, started, queued, usage)

    def _load_config(self) -> None:
        self._reload_config = True  # kept until a config loads, so a typo is retried
        unwatch_output(self.config.output_dir)
        self.config = reload_config(self.config)
        self._runner.reopen()
        self._timers = RouteTimers(self.config, self._clock())
        self._reload_config = False

    def _build(self, change: Change) -> BuildReport:
        return self._runner.build(self.config, change, self._take_search, settle=False)

    def _take_search(self) -> SearchMode:
        """The indexer's bundle for this round's build to write, if one is ready."""
        with self._cond:
            search, self._search_ready = SearchMode(ready=self._search_ready), None
        return search

    def _failed(self, ids: list[int], message: str, started: float) -> None:
        delay = self._retry.schedule(self._clock(), self.retry_base)
        with self._cond:
            self._jobs.requeue(ids)
        self.state, self.last_error = "retrying", message
        self.metrics.rebuilt(None, time.perf_counter() - started, (), deploying=False)
        log_failed(message, delay, traces(self._round_payloads), len(ids), started)
        self._notify()

    def _succeeded(self, ids: list[int], report: BuildReport, started: float,
                   queued: float, usage: Usage) -> None:
        result = round_result(report, started, load=self._runner.load_seconds,
                              queued=queued, usage=usage)
        changes = result.changes
        if report.retryable:
            self._retry.schedule(self._clock(), self.retry_base)
        else:  # content failures wait for a fix: no retry can help
            self._retry.clear()
        self.last_error = failure_text(report)
        log_failures(result, self.last_error)
        self._resolve(ids, result)
        # Acknowledged after the waiting replies went out (the pages are on disk already);
        # the jobs count as queued until then, and a crash in between only rebuilds again.
        self._manifest.ack(ids)
        with self._cond:
            self._jobs.finish(ids)
        deploying = getattr(self.config, "deploy", None) is not None
        carried = traces(self._round_payloads)
        if deploying:
            self._deploy.owe(changes, carried)
        self.metrics.rebuilt(report, result.seconds, publish_times(self._round_payloads),
                             deploying)
        log_rebuilt(report, result, len(ids), carried, self._runner.load_seconds)
        self._notify()

    def _resolve(self, ids: list[int], result: RebuildResult) -> None:
        with self._cond:
            self.rebuilds += 1
            self.generation += 1
            self.last = result
            # Not "idle" before the first good round's settle and warming (``_round``).
            self.state = "retrying" if self._retry.due is not None else \
                "warming" if self._warms_next(result) else "idle"
            self._jobs.resolve(ids, result)

    def _notify(self) -> None:
        self._site = site_counts(self._manifest) or self._site  # status never waits on it
        for listener in list(self.listeners):
            try:
                listener(self)
            except Exception:  # a broken listener must not stop rebuilds
                log.exception("rebuild listener failed")

    @property
    def collections(self) -> int:
        """Full collections run while idle (see ``ssgen.serve.heap``)."""
        return self._runner.heap.collections

    def keep_source_files(self) -> None:
        """Have each round write what its source holds in memory only (the Sanity
        mirror's snapshot) before building: another reader of the files (preview's
        drafts source) then sees every webhook's change."""
        self._runner.write_through = True

    def search_ready(self, index: SearchIndex) -> None:
        """The indexer's new bundle: the next round writes it (thread-safe)."""
        with self._cond:
            self._search_ready = index
        self.wake()

    def wake(self) -> None:
        """Run a round soon even without queued work (used by tests and watch mode)."""
        with self._cond:
            self._dirty = True
            self._cond.notify_all()


__all__ = ["BuildFn", "RebuildWorker"]
