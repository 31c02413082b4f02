"""Warming serve's fragment cache after its first good round, a chunk at a time.

A long list page (an author's 20,000 post cards) is cheap to render again only when its
cards are in the fragment cache (render/fragments.py). ``Warming`` renders the pages whose
templates include kept fragments; their files are rewritten only if their bytes differ,
which they do not, so the first webhook that reaches such a page renders one card, not all
of them. The largest pages (the long lists) go first, in chunks; a change that arrives
stops the warming after the chunk in progress, and the rest is warmed after that change's
round. At 100,000 posts warming every page took over ten minutes, and webhooks waited.
Only pages of at least ``WARM_MIN_BYTES`` are warmed: a shorter page (a paginated list's
ten cards) renders cold in milliseconds, and warming 30,000 of them took serve over 26
minutes of CPU for nothing a webhook would notice. Before them, one page of each route is
rendered (``first``), and every template compiled: the start-up round plans every page but
renders only those that changed, so the first webhook's round compiled the templates,
imported the modules their filters load and filled their memos (at 10k posts 0.2-0.4 s
of its reply).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ssgen.build.change import Change
from ssgen.config.load import Config
from ssgen.errors import SsgenError
from ssgen.manifest.store import Manifest
from ssgen.routes.paths import url_to_file

log = logging.getLogger("ssgen.serve")

# Chunks are sized to take about ``CHUNK_SECONDS`` each, or twice the cheapest chunk so
# far when that is more (about a round's fixed cost: seconds of planning at 100,000 posts,
# which a chunk sized to 0.5 s would pay for every page), growing at most 4x at a time:
# short enough that a webhook waits little, long enough that the fixed cost is paid rarely.
FIRST_CHUNK = 1  # the largest page alone: a cold author page can take seconds
MAX_CHUNK = 8192
CHUNK_SECONDS = 0.5
WARM_MIN_BYTES = 256 * 1024  # about 40 post cards of the default site


class Warming:
    """The pages still to warm, largest first."""

    def __init__(self, paths: Iterable[str], size: Callable[[str], int],
                 min_bytes: int = 0, first: Iterable[str] = ()) -> None:
        sized = sorted(((size(path), path) for path in paths), key=lambda pair: (-pair[0], pair[1]))
        self.left = [path for bytes_, path in sized if bytes_ >= min_bytes]
        self.first = sorted(set(first))  # warmed together, before ``left``
        self.done_pages = 0
        self.seconds = 0.0
        self.cheapest = float("inf")  # the shortest chunk so far, in seconds

    @classmethod
    def of_site(cls, config: Config, manifest: Manifest) -> Warming:
        """The pages of ``config``'s site that include kept fragments and are long
        enough to be worth it (``WARM_MIN_BYTES``), after a page of each route; every
        template is compiled meanwhile."""
        from ssgen.render.environment import Renderer

        renderer = Renderer.shared(config)
        renderer.compile_all()  # those a kept fragment spares the warm renders included
        targets = renderer.fragment_templates()
        paths = manifest.pages_for_tags({f"template:{t}" for t in targets}) if targets else set()
        first = [min(found) for route in config.routes
                 if (found := manifest.pages_for_route(route.name))]
        return cls(paths, lambda path: _file_size(config.output_dir, path), WARM_MIN_BYTES,
                   first)

    @property
    def finished(self) -> bool:
        return not self.left and not self.first

    def run(self, build: Callable[[Change], Any], interrupted: Callable[[], bool],
            chunk: int | None = None) -> bool:
        """Warm chunk by chunk until done (True) or ``interrupted()`` (False).

        ``build`` must render in this process (``jobs=1``): forked workers would fill their
        own caches, then exit."""
        chunk = chunk or FIRST_CHUNK
        if self.first:
            if interrupted():
                return False
            started = time.perf_counter()
            try:
                build(Change(paths=frozenset(self.first), reasons=("one page of each route",)))
            except SsgenError as exc:
                log.warning("could not render a page of each route: %s", exc)
            self.done_pages += len(self.first)
            self.seconds += time.perf_counter() - started
            self.first = []
        while self.left:
            if interrupted():
                return False
            batch, started = self.left[:chunk], time.perf_counter()
            try:
                build(Change(paths=frozenset(batch), reasons=("warm the fragment cache",)))
            except SsgenError as exc:
                log.warning("could not warm the fragment cache: %s", exc)
                self.left = []
                return True
            del self.left[:len(batch)]
            took = time.perf_counter() - started
            self.done_pages += len(batch)
            self.seconds += took
            self.cheapest = min(self.cheapest, took)
            chunk = _next_chunk(len(batch), took, max(CHUNK_SECONDS, 2 * self.cheapest))
        log.info("warmed the fragment cache: %d page(s) in %.1fs", self.done_pages,
                 self.seconds, extra={"event": "warm", "pages": self.done_pages})
        return True


def _next_chunk(size: int, took: float, budget: float = CHUNK_SECONDS) -> int:
    wanted = size * budget / took if took > 0 else MAX_CHUNK
    return int(min(MAX_CHUNK, max(FIRST_CHUNK, min(wanted, size * 4))))


def _file_size(root: Path, path: str) -> int:
    try:
        return (root / url_to_file(path)).stat().st_size
    except (OSError, ValueError):
        return 0
