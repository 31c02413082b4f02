"""The pages of a build: skipped whole when the inputs are those last built from, else
loaded, then queried, planned, rendered and recorded (``content``, ``rebuild``).

The manifest is written after the files, so it never runs ahead of them; what the
source left out and the paths several pages want are reported as content failures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime

from ssgen.build import doclists, extras, faults, readahead
from ssgen.build.change import Change
from ssgen.build.clash import find_clashes, generated_files, page_files
from ssgen.build.collect import Collected, collect_pages, query_globals
from ssgen.build.docstate import document_states, lazy_or_loaded, settled
from ssgen.build.extras import static_files
from ssgen.build.fragfile import key_ahead, persisted_fragments
from ssgen.build.heap import freeze_heap, frozen_after, young_only
from ssgen.build.loading import load_source
from ssgen.build.memo import kept, pagelog
from ssgen.build.memo.fragments import kept_fragments
from ssgen.build.output import staged
from ssgen.build.pipeline.reach import rebuild_scope
from ssgen.build.pipeline.run import Run, next_build
from ssgen.build.plan import RenderPlan, plan_render
from ssgen.build.progress import Reporter
from ssgen.build.record import EarlyRecord, journal_pages, record_build
from ssgen.build.redirects import note_history
from ssgen.build.report import DOCUMENT, PATH, BuildReport, PageFailure, StageTimer
from ssgen.build.untouched import (
    INPUTS_KEY,
    fingerprint,
    input_sizes,
    nothing_changed,
    resized,
    untouched,
)
from ssgen.build.verify import Damage
from ssgen.build.workers import PageOutcome, prerender, render_pages, serial
from ssgen.config.load import Config
from ssgen.errors import HintRefuted, SsgenError
from ssgen.manifest.connect import sqlite_path
from ssgen.manifest.pages import GENERATION_KEY
from ssgen.manifest.store import Manifest
from ssgen.render.environment import Renderer
from ssgen.sources import Source, early
from ssgen.sources.inputs import ReadInputs, snapshot_wanted
from ssgen.sources.mirror import mirrored
from ssgen.sources.ndjson import gc_paused


def content(run: Run, manifest: Manifest, key: str, source: Source | None,
            change: Change | None, *, full: bool, drafts: bool,
            damage: Callable[[], Damage]) -> tuple[BuildReport, RenderPlan, Source | None,
                                                   str | None]:
    """The pages: skipped whole when the inputs' fingerprint is the one last built from,
    else loaded, queried, rendered and recorded. Returns the inputs' fingerprint to keep.
    ``damage``: the output's check, asked only to tell a build with nothing to do or once
    the source is loaded, so that a new process decodes its snapshot while the child
    checking the output (``damage_ahead``) runs on the other core."""
    config, timer = run.config, run.timer
    renderer = Renderer.shared(config)
    # Only a build with no explicit change can skip work on an equal fingerprint. Of
    # the others (serve, revalidate), one that plans every page (serve's start-up)
    # keeps it as such a build would; the rest forget it, so the next one checks afresh.
    # A given source counts only if it is the local one (tests and serve may pass a
    # remote source for a site configured as local).
    local = (change is None or change.everything) and (
        hasattr(source, "fingerprint")
        if source is not None
        else config.source.type == "local" or mirrored(config)
    )
    inputs, read, later = None, None, None
    if local and not full and manifest.get_meta(INPUTS_KEY):
        # A kept source (serve) is compared as loaded: equal means it holds exactly
        # the content last built from, whatever the files say now.
        if source is not None:
            inputs = fingerprint(source)
        else:
            with timer("load"):
                later = early.pending(config)
                # Resized files differ from those last built from: the source loads now
                # (a snapshot decoded while its files are still being read), while the
                # other core hashes them for the fingerprint this build records.
                if later is None or not (snapshot_wanted(later.listed.inputs)
                                         and resized(manifest, later.listed)):
                    read, later = later.take() if later else early.inputs(config), None
            if read is not None and not resized(manifest, read):
                inputs = read.fingerprint
    if inputs is not None and change is None \
            and untouched(manifest, renderer, inputs) and not damage():
        report, plan = nothing_changed(manifest)
        run.sizes = input_sizes(read) if read is not None else ""
        return report, plan, source, inputs
    # Include outputs earlier processes rendered: a new process (no kept source) reads
    # and saves them; serve's rounds read them (a full build renders every one afresh).
    persist = persisted_fragments(config, renderer, full=full) if source is None \
        else nullcontext() if full else kept_fragments(config, renderer)
    fresh = source is None  # loaded here: no pages kept from earlier builds (see doclists)
    with timer("load"):
        taken: ReadInputs | early.Pending | None = \
            read if read is not None else later if later is not None \
            else None if source is not None or not local else _read_for_load(config)
        source = source or lazy_or_loaded(config, manifest, None if full else read, lambda: (
            load_source(config, drafts, run.reporter, taken, run.jobs, full=full,
                        leave=run.left)))
        if isinstance(taken, early.Pending):  # taken by the load: the bytes it resumed to
            taken = taken.take()
            read = taken if later is not None else None  # the fingerprint's, as read first
    checked = damage()  # before any stage reads the page index the check offers
    # Before this build writes a page; numbered among the builds that plan pages.
    run.since, run.serial = manifest.get_meta(GENERATION_KEY), next_build(config)
    with persist:
        report, plan = rebuild(
            config, key, manifest, renderer, source, run.now, change, full=full, jobs=run.jobs,
            reporter=run.reporter, timer=timer, damage=checked, fresh=fresh,
        )
    # Never what is on disk after the build: an edit made during it must not
    # be recorded as built. The fingerprint taken before loading is safe to
    # keep (at worst older than what was built: the next build looks again);
    # without one, the source's is of exactly the bytes it read.
    if local and read is not None:  # the read's, taken on the other core meanwhile
        inputs = read.fingerprint
    if local and inputs is None:
        inputs = fingerprint(source)
    run.sizes = input_sizes(taken) if local and taken is not None else ""
    return report, plan, source, inputs


def _read_for_load(config: Config) -> ReadInputs | early.Pending | None:
    """What ``load_source`` would read of a local site (with the collector paused, as
    there), read here for the sizes the build records beside its fingerprint: a read still
    on its thread handed over as it is (``early.pending``; the load takes it)."""
    if config.source.type != "local":
        return None
    with gc_paused():
        return early.pending(config) or early.inputs(config)


def rebuild(
    config: Config,
    key: str,
    manifest: Manifest,
    renderer: Renderer,
    source: Source,
    now: datetime,
    change: Change | None,
    *,
    full: bool,
    jobs: int | None,
    reporter: Reporter,
    timer: StageTimer,
    damage: Damage,
    fresh: bool = False,
) -> tuple[BuildReport, RenderPlan]:
    """The stages: globals, scope, collect, plan (query), render and write, record."""
    freeze_heap()
    with timer("query"), frozen_after():
        data = query_globals(config, source, now)
        states = document_states(source, manifest, full=full)
        scope, total = (None, None) if full else rebuild_scope(
            config, manifest, renderer, data, states, change, source, damage)
        site = f"{config.site_dir}\0{key}"
        since = manifest.get_meta(GENERATION_KEY)
        last = kept.take(site, since)
        if fresh and not last and scope is not None:  # the expansions a snapshot carried
            last, scope.unsure = kept.take_carried(
                site, lambda base: pagelog.written_since(config, base, since))
        lists = doclists.open_lists(config, manifest, doclists.changed_ids(scope, total),
                                    skip=scope.whole_routes if scope else set(),
                                    kept=last.keys()) if fresh else None
        collected = collect_pages(config, source, data, now, scope, reads=renderer.reads_any,
                                  recorded=None if scope is None else manifest.pages_at,
                                  last=last, lists=lists)
        forced = frozenset(scope.forced) if scope else frozenset()
        plan = plan_render(config, manifest, renderer, data, collected, full=full, force=forced,
                           files_checked=not full)
        files = plan.files = page_files(plan.pages)
        _read_ahead(config, plan, files)
        clashed = _fail_clashes(plan, files, find_clashes(
            manifest, files, static_files(config), generated_files(config)))
        # The pages' bytes made while the proof runs beside them; none written before it.
        proving = _proving(source)
        ready = prerender(config, plan, renderer) \
            if proving and serial(jobs, len(plan.to_render)) else None
        # The wait for the proof, a stage of its own (not the query's) in the round's account.
        with timer.within("query", "proof") if proving else nullcontext():
            _proved(source)  # before the journal names the pages this build writes
        journal_pages(manifest, plan, files)
    began = time.perf_counter()
    # A command's full build: rows recorded as pages arrive (to the last batch, when
    # another process renders beside this one); with no output folder yet, the pages
    # written into a staging folder swapped in whole after the render.
    count = len(plan.to_render)
    with EarlyRecord(manifest, on=full and fresh,
                     expected=0 if serial(jobs, count) else count,
                     note=lambda paths: note_history(config, manifest, plan, paths,
                                                     full=False)) as early, \
            staged(config.output_dir, on=full and fresh) as staging, \
            young_only(keep=full and fresh):
        # The renderer the plan's template hashes were taken with: its templates read
        # once a build (an edit since is the next build's, as for the plan).
        outcomes = render_pages(config, plan, jobs=jobs, reporter=reporter,
                                arrived=early.arrived, staging=staging, renderer=renderer,
                                ready=ready, beside=(lambda: _beside_render(
                                    config, renderer, plan)) if full and fresh else None)
    # The workers' hashes, for the snapshot's memo (``carry.keep``): not taken again.
    plan.data_hashes.update((o.path, o.data_hash) for o in outcomes if o.data_hash)
    timer.split("render", "write", time.perf_counter() - began,
                sum(o.render_s for o in outcomes), sum(o.write_s for o in outcomes))
    outcomes += clashed
    faults.point("before-record")
    with timer("record"):
        report = record_build(config, key, manifest, renderer, plan, outcomes,
                              settled(states, source), full=full,
                              content=content_failures(source, collected), early=early)
        after = manifest.get_meta(GENERATION_KEY)
        kept.keep(site, after, {**last, **collected.specs})
        pagelog.note(config, since, after, plan.pages.keys() | set(plan.removed), reset=full)
        if lists is not None:
            doclists.save(config, manifest, lists)
        report.kept = sum(map(len, collected.kept.values()))
        report.planned = len(plan.pages)
    faults.point("after-record")
    return report, plan


def _read_ahead(config: Config, plan: RenderPlan, files: dict[str, str]) -> None:
    """Serve's round: the rows and files its record and writes will read first, read on
    a thread while it renders (``readahead``)."""
    paths = [spec.path for spec in plan.to_render]
    readahead.start(sqlite_path(config.state_dir), paths,
                    [files[path] for path in paths if path in files], config.output_dir)


def _beside_render(config: Config, renderer: Renderer, plan: RenderPlan) -> None:
    """A cold build's work after its render that does not wait for the pages, done while
    the other processes render them: the sitemap's rows and lastmods, the fragment
    store's key (~20 ms at 4,000 pages that one core did alone after the render). Its
    failure is the later stage's to report, which then works it out again."""
    try:
        extras.ahead(config, plan)
        key_ahead(config, renderer)
    except (SsgenError, OSError):
        return


