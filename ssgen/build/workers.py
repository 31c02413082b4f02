"""Render stage of the build: pages -> HTML -> files, in parallel worker processes.

Workers are forked after the pages are collected, so page contexts are inherited rather
than pickled; the Jinja2 environment is built and warmed once before the fork, and every
process (the build's own included: ``ssgen.sources.fanout``) writes its pages through
``Output`` (atomic, write-if-changed). Only small outcomes travel back, as tuples, each
with the manifest row of its page built where it rendered (on every core, not in the
record stage). ``prerender``: a small render's bytes made before the build may write
(serve's round, while its reload's proof runs), written by ``render_pages`` after.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ssgen import shells
from ssgen.build import faults
from ssgen.build.memo.datahash import page_data_hash
from ssgen.build.output import Output, sha256, url_to_relpath
from ssgen.build.plan import RenderPlan
from ssgen.build.progress import Reporter
from ssgen.config.load import Config
from ssgen.errors import SsgenError
from ssgen.manifest.schema import PageRecord, page_row
from ssgen.render.environment import Renderer
from ssgen.render.filters import preload
from ssgen.render.fragments import store as fragment_store
from ssgen.render.images.variants import recording
from ssgen.routes.page import PageSpec
from ssgen.sources.fanout import MAX_CHUNKS, chunk_size, start

# Below this many pages, forking costs more than it saves.
_PARALLEL_THRESHOLD = 200
_CHUNK = 64
# A page whose data lists this many items renders longer than a chunk of ordinary pages.
_HEAVY_ITEMS = 256
_MOST_HEAVY = 1024
# The last _TAIL chunks' pages go in chunks _TAIL times smaller: whichever process takes
# the last chunk ends up to a chunk's time after the others, which wait (64 pages at
# ~140 us: up to ~9 ms of a 1,000-page build, half of it on average).
_TAIL = 4


class PageOutcome(NamedTuple):
    """What happened to one page: its file, hash, whether bytes changed, or its error.

    A named tuple, not a dataclass: one is made for each page where it rendered and again
    where it arrives, and a tuple is what ``marshal`` sends (``tuple(outcome)``, and
    ``tuple.__new__`` back): ~1.4 us a page against ~4.3 for a frozen dataclass's
    per-field ``__setattr__`` (16,000 pages: ~45 ms of CPU, most of it the build
    process's, which the render's other processes wait for)."""

    path: str
    file: str
    output_hash: str = ""
    written: bool = False
    is_new: bool = False
    error: str | None = None
    render_s: float = 0.0
    write_s: float = 0.0
    images: frozenset[str] = frozenset()  # tags of the image variants the page uses
    size: int = -1
    mtime_ns: int = -1
    data_hash: str = ""  # of the page's data (``ssgen.build.memo.datahash``), when it rendered
    row: tuple[str, ...] = ()  # its ``pages`` row (``page_row``), when the writer knew its tags


class Rendered(NamedTuple):
    """A page's bytes rendered before its write (``prerender``), or its render's error."""

    data: bytes
    images: frozenset[str]  # tags of the image variants the page uses
    render_s: float
    error: str | None = None


class PageWriter:
    """Renders and writes pages; one per process. ``ready``: pages rendered already
    (``prerender``), written as they are."""

    def __init__(self, config: Config, renderer: Renderer | None = None,
                 hashes: Mapping[str, str] | None = None,
                 tags: Mapping[str, frozenset[str]] | None = None,
                 staging: Path | None = None, files: Mapping[str, str] | None = None,
                 ready: dict[str, Rendered] | None = None) -> None:
        self.ready = ready if ready is not None else {}
        self.renderer = renderer or Renderer(config, auto_reload=False)
        # ``staging``: the cold build's folder no reader sees (``ssgen.build.output.staging``).
        self.output = Output(staging, unseen=True) if staging else Output(config.output_dir)
        # Data hashes the planner took; the others are taken here (``RenderPlan.data_hashes``).
        self.hashes = hashes or {}
        self.tags = tags or {}  # the plan's tags of each page (``RenderPlan.tags``)
        self.files = files or {}  # the plan's file of each page (``RenderPlan.files``)
        self.site = f"{config.site_dir}:{config.hash}"

    def warm(self, config: Config, templates: set[str]) -> None:
        """Compile ``templates`` and load the filters' libraries before workers fork."""
        preload(config)
        for name in sorted(templates):
            try:
                self.renderer.env.get_template(name)
            except Exception:  # the page's own render reports it, with file:line
                continue

    def render(self, spec: PageSpec) -> Rendered:
        """One page's bytes (not written), or its error."""
        began = time.perf_counter()
        try:
            with recording() as images:
                shells.fill_reachable(spec.context)
                data = self.renderer.render_bytes(spec.template, spec.context)
        except SsgenError as exc:
            return Rendered(b"", frozenset(), 0.0, str(exc))
        return Rendered(data, frozenset(images), time.perf_counter() - began)

    def run(self, spec: PageSpec) -> PageOutcome:
        """Render one page (unless ``ready`` holds its bytes) and write it if its bytes
        changed; errors become outcomes."""
        file = ""
        try:
            file = self.files.get(spec.path) or url_to_relpath(spec.path, spec.route)
        except SsgenError as exc:
            return PageOutcome(spec.path, file, error=str(exc))
        page = self.ready.pop(spec.path, None)
        if page is None:
            page = self.render(spec)
        if page.error is not None:
            return PageOutcome(spec.path, file, error=page.error)
        began = time.perf_counter()
        try:
            written, created, size, mtime = self.output.put_stat(file, page.data)
        except SsgenError as exc:
            return PageOutcome(spec.path, file, error=str(exc))
        digest, used = sha256(page.data), page.images
        data_hash = self.hashes.get(spec.path) or page_data_hash(spec, self.site)
        return PageOutcome(spec.path, file, digest, written, created,
                           render_s=page.render_s, write_s=time.perf_counter() - began,
                           images=used, size=size, mtime_ns=mtime, data_hash=data_hash,
                           row=self._row(spec, data_hash, digest, file, used))

    def _row(self, spec: PageSpec, data_hash: str, digest: str, file: str,
             images: frozenset[str]) -> tuple[str, ...]:
        """The page's manifest row, or () for the record stage to build (and to report
        what it cannot: params that are not JSON)."""
        tags = self.tags.get(spec.path)
        if tags is None:
            return ()
        record = PageRecord(spec.path, spec.route, spec.params, spec.template, data_hash,
                            digest, file)
        try:
            return page_row(record, tags, images)
        except SsgenError:
            return ()


