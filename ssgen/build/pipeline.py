"""The build: config + source -> pages -> rendered files -> manifest, one stage a line.

A full build is a rebuild in which every page is affected; an incremental build runs
the same stages and renders only the pages whose data or templates changed (see
``ssgen.build.plan``). The manifest is written after the files, so it never runs ahead of them.
"""

from __future__ import annotations

import gc
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssgen.build import doclists, faults
from ssgen.build.change import Change
from ssgen.build.clash import (
    clashing_records,
    feed_not_generated,
    find_clashes,
    generated_files,
    page_files,
)
from ssgen.build.collect import (
    Collected,
    Scope,
    collect_pages,
    exact_ids,
    query_globals,
)
from ssgen.build.docstate import DocStates, document_states, lazy_or_loaded
from ssgen.build.extras import static_files, write_extras
from ssgen.build.fragfile import persisted_fragments
from ssgen.build.guard import locked
from ssgen.build.heap import freeze_heap, frozen_after
from ssgen.build.images import sync_images
from ssgen.build.linkcheck import check_build, take_mark
from ssgen.build.loading import load_source
from ssgen.build.memo import carry, kept
from ssgen.build.opening import open_manifest
from ssgen.build.output import Output, url_to_file
from ssgen.build.plan import RenderPlan, plan_render
from ssgen.build.progress import Reporter
from ssgen.build.record import journal_pages, record_build
from ssgen.build.report import (
    DOCUMENT,
    PATH,
    SITE_FILES_ROUTE,
    BuildReport,
    PageFailure,
    StageTimer,
)
from ssgen.build.scope import (
    changed_globals,
    changed_templates,
    document_change,
    scope_for,
    whole_routes,
)
from ssgen.build.search import INLINE, SearchMode, pagefind_binary, prepare_search
from ssgen.build.untouched import fingerprint, nothing_changed, untouched
from ssgen.build.verify import Damage, extras_pending, find_damage, mark_checked, recover_orphans
from ssgen.build.workers import PageOutcome, render_pages
from ssgen.config.load import Config
from ssgen.errors import SsgenError
from ssgen.manifest.pages import GENERATION_KEY
from ssgen.manifest.store import Manifest
from ssgen.render.environment import Renderer
from ssgen.routes.spec import data_hash
from ssgen.sources import Source, early, filecache
from ssgen.sources.mirror import mirrored, sync_mirror

if TYPE_CHECKING:
    from ssgen.links import LinkOptions


def build(
    config: Config,
    *,
    full: bool = False,
    jobs: int | None = None,
    drafts: bool = False,
    reporter: Reporter | None = None,
    source: Source | None = None,
    now: datetime | None = None,
    change: Change | None = None,
    frozen_heap: bool = False,
    release: bool = True,
    check: LinkOptions | None = None,
    search: SearchMode = INLINE,
) -> BuildReport:
    """Build the site: load, query, plan, render, write, record.

    ``frozen_heap``: the caller froze its heap (``gc.freeze``) and collects what the
    build allocated itself (serve); the build then leaves it frozen.
    ``release=False``: what the build loaded and planned is not freed when it returns
    but kept for the process's exit to drop (``left_for_exit``): a command that exits
    right after skips freeing it (0.25 s for 20k documents).

    Incremental unless ``full`` (or the manifest is missing, stale or unusable): only the
    routes and pages that the ``change`` (plus the document and template changes found by
    diffing against the manifest) reaches are re-queried, and only pages whose data or
    templates changed are re-rendered. ``check``: check the output's links afterwards
    (``report.links``; incremental when the previous build was checked too).
    ``search``: how the search bundle is made (``ssgen.build.search.SearchMode``).
    """
    started = time.perf_counter()
    reporter = reporter or Reporter.quiet()
    run = _Run(config, reporter, StageTimer(on_done=reporter.slow_stage), jobs,
               now or datetime.now(UTC))
    if config.search.enabled:
        pagefind_binary()  # a missing Pagefind is a setup error, found before any work
    with locked(config, run.reporter):
        key = f"{config.hash}:{'drafts' if drafts else config.source.perspective}"
        manifest, reason = open_manifest(config, key, full, run.reporter)
        full = bool(reason)
        try:
            links_current = take_mark(manifest)
            if source is None and mirrored(config):
                _sync_mirror(config, run.reporter)
            damage = _recover(run, manifest, full)
            report, plan, source, inputs = _content(run, manifest, key, source, change,
                                                    full=full, drafts=drafts, damage=damage)
            if not release:
                _LEFT_FOR_EXIT.append((source, plan))
            _site_files(run, manifest, report, plan, search)
            with run.timer("snapshot"):  # after the feed, whose rows it carries too
                carry.keep(config, source, plan.pages.values() if full else ())  # given: no-op
            faults.point("after-extras")
            if check is not None:
                with run.timer("links"):
                    report.links = check_build(config, manifest, report, check, links_current)
            _close_run(manifest, report, inputs)
        finally:
            manifest.close()
            filecache.settle()  # the parse cache saved by another process meanwhile
            if not frozen_heap:
                gc.unfreeze()
    report.full, report.reason, report.stages = full, reason, run.timer.stages()
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Run:
    """What every stage of one build uses."""

    config: Config
    reporter: Reporter
    timer: StageTimer
    jobs: int | None
    now: datetime


