"""The build: config + source -> pages -> rendered files -> manifest, one stage a line.

A full build is a rebuild in which every page is affected; an incremental build runs
the same stages and renders only the pages whose data or templates changed (see
``ssgen.build.plan``). The manifest is written after the files, so it never runs ahead of them.

Owns ``build`` and the stages around the pages: the lock, the manifest, crash recovery
and damage, the site files (images, static, generated), the links check and what the next
build starts from. The pages themselves are ``pages``' (skip, load, query, plan, render,
record); what an incremental build re-queries is ``reach``'s; ``run`` holds what every
stage uses.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

from ssgen.build import faults
from ssgen.build.change import Change
from ssgen.build.clash import clashing_records, feed_not_generated, generated_files
from ssgen.build.extras import static_files, write_extras
from ssgen.build.guard import locked
from ssgen.build.images import sync_images
from ssgen.build.linkcheck import check_build, take_mark
from ssgen.build.loading import keep_snapshot
from ssgen.build.opening import open_manifest
from ssgen.build.output import Output
from ssgen.build.pipeline.pages import content
from ssgen.build.pipeline.run import Run
from ssgen.build.plan import RenderPlan
from ssgen.build.progress import Reporter
from ssgen.build.quick import plan as quick_plan
from ssgen.build.report import SITE_FILES_ROUTE, BuildReport, PageFailure, StageTimer
from ssgen.build.search import INLINE, SearchMode, pagefind_binary, prepare_search
from ssgen.build.untouched import INPUTS_KEY, SIZES_KEY
from ssgen.build.verify import Damage, extras_pending, find_damage, mark_checked, recover_orphans
from ssgen.config.load import Config
from ssgen.errors import SnapshotDamaged, SsgenError
from ssgen.manifest.store import Manifest
from ssgen.sources import Source, filecache
from ssgen.sources.mirror import mirrored, sync_mirror

if TYPE_CHECKING:
    from ssgen.links import LinkOptions


class BuildOptions(TypedDict, total=False):
    """``build``'s keyword options: see ``_build_once``."""

    full: bool
    jobs: int | None
    drafts: bool
    reporter: Reporter | None
    source: Source | None
    now: datetime | None
    change: Change | None
    frozen_heap: bool
    release: bool
    check: LinkOptions | None
    search: SearchMode
    remember: bool
    manifest: Manifest | None


def build(config: Config, **options: Unpack[BuildOptions]) -> BuildReport:
    """Build the site: see ``_build_once``. A lazily resumed snapshot found damaged at a
    fill (``SnapshotDamaged``: removed then) is said so and the build done again from the
    files."""
    attempt = functools.partial(_build_once, config, **options)
    try:
        return attempt()
    except SnapshotDamaged as exc:
        (options.get("reporter") or Reporter.quiet()).warn(f"{exc}; building from the files")
        return attempt()


def _build_once(
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
    remember: bool = False,
    manifest: Manifest | None = None,
) -> BuildReport:
    """Build the site: load, query, plan, render, write, record.

    ``frozen_heap``: the caller froze its heap (``gc.freeze``) and collects what the
    build allocated itself (serve); the build then leaves it frozen.
    ``release=False``: what the build loaded and planned is not freed when it returns
    but kept for the process's exit to drop (``left_for_exit``): a command that exits
    right after skips freeing it (0.25 s for 20k documents), and re-saves the snapshot it
    resumed, when due, in a child forked as it exits (``carry.keep``'s ``later``).

    Incremental unless ``full`` (or the manifest is missing, stale or unusable): only the
    routes and pages that the ``change`` (plus the document and template changes found by
    diffing against the manifest) reaches are re-queried, and only pages whose data or
    templates changed are re-rendered. ``check``: check the output's links afterwards
    (``report.links``; incremental when the previous build was checked too).
    ``search``: how the search bundle is made (``ssgen.build.search.SearchMode``).
    ``remember``: leave the quick plan of what it built (``ssgen.build.quick.plan``;
    every build first removes the one on disk).
    ``manifest``: the site's manifest, open already and left open (serve's, kept across
    rounds so that SQLite's page cache holds what the rounds read: ``ssgen.serve.worker``).
    """
    started = time.perf_counter()
    reporter = reporter or Reporter.quiet()
    run = Run(config, reporter, StageTimer(on_done=reporter.slow_stage), jobs,
              now or datetime.now(UTC), left=None if release else _LEFT_FOR_EXIT)
    if config.search.enabled:
        pagefind_binary()  # a missing Pagefind is a setup error, found before any work
    with locked(config, run.reporter):
        quick_plan.forget(str(config.site_dir))  # it may no longer describe the site
        begun = time.time_ns()
        key = f"{config.hash}:{'drafts' if drafts else config.source.perspective}"
        kept = manifest
        manifest, reason = open_manifest(config, key, full, run.reporter, kept)
        full = bool(reason)
        try:
            links_current = take_mark(manifest)
            if source is None and mirrored(config):
                _sync_mirror(config, run.reporter)
            damage = _recover(run, manifest, full)
            report, plan, source, inputs = content(run, manifest, key, source, change,
                                                    full=full, drafts=drafts, damage=damage)
            if not release:
                _LEFT_FOR_EXIT.append((source, plan))
            _site_files(run, manifest, report, plan, search)
            with run.timer("snapshot"):  # after the feed, whose rows it carries too
                keep_snapshot(config, source, plan.pages.values() if full else (),
                              plan.data_hashes, later=not release)
            faults.point("after-extras")
            if check is not None:
                with run.timer("links"):
                    report.links = check_build(config, manifest, report, check, links_current)
            _close_run(manifest, report, inputs, run.sizes)
            if remember and not drafts:
                filecache.settle()  # the parse cache the plan is read from, saved
                with contextlib.suppress(SsgenError, OSError):  # then no plan is left
                    quick_plan.remember(config, manifest, report, begun)
        finally:
            # A full build's commits were unsynced (``record``): so is the checkpoint on
            # close, whose fsync of the whole database file ended every cold build.
            if kept is None:
                manifest.close(synced=not full)
            filecache.settle()  # the parse cache saved by another process meanwhile
            if not frozen_heap:
                gc.unfreeze()
    report.full, report.reason, report.stages = full, reason, run.timer.stages()
    report.seconds = time.perf_counter() - started
    return report