def _proved(source: Source) -> None:
    """Before any page is written: a serve round whose reload took a webhook's document
    as its file's one change waits for the proof of the rest (``ndjson.proof``), which
    ran beside the queries; ``HintRefuted`` when it failed (the round builds again)."""
    # Looked up on the class: a lazy source's ``__getattr__`` would load it whole.
    proven = getattr(type(source), "proven", None)
    if callable(proven) and not proven(source):
        raise HintRefuted("the dataset changed beyond the webhook's document")


def _proving(source: Source) -> bool:
    """Whether a proof the source's last reload started is still to be waited for."""
    proving = getattr(type(source), "proving", None)  # the class's, as in ``_proved``
    return callable(proving) and bool(proving(source))


def _fail_clashes(plan: RenderPlan, files: dict[str, str],
                  clashes: dict[str, str]) -> list[PageOutcome]:
    """Take the clashing pages out of the plan; their failures, as render outcomes."""
    if not clashes:
        return []
    plan.clashed = set(clashes)
    plan.to_render = [spec for spec in plan.to_render if spec.path not in clashes]
    plan.unchanged = [path for path in plan.unchanged if path not in clashes]
    return [PageOutcome(path, files[path], error=why) for path, why in sorted(clashes.items())]


def content_failures(source: Source, collected: Collected) -> list[PageFailure]:
    """The documents the source left out and the paths several pages want."""
    left_out = getattr(source, "faults", None)
    found = [PageFailure(where, "", message, DOCUMENT)
             for where, message in (left_out() if callable(left_out) else [])]
    found += [PageFailure(clash.path, clash.routes, clash.message(), PATH)
              for clash in collected.clashes]
    return found
