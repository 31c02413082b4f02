"""Render stage of the build: pages -> HTML -> files, in parallel worker processes.

Workers are forked after the pages are collected, so page contexts are inherited rather
than pickled; each worker builds its own Jinja2 environment once and writes its pages
through ``Output`` (atomic, write-if-changed). Only small outcomes travel back.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ssgen.build.output import Output, sha256, url_to_relpath
from ssgen.build.plan import RenderPlan
from ssgen.build.progress import Reporter
from ssgen.config.load import Config
from ssgen.errors import SsgenError
from ssgen.render import fragment_store
from ssgen.render.environment import Renderer
from ssgen.render.filters import preload
from ssgen.render.images.variants import recording
from ssgen.routes.page import PageSpec

# Below this many pages, forking costs more than it saves.
_PARALLEL_THRESHOLD = 200
_CHUNK = 64


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """What happened to one page: its file, hash, whether bytes changed, or its error."""

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


class PageWriter:
    """Renders and writes pages; one per process."""

    def __init__(self, config: Config, renderer: Renderer | None = None) -> None:
        self.renderer = renderer or Renderer(config, auto_reload=False)
        self.output = Output(config.output_dir)

    def warm(self, config: Config, templates: set[str]) -> None:
        """Compile ``templates`` and load the filters' libraries before workers fork."""
        preload(config)
        for name in sorted(templates):
            try:
                self.renderer.env.get_template(name)
            except Exception:  # the page's own render reports it, with file:line
                continue

    def run(self, spec: PageSpec) -> PageOutcome:
        """Render one page and write it if its bytes changed; errors become outcomes."""
        file = ""
        began = time.perf_counter()
        try:
            file = url_to_relpath(spec.path, spec.route)
            with recording() as images:
                data = self.renderer.render(spec.template, spec.context).encode("utf-8")
            rendered = time.perf_counter()
            written, created, size, mtime = self.output.put_stat(file, data)
        except SsgenError as exc:
            return PageOutcome(spec.path, file, error=str(exc))
        return PageOutcome(spec.path, file, sha256(data), written, created,
                           render_s=rendered - began, write_s=time.perf_counter() - rendered,
                           images=frozenset(images), size=size, mtime_ns=mtime)


def render_pages(
    config: Config, plan: RenderPlan, *, jobs: int | None, reporter: Reporter
) -> list[PageOutcome]:
    """Render every page of ``plan.to_render``; a failing page never stops the others."""
    specs = plan.to_render
    jobs = jobs or os.cpu_count() or 1
    outcomes: list[PageOutcome] = []
    with reporter.progress("Rendering", len(specs)) as advance:
        for batch in _batches(config, specs, jobs):
            outcomes.extend(batch)
            advance(len(batch))
    return outcomes


def _batches(config: Config, specs: list[PageSpec], jobs: int) -> Iterator[list[PageOutcome]]:
    if jobs == 1 or len(specs) < _PARALLEL_THRESHOLD:
        writer = PageWriter(config, Renderer.shared(config))
        for start in range(0, len(specs), _CHUNK):
            yield [writer.run(spec) for spec in specs[start : start + _CHUNK]]
        return
    global _JOB, _WRITER
    # Built and warmed once here; each forked worker inherits its own copy.
    _WRITER = PageWriter(config)
    _WRITER.warm(config, {spec.template for spec in specs})
    _JOB = (config, specs)
    store = fragment_store.active()  # each worker fills its own copy: merged back here
    try:
        context = multiprocessing.get_context("fork")
        ranges = [(i, min(i + _CHUNK, len(specs))) for i in range(0, len(specs), _CHUNK)]
        with context.Pool(jobs, initializer=_quiet_interrupts) as pool:
            for outcomes, added, used in pool.imap_unordered(_run_range, ranges):
                if store is not None:
                    store.merge(added, used)
                yield outcomes
    finally:
        _JOB = None
        _WRITER = None


_JOB: tuple[Config, list[PageSpec]] | None = None
_WRITER: PageWriter | None = None


def _quiet_interrupts() -> None:
    # Ctrl-C reaches the whole process group: the parent reports it once and stops the
    # pool; workers would otherwise each print a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_range(bounds: tuple[int, int]) -> tuple[
        list[PageOutcome], dict[bytes, fragment_store.Entry], set[bytes]]:
    assert _JOB is not None and _WRITER is not None
    specs = _JOB[1]
    outcomes = [_WRITER.run(specs[i]) for i in range(*bounds)]
    store = fragment_store.active()
    if store is None:
        return outcomes, {}, set()
    # Each range's additions and uses travel back once; the worker keeps finding them.
    added, used = store.added, store.used
    store.entries.update(added)
    store.added, store.used = {}, set()
    return outcomes, added, used
