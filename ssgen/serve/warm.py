"""Warming serve's fragment cache once, after its first good round.

A long list page (an author's 20,000 post cards) is cheap to render again only when its
cards are in the fragment cache (render/fragments.py). ``warm`` renders, at start, the
pages whose templates include kept fragments; their files are rewritten only if their
bytes differ, which they do not, so the first webhook that reaches such a page renders
one card, not all of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ssgen.build.change import Change
from ssgen.config.load import Config
from ssgen.errors import SsgenError
from ssgen.manifest.store import Manifest

log = logging.getLogger("ssgen.serve")


def warm(config: Config, manifest: Manifest, build: Callable[[Change], Any]) -> int:
    """Render the pages that include kept fragments; how many. ``build`` must render in
    this process (``jobs=1``): forked workers would fill their own caches, then exit."""
    from ssgen.render.environment import Renderer

    started = time.perf_counter()
    targets = Renderer.shared(config).fragment_templates()
    paths = manifest.pages_for_tags({f"template:{t}" for t in targets}) if targets else set()
    if not paths:
        return 0
    try:
        build(Change(paths=frozenset(paths), reasons=("warm the fragment cache",)))
    except SsgenError as exc:
        log.warning("could not warm the fragment cache: %s", exc)
        return 0
    log.info("warmed the fragment cache: %d page(s) in %.1fs", len(paths),
             time.perf_counter() - started, extra={"event": "warm", "pages": len(paths)})
    return len(paths)