def render_pages(
    config: Config, plan: RenderPlan, *, jobs: int | None, reporter: Reporter,
    arrived: Callable[[list[PageOutcome]], None] | None = None, staging: Path | None = None,
    renderer: Renderer | None = None, ready: dict[str, Rendered] | None = None,
    beside: Callable[[], None] | None = None,
) -> list[PageOutcome]:
    """Render every page of ``plan.to_render``; a failing page never stops the others.
    ``arrived``: called here with each batch of outcomes as it comes back (in the order
    they finish), while the other processes render on. ``staging``: the folder to write
    into instead of the output folder (``ssgen.build.output.staged``). ``renderer``: the
    shared renderer the build planned with (``Renderer.shared``), taken if not given.
    ``ready``: pages ``prerender`` rendered (this process writes them; rendered afresh
    by the workers of a parallel render). ``beside``: work of this process that the
    render does not wait for, done once the other processes render (not in a serial
    render: the caller does it after), so that it is not left for one core after."""
    specs = plan.to_render
    jobs = jobs or os.cpu_count() or 1
    outcomes: list[PageOutcome] = []
    with reporter.progress("Rendering", len(specs)) as advance:
        def done(batch: list[PageOutcome]) -> None:
            outcomes.extend(batch)
            advance(len(batch))
            if arrived is not None:
                arrived(batch)

        if serial(jobs, len(specs)):
            writer = PageWriter(config, renderer or Renderer.shared(config), plan.data_hashes,
                                plan.tags, staging, plan.files, ready)
            for start in range(0, len(specs), _CHUNK):
                done([writer.run(spec) for spec in specs[start : start + _CHUNK]])
        else:
            # The workers' own renderer, as before, but compiling the texts the plan hashed.
            _in_parallel(config, specs, jobs, done, PageWriter(
                config, renderer.unshared() if renderer else None, plan.data_hashes,
                plan.tags, staging, plan.files), beside)
    return outcomes


def serial(jobs: int | None, pages: int) -> bool:
    """Whether ``render_pages`` renders ``pages`` pages in this process."""
    return (jobs or os.cpu_count() or 1) == 1 or pages < _PARALLEL_THRESHOLD


