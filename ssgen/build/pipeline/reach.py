"""What an incremental build re-queries: the change it was given, plus the documents,
templates and globals found changed since the last build, plus what rewrites the output
files damaged from outside (``rebuild_scope``). Turning a change into routes and pages is
``ssgen.build.scope``'s; this module gathers the change and the damage."""

from __future__ import annotations

from typing import Any

from ssgen.build.change import Change
from ssgen.build.collect import Scope, exact_ids, ref_tags
from ssgen.build.docstate import DocStates
from ssgen.build.output import url_to_file
from ssgen.build.scope import (
    changed_globals,
    changed_templates,
    document_change,
    reference_change,
    scope_for,
    whole_routes,
)
from ssgen.build.verify import Damage
from ssgen.config.load import Config
from ssgen.groq.refkeyed import has_ref_keyed
from ssgen.manifest.store import Manifest
from ssgen.render.environment import Renderer
from ssgen.routes.spec import data_hash
from ssgen.sources import Source


def rebuild_scope(
    config: Config,
    manifest: Manifest,
    renderer: Renderer,
    data: dict[str, Any],
    states: DocStates | None,
    change: Change | None,
    source: Source,
    damage: Damage,
) -> tuple[Scope, Change]:
    """What this incremental build must re-query: the given change plus what changed
    (and what rewrites the owned files damaged from outside); and that change."""
    found = Change(templates=changed_templates(manifest, renderer))
    if states is not None:
        before = manifest.documents() if states.before is None else states.before
        found = found.merge(document_change(before, states.after))
    elif change is None:
        found = found.merge(Change(everything=True))  # a remote source cannot be diffed
    total = found if change is None else change.merge(found)
    hashes = {name: data_hash(value) for name, value in data.items()}
    globals_changed = changed_globals(manifest, hashes)
    ref_pages = ref_tags(source) and any(
        route.each is not None and route.query_ast is not None
        and has_ref_keyed(route.query_ast) for route in config.routes)
    refs = reference_change(source, manifest, total) if ref_pages else frozenset()
    scope = scope_for(config, manifest, renderer, total, globals_changed,
                      exact=exact_ids(source), refs=refs, ref_pages=ref_pages)
    scope.whole_routes = whole_routes(config, renderer, frozenset(total.templates),
                                      globals_changed)
    return _repair(config, manifest, damage, scope), total


def _repair(config: Config, manifest: Manifest, damage: Damage, scope: Scope) -> Scope:
    """Add to ``scope`` what rewrites the damaged files: their pages (as recorded) and the
    feed's route (its file is otherwise kept when the route is not re-queried)."""
    for path, record in manifest.pages_at(damage.pages).items():
        scope.forced.add(path)
        scope.paths.add(path)
        scope.routes.add(record.route)
    if config.feed is not None and damage.touches(str(url_to_file(config.feed.path))):
        scope.routes.add(config.feed.route)
        scope.full_routes.add(config.feed.route)
    return scope
