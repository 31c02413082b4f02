"""Each page's sitemap ``<lastmod>``, as the build keeps it between builds.

The rendered pages' values come from their data (``ssgen.render.sitemap.page_lastmod``); a
page that is not re-rendered has the same data, so its recorded value stands. The manifest
holds them (``page_lastmod``); this process keeps a copy, valid while the manifest's
``lastmods`` token (rewritten with every change, by any process) is the one it read, so a
rebuild in ``ssgen serve`` does not read 100k rows to change one.
"""

from __future__ import annotations

import uuid

from ssgen.build.plan import RenderPlan
from ssgen.config.load import Config
from ssgen.manifest.store import Manifest
from ssgen.render.sitemap import page_lastmod

TOKEN_KEY = "lastmods"
_COPIES: dict[str, tuple[str, dict[str, str]]] = {}  # manifest -> (token, path -> lastmod)


def page_lastmods(config: Config, manifest: Manifest, plan: RenderPlan) -> dict[str, str]:
    """Every page path -> its lastmod (pages without one are absent), after recording the
    values of the pages ``plan`` renders and forgetting the pages it removes."""
    token = manifest.get_meta(TOKEN_KEY) or ""
    where = str(manifest.path)
    copy = _COPIES.get(where)
    known = copy[1] if token and copy is not None and copy[0] == token else manifest.lastmods()
    field = config.sitemap.lastmod_field
    fresh = {spec.path: page_lastmod(spec, field) for spec in plan.to_render}
    changed = {path: stamp for path, stamp in fresh.items()
               if stamp is not None and known.get(path) != stamp}
    removed = [p for p, stamp in fresh.items() if stamp is None and p in known]
    removed += [p for p in plan.removed if p in known and p not in fresh]
    if changed or removed:
        with manifest.transaction():
            manifest.set_lastmods(changed, removed)
            token = uuid.uuid4().hex
            manifest.set_meta(TOKEN_KEY, token)
        known.update(changed)
        for path in removed:
            del known[path]
    if token:
        _COPIES[where] = (token, known)
    return known


__all__ = ["TOKEN_KEY", "page_lastmods"]