def prerender(config: Config, plan: RenderPlan, renderer: Renderer) -> dict[str, Rendered]:
    """The bytes of ``plan.to_render``'s pages, rendered now and written later by
    ``render_pages`` (its ``ready``): a serve round renders while the proof of its
    hinted reload runs on another thread, and writes once it held (see
    ``ssgen.build.pipeline.pages``). Nothing is written here."""
    writer = PageWriter(config, renderer, plan.data_hashes, plan.tags, None, plan.files)
    return {spec.path: writer.render(spec) for spec in plan.to_render}


def _in_parallel(config: Config, specs: list[PageSpec], jobs: int,
                 done: Callable[[list[PageOutcome]], None], writer: PageWriter,
                 beside: Callable[[], None] | None = None) -> None:
    # Built and warmed once here; each forked worker inherits its own copy.
    writer.warm(config, {spec.template for spec in specs})
    # A snapshot's shells filled here, in one go: a worker's fill would be its own, and
    # this process reads the pages' data after (their owners, lastmods).
    shells.fill_reachable([spec.context for spec in specs])
    chunks = _chunks(specs)
    store = fragment_store.active()  # each child fills its own copy: merged back here
    parent = os.getpid()

    def run(index: int) -> list[object]:
        rows = [tuple(writer.run(spec)) for spec in chunks[index]]
        if store is None or os.getpid() == parent:
            return [rows, {}, set()]
        # A child's additions and uses travel back once; the child keeps finding them.
        added, used = store.added, store.used
        store.entries.update(added)
        store.added, store.used = {}, set()
        return [rows, added, used]

    def received(index: int, result: list[Any]) -> None:
        rows, added, used = result
        if store is not None and (added or used):
            store.merge(added, used)
        done([_outcome(PageOutcome, row) for row in rows])

    faults.render_parent()
    started = start(len(chunks), run, jobs)
    if beside is not None:
        try:
            beside()
        except BaseException:
            started.cancel()
            raise
    for index in started.finish(received):
        # A worker died (killed): its pages failed, and the build says so; the temp
        # file it was writing goes now (this process swept that folder already).
        lost = [(spec, _file(spec)) for spec in chunks[index]]
        writer.output.sweep(file for _, file in lost if file)
        done([PageOutcome(spec.path, file, error="the render worker stopped "
                          "(killed, or out of memory) before writing this page")
              for spec, file in lost])


def _chunks(specs: list[PageSpec]) -> list[list[PageSpec]]:
    """The pages in the chunks the processes take in turn: the others in order (the last
    ones in smaller chunks, ``_TAIL``), then each heavy page alone, largest first. Left
    in a chunk of 64, the default site's 11 author and category pages (9,000-20,000 post
    cards each at 100k posts) were rendered by one process after every other page, while
    the other cores waited. Last, not first: a process has then rendered most of their
    cards for the list pages already (the fragment cache is per process)."""
    heavy = sorted(((n, i) for i, spec in enumerate(specs)
                    if (n := _items(spec)) >= _HEAVY_ITEMS), reverse=True)[:_MOST_HEAVY]
    alone = {i for _, i in heavy}
    rest = [spec for i, spec in enumerate(specs) if i not in alone] if alone else specs
    size = max(chunk_size(len(rest), _CHUNK), -(-len(rest) // (MAX_CHUNKS - len(heavy))))
    cut = max(0, len(rest) - _TAIL * size)  # the finer chunks from here
    starts = [*range(0, cut, size), *range(cut, len(rest), max(1, size // _TAIL))]
    if len(starts) + len(heavy) > MAX_CHUNKS:
        starts = list(range(0, len(rest), size))
    ends = [*starts[1:], len(rest)] if starts else []
    return [rest[at:end] for at, end in zip(starts, ends, strict=True)] + [[specs[i]]
                                                                           for _, i in heavy]


def _items(spec: PageSpec) -> int:
    """How many items the page's data lists (its own list, or its fields' lists)."""
    page = spec.context.get("page")
    if type(page) is list:
        return len(page)
    if type(page) is dict:
        return sum(len(value) for value in page.values() if type(value) is list)
    return 0


def _file(spec: PageSpec) -> str:
    try:
        return url_to_relpath(spec.path, spec.route)
    except SsgenError:
        return ""


# A tuple ``marshal`` gave back as the outcome it was made from (no argument parsing).
_outcome: Callable[[type[PageOutcome], tuple[Any, ...]], PageOutcome] = tuple.__new__