def settle_quick(config: Config) -> None:
    """Before a command reads the manifest's records of the output (``ssgen deploy`` its
    hashes, ``ssgen check`` its links): when quick builds wrote output files since the
    manifest was last written (``ssgen.build.quick``), an ordinary build records them."""
    if quick_plan.pending(str(config.site_dir)):
        build(config, remember=True)


def _recover(run: Run, manifest: Manifest, full: bool) -> Callable[[], Damage]:
    """Crash orphans removed now; the check of the owned output returned, to be called
    when a stage first needs it (``content``: once the source is loaded, or to tell a
    build with nothing to do). A new process's check is a forked child's stats of every
    owned file (``damage_ahead``: ~1 s at 100,000 posts) that the build would otherwise
    wait for before it decodes its snapshot, instead of beside it."""
    config = run.config
    orphans = recover_orphans(manifest, Output(config.output_dir))
    if orphans:
        run.reporter.info(f"removed {len(orphans)} file(s) a killed build never recorded")
    found: list[Damage] = []

    def damage() -> Damage:
        if not found:
            found.append(_damage(run, manifest, full))
        return found[0]
    return damage


def _damage(run: Run, manifest: Manifest, full: bool) -> Damage:
    """The owned output checked (not after a full build, which rewrites it all); pages
    that a static or generated file now displaces marked."""
    config = run.config
    damage = Damage() if full else find_damage(manifest, config.output_dir)
    prepare_search(config, manifest, full=full, damaged=damage.files)
    # Pages a static or generated file now displaces fail, as in a full build.
    static = static_files(config)
    damage.pages |= clashing_records(manifest, static, generated_files(config))
    damage.files |= feed_not_generated(config, manifest, static)
    return damage


def _site_files(run: Run, manifest: Manifest, report: BuildReport, plan: RenderPlan,
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
            write_extras(config, manifest, report, plan, run.now, search,
                         (run.since, run.serial) if run.serial else None)
            extras_pending(manifest, False)
        if report.warnings:
            from rich.markup import escape

            for warning in report.warnings:
                run.reporter.warn(escape(warning))
    except SsgenError as exc:
        report.failures.append(PageFailure("(site files)", SITE_FILES_ROUTE, str(exc)))


def _close_run(manifest: Manifest, report: BuildReport, inputs: str | None,
               sizes: str) -> None:
    """What the next build starts from: the output checked, the inputs built from (their
    digest, and their names and sizes: ``untouched.resized``)."""
    mark_checked(manifest)
    manifest.set_meta(INPUTS_KEY, inputs or "")
    manifest.set_meta(SIZES_KEY, sizes if inputs else "")
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





def _sync_mirror(config: Config, reporter: Reporter) -> None:
    report = sync_mirror(config)
    reporter.info(f"mirror: {report.kind} sync, {report.fetched} fetched, {report.deleted} "
                  f"removed, {report.documents} documents, {report.requests} requests")


def site_paths(config: Config) -> list[Path]:
    """Files and folders whose change can change the site (for watch mode)."""
    return [config.config_file, config.templates_dir, config.static_dir, config.content_dir]


__all__ = ["BuildReport", "PageFailure", "build", "left_for_exit", "release_left", "settle_quick",
           "site_paths"]
