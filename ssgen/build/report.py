"""What a build reports: counts, the files it touched, each page that failed, why it was
full and how long each stage took.

The page counts add up: ``rendered + unchanged`` is every page of the site, and
``rendered = written + identical + failed pages``.

A failure's ``kind`` says what failed: ``page`` (a render or write; serve retries it),
``path`` (pages of several documents want one path; ``route`` lists their routes,
comma-separated) or ``document`` (a document left out of the dataset; ``path`` is its
file:line and ``route`` is empty). The last two are the content's to fix: retrying
cannot help, and the next build after a fix clears them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import field
from typing import TYPE_CHECKING

from ssgen.fastclass import dataclass

if TYPE_CHECKING:  # the link checker loads only for builds that check
    from ssgen.links import LinkReport

# The route named in the failure of the site files (sitemap, feed, static copies).
SITE_FILES_ROUTE = "static"
PAGE, PATH, DOCUMENT = "page", "path", "document"


@dataclass
class PageFailure:
    """A page that failed to render or write (its last good file is kept), a path that
    several pages want, or a document left out (see the module docstring)."""

    path: str
    route: str
    message: str
    kind: str = PAGE


@dataclass
class BuildReport:
    """What a build did. ``new``/``changed``/``deleted`` are output files (relpaths).

    ``rendered``: pages rendered; of those ``written`` (bytes changed) and ``identical``
    (same bytes, file untouched); ``unchanged``: pages not rendered (up to date);
    ``site_files``: sitemap, feed, robots.txt and static files written;
    ``images_rendered``: image variants rendered (not taken from the cache),
    ``images_written``: variant files written (rendered, or restored from the cache);
    ``kept``: pages of re-queried routes left unplanned as last recorded (``build.memo.kept``);
    ``planned``: pages the planner looked at (their data hashed, unless new or full).
    """

    rendered: int = 0
    written: int = 0
    identical: int = 0
    unchanged: int = 0
    removed: int = 0
    site_files: int = 0
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failures: list[PageFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    full: bool = True
    seconds: float = 0.0
    reason: str = ""
    stages: dict[str, float] = field(default_factory=dict)
    images_rendered: int = 0
    images_written: int = 0
    kept: int = 0
    planned: int = 0
    links: LinkReport | None = None  # the link check of ``build --check``

    @property
    def ok(self) -> bool:
        """True when every page built (broken links are ``links``'s, not a failed build)."""
        return not self.failures

    @property
    def failed_pages(self) -> int:
        """Pages whose render or write failed (not the site files, not the content)."""
        return sum(1 for failure in self.failures
                   if failure.kind == PAGE and failure.route != SITE_FILES_ROUTE)

    @property
    def retryable(self) -> bool:
        """True when a page failed to render or write (content failures wait for a fix)."""
        return any(failure.kind == PAGE for failure in self.failures)

    def summary(self) -> str:
        """The one-line summary printed after a build; its numbers add up."""
        kind = "full" if self.full else "incremental"
        pages = self.rendered + self.unchanged
        text = (
            f"{kind} build: {_count(pages, 'page')}: {self.rendered} rendered "
            f"({self.written} written, {self.identical} identical, {self.failed_pages} failed), "
            f"{self.unchanged} up to date; {self.removed} removed"
        )
        if self.site_files:
            text += f", {_count(self.site_files, 'site file')} written"
        if self.images_rendered or self.images_written:
            text += (f", {_count(self.images_rendered, 'image')} rendered "
                     f"({self.images_written} written)")
        content = sum(1 for failure in self.failures if failure.kind != PAGE)
        others = len(self.failures) - self.failed_pages - content
        if others:
            text += f", {_count(others, 'site file error')}"
        if content:
            text += f", {_count(content, 'content error')}"
        return f"{text} in {self.seconds:.2f}s"

    def timings(self) -> str:
        """Seconds per stage, for ``-v``: ``load 0.12s, query 0.30s, ...``."""
        return ", ".join(f"{name} {seconds:.2f}s" for name, seconds in self.stages.items())

    def changes(self) -> dict[str, list[str]]:
        """New, changed and deleted files, as ``--changes`` writes them."""
        return {
            "new": sorted(self.new),
            "changed": sorted(self.changed),
            "deleted": sorted(self.deleted),
        }


@dataclass(frozen=True)
class FailureGroup:
    """Pages of one route that failed with the same message (one template typo, 40 posts)."""

    route: str
    message: str
    paths: tuple[str, ...]

    def describe(self, shown: int | None = 2) -> str:
        """``/blog/a/ (route post): msg``, or for many pages
        ``msg — 40 pages (route post): /blog/a/, /blog/b/, … (+38)``; ``shown=None``: all."""
        if not self.route:  # a left-out document: the message names its file:line
            return self.message
        if len(self.paths) == 1:
            return f"{self.paths[0]} (route {self.route.replace(',', ', ')}): {self.message}"
        listed = list(self.paths if shown is None else self.paths[:shown])
        more = len(self.paths) - len(listed)
        if more:
            listed.append(f"… (+{more})")
        return (f"{self.message} — {len(self.paths)} pages (route {self.route}): "
                f"{', '.join(listed)}")


def group_failures(failures: list[PageFailure]) -> list[FailureGroup]:
    """Failures with the same route and message merged, in order of first appearance,
    each group's paths sorted."""
    groups: dict[tuple[str, str], list[str]] = {}
    for failure in failures:
        groups.setdefault((failure.route, failure.message), []).append(failure.path)
    return [FailureGroup(route, message, tuple(sorted(paths)))
            for (route, message), paths in groups.items()]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class StageTimer:
    """Wall-clock seconds per build stage, summed over the stage's visits; ``on_done`` is
    told each visit's name and seconds (the reporter says when a stage was slow)."""

    def __init__(self, on_done: Callable[[str, float], None] | None = None) -> None:
        self._seconds: dict[str, float] = {}
        self._on_done = on_done

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - began
            self.add(stage, seconds)
            if self._on_done is not None:
                self._on_done(stage, seconds)

    def add(self, stage: str, seconds: float) -> None:
        """Count ``seconds`` more for ``stage``."""
        self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds

    def split(self, first: str, second: str, wall: float, a: float, b: float) -> None:
        """Share ``wall`` seconds between two interleaved stages in the ratio ``a : b``
        (rendering and writing happen page by page, in parallel workers)."""
        share = a / (a + b) if a + b > 0 else 1.0
        self.add(first, wall * share)
        self.add(second, wall * (1 - share))

    @contextmanager
    def within(self, outer: str, inner: str) -> Iterator[None]:
        """Time the block as ``inner`` and take it out of ``outer``, the stage it runs
        inside (a serve round's wait for its reload's proof, inside its query stage)."""
        before = self._seconds.get(inner, 0.0)
        try:
            with self(inner):
                yield
        finally:
            self.add(outer, before - self._seconds[inner])

    def stages(self) -> dict[str, float]:
        """Seconds per stage: load, query, render, write, record, then any other stage
        timed (``proof``, ``images``, ``snapshot``, ``links``) in the order first timed."""
        order = ["load", "query", "render", "write", "record"]
        found = {name: self._seconds.get(name, 0.0) for name in order}
        found.update((name, seconds) for name, seconds in self._seconds.items()
                     if name not in found)
        return found
