"""Record stage of the build: the manifest catches up with what reached disk.

Runs after the page files are written, in one transaction: pages that built get their
hashes and tags (in bulk), pages that failed keep their last good record and get a
failure entry, pages that disappeared lose their file and record, and the template,
global, document and meta state of this build is stored for the next one.

A full build of a new process records its pages' rows and files earlier (``EarlyRecord``):
each batch as it comes back from the render, in a short transaction of its own, on the
build process's core while the other renders. A row is still written only after its
file, so a build killed meanwhile leaves the manifest behind the files, never ahead; and
no write lock is held through the render (another process's writes, such as a running
serve's webhook queue, wait for one batch at most).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from types import TracebackType

from ssgen import __version__
from ssgen.build.docstate import BASE_KEY, MARK_KEY, DocStates
from ssgen.build.output import Output
from ssgen.build.plan import RenderPlan
from ssgen.build.redirects import note_history
from ssgen.build.report import PAGE, BuildReport, PageFailure
from ssgen.build.untouched import forget_inputs
from ssgen.build.verify import extras_pending
from ssgen.build.workers import PageOutcome
from ssgen.config.load import Config
from ssgen.manifest.schema import TAG_SCHEME, PageRecord, page_row
from ssgen.manifest.store import Manifest
from ssgen.render.environment import Renderer
from ssgen.sources.ndjson import gc_paused


def record_build(
    config: Config,
    key: str,
    manifest: Manifest,
    renderer: Renderer,
    plan: RenderPlan,
    outcomes: list[PageOutcome],
    states: DocStates | None,
    *,
    full: bool,
    content: list[PageFailure] | None = None,
    early: EarlyRecord | None = None,
) -> BuildReport:
    """Write the manifest for what reached disk, delete what disappeared, count it all.

    ``content``: this build's path clashes and left-out documents, reported and recorded
    with the pages that failed. ``early``: what recorded pages during the render (those
    are not written again).
    """
    report = BuildReport(rendered=len(outcomes), unchanged=len(plan.all_paths) - len(outcomes))
    built = [o for o in outcomes if o.error is None]
    failed = [o for o in outcomes if o.error is not None]
    # No cyclic collections: the stage makes a few acyclic rows a page, and the
    # collector's passes over them were ~10% of it at 16,000 pages.
    done = early.recorded if early is not None else set()
    with gc_paused(), _transaction(manifest, full):
        report.failures.extend(content or [])
        _record_failures(manifest, plan, failed, report)
        _settle_failures(manifest, plan, report, {o.path for o in built})
        for outcome in built:
            if outcome.written:
                report.written += 1
                (report.new if outcome.is_new else report.changed).append(outcome.file)
            else:
                report.identical += 1
        rest = [o for o in built if o.path not in done] if done else built
        manifest.record_rows([o.row or page_row(_page_record(plan, o), plan.tags[o.path],
                                                o.images) for o in rest])
        manifest.set_files(_file_rows(rest))
        # Every page file noted for this build is now recorded, or was never written
        # (a failed page's write is atomic): one statement, not one per page.
        manifest.journal_clear(kind="page")
        _remove_pages(manifest, Output(config.output_dir), plan.removed, report)
        note_history(config, manifest, plan, (o.path for o in built), full=full)
        for name, template_hash in plan.template_hashes.items():
            manifest.set_template(name, template_hash, renderer.template_chain(name))
        for name, value_hash in plan.global_hashes.items():
            manifest.set_global(name, value_hash)
        _record_documents(manifest, states, full)
        forget_inputs(manifest)  # recorded again by the build's end
        extras_pending(manifest, True)
        manifest.set_meta("ssgen_version", __version__)
        manifest.set_meta("tag_scheme", TAG_SCHEME)
        manifest.set_meta("config_hash", key)
    return report


def _transaction(manifest: Manifest, full: bool) -> AbstractContextManager[object]:
    """The record stage's transaction; without fsync for a full build."""
    stack = ExitStack()
    if full:
        stack.enter_context(manifest.unsynced())
    stack.enter_context(manifest.transaction())
    return stack


def _file_rows(built: list[PageOutcome]) -> list[tuple[str, str, str, int, int]]:
    return [(o.file, o.output_hash, "page", o.size, o.mtime_ns) for o in built]


