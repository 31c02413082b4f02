"""Draft pages rendered on request, in memory: what a preview session sees.

``DraftPages`` keeps its own source in the ``drafts`` perspective (the mirror or local
files read again on change; with ``mirror = false``, the Query API), collects the site's
pages from it when its content moved, and renders one page per request. Nothing it
renders is ever written: the output folder, the manifest and so a deploy only ever hold
the published site. ``generation`` is what the preview page's reload script polls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ssgen import shells
from ssgen.build.change import normalize_path
from ssgen.build.collect import collect_pages, query_globals
from ssgen.render.environment import Renderer
from ssgen.routes.page import PageSpec
from ssgen.sources import Source
from ssgen.sources.local import LocalSource

if TYPE_CHECKING:
    from ssgen.config.load import Config


def drafts_source(config: Config) -> Source:
    """The drafts-perspective source preview renders from (never synced by itself: serve's
    source keeps the mirror current)."""
    if config.source.type == "sanity" and not config.source.mirror:
        from ssgen.sources.sanity import SanitySource

        return SanitySource(config, drafts=True, use_cdn=False)
    return LocalSource(config, drafts=True)


class DraftPages:
    """The site's pages from drafts; ``changes`` counts rebuild rounds (a remote source
    cannot say when it changed, so every round may have)."""

    def __init__(self, config: Config, changes: Callable[[], int] = lambda: 0,
                 source: Source | None = None) -> None:
        self.config = config
        self.changes = changes
        self._source = source
        self._renderer = Renderer(config, auto_reload=True)
        self._lock = threading.Lock()
        self._pages: dict[str, PageSpec] | None = None
        self._seen: tuple[int, int] | None = None

    def generation(self) -> str:
        """Moves whenever the drafts may have changed (cheap: a stat of the inputs)."""
        with self._lock:
            version, rounds = self._stamp()
            return f"{version}.{rounds}"

    def render(self, path: str) -> str | None:
        """The page at ``path`` from drafts, or None when drafts have no such page."""
        with self._lock:
            stamp = self._stamp()
            if self._pages is None or stamp != self._seen:
                self._pages = self._collect()
                self._seen = stamp
            spec = self._pages.get(normalize_path(path))
            if spec is None:
                return None
            shells.fill_reachable(spec.context)
            return self._renderer.render(spec.template, spec.context)

    def _stamp(self) -> tuple[int, int]:
        source = self._open()
        source.reload()
        version: Any = getattr(source, "version", None)
        return (int(version) if isinstance(version, int) else 0, self.changes())

    def _open(self) -> Source:
        if self._source is None:
            self._source = drafts_source(self.config)
        return self._source

    def _collect(self) -> dict[str, PageSpec]:
        source = self._open()
        now = datetime.now(UTC)
        data = query_globals(self.config, source, now)
        collected = collect_pages(self.config, source, data, now)
        return {spec.path: spec for spec in collected.pages}