def _recover(run: _Run, manifest: Manifest, full: bool) -> Damage:
    """Crash orphans removed; the owned output checked (not after a full build, which
    rewrites it all); pages that a static or generated file now displaces marked."""
    config = run.config
    orphans = recover_orphans(manifest, Output(config.output_dir))
    if orphans:
        run.reporter.info(f"removed {len(orphans)} file(s) a killed build never recorded")
    damage = Damage() if full else find_damage(manifest, config.output_dir)
    prepare_search(config, manifest, full=full, damaged=damage.files)
    # Pages a static or generated file now displaces fail, as in a full build.
    static = static_files(config)
    damage.pages |= clashing_records(manifest, static, generated_files(config))
    damage.files |= feed_not_generated(config, manifest, static)
    return damage


def _content(run: _Run, manifest: Manifest, key: str, source: Source | None,
             change: Change | None, *, full: bool, drafts: bool,
             damage: Damage) -> tuple[BuildReport, RenderPlan, Source | None, str | None]:
    """The pages: skipped whole when the inputs' fingerprint is the one last built from,
    else loaded, queried, rendered and recorded. Returns the inputs' fingerprint to keep."""
    config, timer = run.config, run.timer
    renderer = Renderer.shared(config)
    # Only a build with no explicit change can skip work on an equal fingerprint;
    # the others (serve, revalidate) forget it, so the next one checks afresh.
    # A given source counts only if it is the local one (tests and serve may pass a
    # remote source for a site configured as local).
    local = change is None and (
        hasattr(source, "fingerprint")
        if source is not None
        else config.source.type == "local" or mirrored(config)
    )
    inputs, read = None, None
    if local and not full and manifest.get_meta("inputs"):
        # A kept source (serve) is compared as loaded: equal means it holds exactly
        # the content last built from, whatever the files say now.
        if source is not None:
            inputs = fingerprint(source)
        else:
            with timer("load"):
                read = early.inputs(config)
            inputs = read.fingerprint
    if inputs is not None and not damage and untouched(manifest, renderer, inputs):
        report, plan = nothing_changed(manifest)
        return report, plan, source, inputs
    # A new process (no kept source) reuses the include outputs earlier ones rendered.
    persist = persisted_fragments(config, renderer, full=full) if source is None \
        else nullcontext()
    fresh = source is None  # loaded here: no pages kept from earlier builds (see doclists)
    with timer("load"):
        source = source or lazy_or_loaded(config, manifest, None if full else read, lambda: (
            load_source(config, drafts, run.reporter, read, run.jobs, full=full)))
    with persist:
        report, plan = _rebuild(
            config, key, manifest, renderer, source, run.now, change, full=full, jobs=run.jobs,
            reporter=run.reporter, timer=timer, damage=damage, fresh=fresh,
        )
    # Never what is on disk after the build: an edit made during it must not
    # be recorded as built. The fingerprint taken before loading is safe to
    # keep (at worst older than what was built: the next build looks again);
    # without one, the source's is of exactly the bytes it read.
    if local and inputs is None:
        inputs = fingerprint(source)
    return report, plan, source, inputs


def _site_files(run: _Run, manifest: Manifest, report: BuildReport, plan: RenderPlan,
                search: SearchMode) -> None:
    """Image variants, then static and generated files; their failures are reported
    with the pages', never instead of them."""
    config = run.config
    try:
        with run.timer("images"):
            sync_images(config, manifest, report, jobs=run.jobs)
    except SsgenError as exc:
        report.failures.append(PageFailure("(images)", SITE_FILES_ROUTE, str(exc)))
    try:
        with run.timer("write"):
            write_extras(config, manifest, report, plan, run.now, search)
            extras_pending(manifest, False)
        if report.warnings:
            from rich.markup import escape

            for warning in report.warnings:
                run.reporter.warn(escape(warning))
    except SsgenError as exc:
        report.failures.append(PageFailure("(site files)", SITE_FILES_ROUTE, str(exc)))


def _close_run(manifest: Manifest, report: BuildReport, inputs: str | None) -> None:
    """What the next build starts from: the output checked, the inputs built from."""
    mark_checked(manifest)
    manifest.set_meta("inputs", inputs or "")
    if report.ok:
        manifest.set_meta("last_success", repr(time.time()))


# What builds with ``release=False`` left for the process's exit (see ``left_for_exit``).
_LEFT_FOR_EXIT: list[object] = []


def left_for_exit() -> bool:
    """Whether a build left its data for the process's exit: the command line then ends
    with ``os._exit``, skipping the interpreter's freeing of it (as mypy does)."""
    return bool(_LEFT_FOR_EXIT)


