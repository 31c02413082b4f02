"""Each page's sitemap ``<lastmod>``, as the build keeps it between builds.

The rendered pages' values come from their data (``ssgen.render.sitemap.page_lastmod``); a
page that is not re-rendered has the same data, so its recorded value stands. The manifest
holds them (``page_lastmod``); this process keeps a copy, valid while the manifest's
``lastmods`` token (rewritten with every change, by any process) is the one it read, so a
rebuild in ``ssgen serve`` does not read 100k rows to change one. ``last_change`` names
the paths the last call changed in that copy, for the sitemap's memo to take the same
change (``ssgen.build.extras``) without comparing 100k values.
"""

from __future__ import annotations

import uuid

from ssgen import shells
from ssgen.build.plan import RenderPlan
from ssgen.config.load import Config
from ssgen.manifest.store import Manifest
from ssgen.memos import site_memo
from ssgen.render.sitemap import page_lastmod
from ssgen.routes.page import PageSpec

TOKEN_KEY = "lastmods"
_COPIES: dict[str, tuple[str, dict[str, str]]] = site_memo()  # manifest -> (token, path -> lastmod)
# The copy each manifest's last call returned, the call's number and the paths it changed
# in that copy (the same object as the call before it, or not: a copy read afresh).
_LAST: dict[str, tuple[dict[str, str], int, frozenset[str]]] = site_memo()
_CALLS: dict[str, int] = {}  # per manifest: how many calls
# The plan's pages, the field and their lastmods ``lastmods_ahead`` worked out (one).
_AHEAD: dict[str, tuple[list[PageSpec], str, dict[str, str | None]]] = site_memo()


def page_lastmods(config: Config, manifest: Manifest, plan: RenderPlan) -> dict[str, str]:
    """Every page path -> its lastmod (pages without one are absent), after recording the
    values of the pages ``plan`` renders and forgetting the pages it removes."""
    token = manifest.get_meta(TOKEN_KEY) or ""
    where = str(manifest.path)
    copy = _COPIES.get(where)
    known = copy[1] if token and copy is not None and copy[0] == token else manifest.lastmods()
    _LAST.pop(where, None)  # until this call is done
    field = config.sitemap.lastmod_field
    fresh = _taken(plan.to_render, field) or _fresh(plan.to_render, field)
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
    number = _CALLS[where] = _CALLS.get(where, 0) + 1
    _LAST[where] = (known, number, frozenset((*changed, *removed)))
    return known


def lastmods_ahead(config: Config, plan: RenderPlan) -> dict[str, str]:
    """The lastmods of the pages ``plan`` renders (those that have one), worked out now
    for this process's next ``page_lastmods`` of the same plan to take (while the render
    runs beside: ``ssgen.build.extras.ahead``). Nothing is recorded."""
    field = config.sitemap.lastmod_field
    fresh = _fresh(plan.to_render, field)
    _AHEAD["plan"] = (plan.to_render, field, fresh)
    return {path: stamp for path, stamp in fresh.items() if stamp is not None}


def _fresh(specs: list[PageSpec], field: str) -> dict[str, str | None]:
    # A page planned but never rendered (its path refused at the write) was never filled
    # from a lazily resumed snapshot.
    shells.fill_reachable([spec.context.get("page") for spec in specs])
    return {spec.path: page_lastmod(spec, field) for spec in specs}


def _taken(specs: list[PageSpec], field: str) -> dict[str, str | None] | None:
    """``lastmods_ahead``'s values when they were worked out of these very specs (the
    planner only appends to the list: its length too)."""
    if "plan" not in _AHEAD:
        return None
    ahead, on, fresh = _AHEAD.pop("plan")
    return fresh if ahead is specs and on == field and len(fresh) == len(specs) else None


def last_change(manifest: Manifest, known: dict[str, str]) -> tuple[int, frozenset[str]] | None:
    """The number of the last ``page_lastmods`` call on ``manifest`` and the paths it
    changed, when that call returned ``known``; calls are numbered per manifest: a
    caller that saw call ``n`` and now sees ``n + 1`` with the very same ``known`` knows
    every other path's lastmod is as it was."""
    last = _LAST.get(str(manifest.path))
    if last is None or last[0] is not known:
        return None
    return last[1], last[2]


__all__ = ["TOKEN_KEY", "last_change", "lastmods_ahead", "page_lastmods"]
