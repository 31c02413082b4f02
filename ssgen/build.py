"""The build: config + source -> pages -> rendered files -> manifest, one stage a line.

A full build is a rebuild in which every page is affected; an incremental build runs
the same stages and renders only the pages whose data or templates changed (see
``ssgen.plan``). The manifest is written after the files, so it never runs ahead of them.
"""

from __future__ import annotations

import time
from typing import Any
from datetime import UTC, datetime
from pathlib import Path

from ssgen import __version__
from ssgen.config import Config
from ssgen.extras import write_extras
from ssgen.errors import ManifestError
from ssgen.lock import BuildLock
from ssgen.manifest import Manifest
from ssgen.output import Output
from ssgen.change import Change
from ssgen.incremental import (
    DocState,
    Scope,
    changed_globals,
    changed_templates,
    diff_documents,
    document_state,
    scope_for,
)
from ssgen.pages import collect_pages, query_globals
from ssgen.routes import data_hash
from ssgen.plan import RenderPlan, plan_render
from ssgen.progress import Reporter
from ssgen.render import Renderer
from ssgen.reporting import BuildReport, PageFailure
from ssgen.sources import Source, open_source
from ssgen.workers import PageOutcome, render_pages


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
) -> BuildReport:
    """Build the site: load, query, plan, render, write, record.

    Incremental unless ``full`` (or the manifest is missing, stale or unusable): only the
    routes and pages that the ``change`` (plus the document and template changes found by
    diffing against the manifest) reaches are re-queried, and only pages whose data or
    templates changed are re-rendered.
    """
    started = time.perf_counter()
    reporter = reporter or Reporter.quiet()
    now = now or datetime.now(UTC)
    with BuildLock(config.site_dir, wait=True):
        key = f"{config.hash}:{'drafts' if drafts else config.source.perspective}"
        manifest, full = _open_manifest(config, key, full, reporter)
        try:
            source = source or open_source(config, drafts=drafts)
            renderer = Renderer(config)
            data = query_globals(config, source, now)
            state = document_state(source)
            scope = None if full else _scope(config, manifest, renderer, data, state, change)
            collected = collect_pages(config, source, data, now, scope)
            forced = frozenset(scope.forced) if scope else frozenset()
            plan = plan_render(config, manifest, renderer, data, collected, full=full, force=forced)
            outcomes = render_pages(config, plan, jobs=jobs, reporter=reporter)
            report = _record(config, key, manifest, renderer, plan, outcomes)
            _record_documents(manifest, state, full)
            write_extras(config, manifest, report, plan)
        finally:
            manifest.close()
    report.full = full
    report.seconds = time.perf_counter() - started
    return report


def _scope(
    config: Config,
    manifest: Manifest,
    renderer: Renderer,
    data: dict[str, Any],
    state: DocState | None,
    change: Change | None,
) -> Scope:
    """What this incremental build must re-query: the given change plus what changed."""
    found = Change(templates=changed_templates(manifest, renderer))
    if state is not None:
        found = found.merge(Change(documents=diff_documents(manifest.documents(), state)))
    elif change is None:
        found = found.merge(Change(everything=True))  # a remote source cannot be diffed
    total = found if change is None else change.merge(found)
    hashes = {name: data_hash(value) for name, value in data.items()}
    return scope_for(config, manifest, renderer, total, changed_globals(manifest, hashes))


def _record_documents(manifest: Manifest, state: DocState | None, full: bool) -> None:
    if state is None:
        return
    if full:
        manifest.set_documents(state, replace=True)
        return
    before = manifest.documents()
    changed = {i: v for i, v in state.items() if before.get(i) != v}
    manifest.set_documents(changed, before.keys() - state.keys())


def _open_manifest(
    config: Config, key: str, full: bool, reporter: Reporter
) -> tuple[Manifest, bool]:
    """The site's manifest; a fresh one (and a full build) when it is missing or unusable."""
    path = config.state_dir / "manifest.sqlite"
    existed = path.exists()
    try:
        manifest = Manifest.open(path)
    except ManifestError as exc:
        reporter.warn(f"{exc}; starting a full rebuild with a new manifest")
        manifest = Manifest.reset(path)
        return manifest, True
    stale = manifest.get_meta("ssgen_version") != __version__ or (
        manifest.get_meta("config_hash") != key
    )
    if existed and stale and not full:
        reporter.info("configuration or ssgen version changed: full rebuild")
    return manifest, full or stale or not existed


def _record(
    config: Config,
    key: str,
    manifest: Manifest,
    renderer: Renderer,
    plan: RenderPlan,
    outcomes: list[PageOutcome],
) -> BuildReport:
    """Write the manifest for what reached disk, delete what disappeared, count it all."""
    report = BuildReport(rendered=len(outcomes), unchanged=len(plan.all_paths) - len(outcomes))
    output = Output(config.output_dir)
    with manifest.transaction():
        for outcome in outcomes:
            _record_outcome(manifest, plan, outcome, report)
        for path in plan.removed:
            _remove_page(manifest, output, path, report)
        for name, template_hash in plan.template_hashes.items():
            manifest.set_template(name, template_hash, renderer.template_chain(name))
        for name, value_hash in plan.global_hashes.items():
            manifest.set_global(name, value_hash)
        manifest.set_meta("ssgen_version", __version__)
        manifest.set_meta("config_hash", key)
    return report


def _record_outcome(
    manifest: Manifest, plan: RenderPlan, outcome: PageOutcome, report: BuildReport
) -> None:
    spec = plan.pages[outcome.path]
    if outcome.error is not None:
        report.failures.append(PageFailure(outcome.path, spec.route, outcome.error))
        manifest.record_failure(outcome.path, spec.route, outcome.error)
        if manifest.page(outcome.path) is None:
            plan.failed_new.add(outcome.path)
        return
    manifest.clear_failure(outcome.path)
    if outcome.written:
        report.written += 1
        (report.new if outcome.is_new else report.changed).append(outcome.file)
    manifest.record_page(
        outcome.path,
        spec.route,
        spec.params,
        spec.template,
        plan.data_hashes[outcome.path],
        outcome.output_hash,
        plan.tags[outcome.path],
    )
    manifest.set_file(outcome.file, outcome.output_hash, "page")


def _remove_page(manifest: Manifest, output: Output, path: str, report: BuildReport) -> None:
    record = manifest.page(path)
    manifest.remove_page(path)
    if record is None:
        return
    if output.remove(record.file):
        report.removed += 1
        report.deleted.append(record.file)
    manifest.remove_file(record.file)


def site_paths(config: Config) -> list[Path]:
    """Files and folders whose change can change the site (for watch mode)."""
    return [config.config_file, config.templates_dir, config.static_dir, config.content_dir]


__all__ = ["BuildReport", "PageFailure", "build", "site_paths"]