def release_left() -> None:
    """Free what builds left for the process's exit (a caller that goes on running)."""
    _LEFT_FOR_EXIT.clear()


def _rebuild(
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
        scope, total = (None, None) if full else _scope(config, manifest, renderer, data,
                                                        states, change, source, damage)
        site = f"{config.site_dir}\0{key}"
        last = kept.take(site, manifest.get_meta(GENERATION_KEY))
        lists = doclists.open_lists(config, manifest, doclists.changed_ids(scope, total),
                                    skip=scope.whole_routes if scope else set(),
                                    kept=last.keys()) if fresh else None
        collected = collect_pages(config, source, data, now, scope, reads=renderer.reads_any,
                                  recorded=None if scope is None else manifest.pages_at,
                                  last=last, lists=lists)
        forced = frozenset(scope.forced) if scope else frozenset()
        plan = plan_render(config, manifest, renderer, data, collected, full=full, force=forced,
                           files_checked=not full)
        files = page_files(plan.pages)
        clashed = _fail_clashes(plan, files, find_clashes(
            manifest, files, static_files(config), generated_files(config)))
        journal_pages(manifest, plan, files)
    began = time.perf_counter()
    outcomes = render_pages(config, plan, jobs=jobs, reporter=reporter)
    timer.split("render", "write", time.perf_counter() - began,
                sum(o.render_s for o in outcomes), sum(o.write_s for o in outcomes))
    outcomes += clashed
    faults.point("before-record")
    with timer("record"):
        report = record_build(config, key, manifest, renderer, plan, outcomes, states, full=full,
                              content=content_failures(source, collected))
        kept.keep(site, manifest.get_meta(GENERATION_KEY), {**last, **collected.specs})
        if lists is not None:
            doclists.save(config, manifest, lists)
        report.kept = sum(map(len, collected.kept.values()))
    faults.point("after-record")
    return report, plan


def _fail_clashes(plan: RenderPlan, files: dict[str, str],
                  clashes: dict[str, str]) -> list[PageOutcome]:
    """Take the clashing pages out of the plan; their failures, as render outcomes."""
    if not clashes:
        return []
    plan.clashed = set(clashes)
    plan.to_render = [spec for spec in plan.to_render if spec.path not in clashes]
    plan.unchanged = [path for path in plan.unchanged if path not in clashes]
    return [PageOutcome(path, files[path], error=why) for path, why in sorted(clashes.items())]


def _repair(config: Config, manifest: Manifest, damage: Damage, scope: Scope) -> Scope:
    """Add to ``scope`` what rewrites the damaged files: their pages (as recorded) and the
    feed's route (its file is otherwise kept when the route is not re-queried)."""
    for path, record in manifest.pages_at(damage.pages).items():
        scope.forced.add(path)
        scope.paths.add(path)
        scope.routes.add(record.route)
    if config.feed is not None and damage.touches(str(url_to_file(config.feed.path))):
        scope.routes.add(config.feed.route)
        scope.full_routes.add(config.feed.route)
    return scope


def content_failures(source: Source, collected: Collected) -> list[PageFailure]:
    """The documents the source left out and the paths several pages want."""
    left_out = getattr(source, "faults", None)
    found = [PageFailure(where, "", message, DOCUMENT)
             for where, message in (left_out() if callable(left_out) else [])]
    found += [PageFailure(clash.path, clash.routes, clash.message(), PATH)
              for clash in collected.clashes]
    return found


def _sync_mirror(config: Config, reporter: Reporter) -> None:
    report = sync_mirror(config)
    reporter.info(f"mirror: {report.kind} sync, {report.fetched} fetched, {report.deleted} "
                  f"removed, {report.documents} documents, {report.requests} requests")


def _scope(
    config: Config,
    manifest: Manifest,
    renderer: Renderer,
    data: dict[str, Any],
    states: DocStates | None,
    change: Change | None,
    source: Source,
    damage: Damage,
) -> tuple[Scope, Change]:
    """What this incremental build must re-query: the given change plus what changed
    (and what rewrites the owned files damaged from outside); and that change."""
    found = Change(templates=changed_templates(manifest, renderer))
    if states is not None:
        before = manifest.documents() if states.before is None else states.before
        found = found.merge(document_change(before, states.after))
    elif change is None:
        found = found.merge(Change(everything=True))  # a remote source cannot be diffed
    total = found if change is None else change.merge(found)
    hashes = {name: data_hash(value) for name, value in data.items()}
    globals_changed = changed_globals(manifest, hashes)
    scope = scope_for(
        config, manifest, renderer, total, globals_changed, exact=exact_ids(source)
    )
    scope.whole_routes = whole_routes(config, renderer, frozenset(total.templates),
                                      globals_changed)
    return _repair(config, manifest, damage, scope), total


def site_paths(config: Config) -> list[Path]:
    """Files and folders whose change can change the site (for watch mode)."""
    return [config.config_file, config.templates_dir, config.static_dir, config.content_dir]


__all__ = ["BuildReport", "PageFailure", "build", "left_for_exit", "release_left", "site_paths"]