class EarlyRecord:
    """A command's full build recording its pages as their batches arrive from the render
    (``arrived``), each batch committed on its own, instead of all of them after it.

    The build process renders too, taking chunks in turn with the workers: the ~0.18 s
    of rows and files of 16,000 pages it writes here leaves it fewer chunks to render,
    instead of adding to the serial time after the render. Only for a full build of a
    command (``on``): serve's rounds record after their render, as before. Used as a
    context manager around the render: fsync off inside (as in a full build's record
    stage).
    """

    # Rows are written once this many have arrived: ``record_bulk``'s statements, not
    # one per page.
    BATCH = 512

    def __init__(self, manifest: Manifest, *, on: bool, expected: int = 0,
                 note: Callable[[list[str]], None] | None = None) -> None:
        self._manifest = manifest
        self.on = on
        # Each batch's pages noted in the path history with their rows (``note_history``):
        # a build killed after a batch leaves records the next build finds unchanged and
        # does not record again, so their history must be there already (else a moved
        # page's old path said 410 where a clean build said 301).
        self._note = note
        self._stack = ExitStack()
        self._waiting: list[PageOutcome] = []
        self._new = False
        # The outcomes a parallel render will hand over (0: not said), and those it has:
        # once fewer than a batch are still to come, every arrival but the last is
        # written as it arrives, while the other processes render on.
        self._expected, self._seen = expected, 0
        self.recorded: set[str] = set()  # the paths whose rows are committed

    def __enter__(self) -> EarlyRecord:
        if self.on:
            self._stack.enter_context(self._manifest.unsynced())
            # Over an empty table (a first build), each batch's rows are all new.
            self._new = not self._manifest.has_pages()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stack.__exit__(kind, error, trace)

    def arrived(self, batch: list[PageOutcome]) -> None:
        """Pages rendered: their rows committed (a batch at a time), when on. A page
        without a row (``PageWriter`` did not know its tags) is the record stage's."""
        if not self.on:
            return
        self._waiting += [o for o in batch if o.error is None and o.row]
        self._seen += len(batch)
        # Near the render's end too: left for the record stage, a part-filled batch (up to
        # 511 rows, ~4 ms at 1,000 pages) was written after the render, when nothing else
        # runs beside it; the last batch is the record stage's (it writes anyway).
        left = self._expected - self._seen
        if len(self._waiting) >= self.BATCH or (self._waiting and 0 < left < self.BATCH):
            rows, self._waiting = self._waiting, []
            with gc_paused(), self._manifest.transaction():
                self._manifest.record_rows([o.row for o in rows], new=self._new)
                self._manifest.set_files(_file_rows(rows))
                if self._note is not None:
                    self._note([o.path for o in rows])
            self.recorded.update(o.path for o in rows)


def journal_pages(manifest: Manifest, plan: RenderPlan, files: dict[str, str]) -> None:
    """Note the files of the pages about to be rendered (committed before any is written,
    with the inputs' digest forgotten: ``forget_inputs``); ``files``: page path -> file
    (a page missing there fails before writing anything)."""
    with manifest.transaction():
        forget_inputs(manifest)
        manifest.journal_add((files[spec.path], "page") for spec in plan.to_render
                             if spec.path in files)


def _page_record(plan: RenderPlan, outcome: PageOutcome) -> PageRecord:
    spec = plan.pages[outcome.path]
    return PageRecord(
        outcome.path,
        spec.route,
        spec.params,
        spec.template,
        outcome.data_hash or plan.data_hashes[outcome.path],
        outcome.output_hash,
        outcome.file,
    )


def _record_failures(
    manifest: Manifest, plan: RenderPlan, failed: list[PageOutcome], report: BuildReport
) -> None:
    for outcome in failed:
        assert outcome.error is not None
        route = plan.pages[outcome.path].route
        report.failures.append(PageFailure(outcome.path, route, outcome.error))
        manifest.record_failure(outcome.path, route, outcome.error)
        if manifest.page(outcome.path) is None:
            plan.failed_new.add(outcome.path)


def _settle_failures(manifest: Manifest, plan: RenderPlan, report: BuildReport,
                     built: set[str]) -> None:
    """Record the content failures; forget the failures this build no longer has.

    A recorded failure is looked at again by every build (the scope re-queries its
    routes), so one that is not failing now is gone: its page built, its routes no
    longer produce it, or its document was fixed (documents are all re-read).
    """
    failing = {failure.path for failure in report.failures}
    for old in manifest.failures():
        if old.path not in failing and (
            not old.route or old.path in built
            or set(old.route.split(",")) <= plan.complete_routes
        ):
            manifest.clear_failure(old.path)
    for failure in report.failures:
        if failure.kind != PAGE:
            manifest.record_failure(failure.path, failure.route, failure.message)


def _remove_pages(
    manifest: Manifest, output: Output, paths: list[str], report: BuildReport
) -> None:
    for path in paths:
        record = manifest.page(path)
        manifest.remove_page(path)
        manifest.clear_failure(path)
        if record is None:
            continue
        if output.remove(record.file):
            report.removed += 1
            report.deleted.append(record.file)
        manifest.remove_file(record.file)


def _record_documents(manifest: Manifest, states: DocStates | None, full: bool) -> None:
    if states is None:
        manifest.set_meta(MARK_KEY, "")
        manifest.set_meta(BASE_KEY, "")
        return
    if full:
        manifest.set_documents(states.after, replace=True)
    else:
        before = manifest.documents() if states.before is None else states.before
        after = states.after
        changed = {i: v for i, v in after.items() if before.get(i) != v}
        manifest.set_documents(changed, before.keys() - after.keys())
    manifest.set_meta(MARK_KEY, states.mark)
    manifest.set_meta(BASE_KEY, states.base)
