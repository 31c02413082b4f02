"""The build's redirects: path history kept with the pages, redirect files made from it.

- ``note_history`` runs in the record stage's transaction: each page recorded by this
  build is noted with the document it belongs to (its value's ``_id``; a page without one,
  or of a route with ``redirects = false``, is not tracked), removed pages' paths stay as
  history. Path history is state, like the pages: a build with the same history and
  inputs writes the same redirects, full or incremental.
- ``redirect_files`` runs with the other site-wide files, on every build, from the
  manifest alone (so a build that found nothing to do writes the same): the stub page
  of each redirect or 410 at its old path, plus ``_redirects`` and ``redirects.json``
  when there is any. A static or generated file, or a page's file, at an old path wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ssgen.build.output import url_to_file
from ssgen.build.plan import RenderPlan
from ssgen.config.load import Config
from ssgen.config.redirects import path_key
from ssgen.errors import OutputError
from ssgen.manifest.store import Manifest
from ssgen.routes.page import PageSpec
from ssgen.routes.paths import canonical_path
from ssgen.shells import id_of

if TYPE_CHECKING:  # imported where a site has redirects: a build of one without skips them
    from ssgen.routes.redirects import Redirect


def page_owner(spec: PageSpec) -> str | None:
    """The ``_id`` of the document a page is the page of (drafts count as the document).
    A later page of a paginated document (``/authors/ada/page/2/``) is none: when its
    list shrinks it is removed, as a paginated list's later pages are, not redirected."""
    paginator: Any = spec.context.get("paginator")
    if isinstance(paginator, dict) and paginator.get("number", 1) != 1:
        return None
    value: Any = spec.context.get("page")
    # A snapshot's shell: the parent's, unfilled when forked workers rendered it.
    ident = id_of(value) if isinstance(value, dict) else None
    return ident.removeprefix("drafts.") if isinstance(ident, str) and ident else None


def note_history(config: Config, manifest: Manifest, plan: RenderPlan, built: Iterable[str],
                 *, full: bool) -> None:
    """Record the documents of the pages this build recorded (see the module doc)."""
    enabled = {route.name for route in config.routes if route.redirects}
    owned: list[tuple[str, str, str]] = []
    unowned: list[str] = []
    for path in built:
        spec = plan.pages[path]
        owner = page_owner(spec) if spec.route in enabled else None
        if owner is None:
            unowned.append(path)
        else:
            owned.append((path, spec.route, owner))
    known = manifest.has_history()
    if owned or known:
        manifest.note_paths(owned, unowned if known else (), plan.removed, full=full)


def site_redirects(config: Config, manifest: Manifest) -> list[Redirect]:
    """Every redirect and 410 of the site now, from the manifest and ``[[redirects]]``."""
    old = manifest.gone_paths()
    if not old and not config.redirects:
        return []
    from ssgen.routes.redirects import OldPath, RouteRedirects, current_paths, resolve

    # A failing page counts as neither a page nor a redirect: an incremental build keeps
    # its last good file and record, a clean one has neither, and both must agree.
    failing = {failure.path for failure in manifest.failures()}
    old = [row for row in old if row.path not in failing]
    live = [row for row in manifest.live_paths_of({row.doc_id for row in old})
            if row.path not in failing]
    current = current_paths((row.path, row.route, row.doc_id) for row in live)
    routes = {route.name: RouteRedirects(route.redirects, route.gone and
                                         canonical_path(route.gone))
              for route in config.routes}
    sources = [canonical_path(rule.source) for rule in config.redirects]
    pages = manifest.pages_at({form for s in sources for form in _forms(s)})
    return resolve((OldPath(row.path, row.route, row.doc_id) for row in old), current, routes,
                   config.redirects,
                   lambda s: any(form in pages or form in failing for form in _forms(s)))


def redirect_files(config: Config, manifest: Manifest, taken: Mapping[str, object],
                   redirects: list[Redirect] | None = None) -> dict[str, bytes]:
    """The stub pages, ``_redirects`` and ``redirects.json``; ``taken``: files that win."""
    redirects = site_redirects(config, manifest) if redirects is None else redirects
    stubs: dict[str, Redirect] = {}
    for redirect in redirects:
        try:
            rel = str(url_to_file(redirect.source))
        except OutputError:
            continue
        if rel not in taken:
            stubs[rel] = redirect
    pages = {rel for rel, record in manifest.files_at(stubs).items() if record.kind == "page"}
    kept = sorted(r for rel, r in stubs.items() if rel not in pages)
    if not kept:
        return {}
    from ssgen.render.redirects import (
        JSON_FILE,
        RULES_FILE,
        redirects_file,
        redirects_json,
        stub_page,
    )

    site = config.site
    files = {rel: stub_page(r, site.base_url, site.language) for rel, r in stubs.items()
             if rel not in pages}
    files[RULES_FILE] = redirects_file(kept)
    files[JSON_FILE] = redirects_json(kept)
    return {rel: data for rel, data in files.items() if rel not in taken}


def _forms(path: str) -> tuple[str, ...]:
    """The page paths that share ``path``'s file (``/a``, ``/a/``)."""
    key = path_key(path)
    return (path, key, key.rstrip("/") or "/")


__all__ = ["note_history", "page_owner", "redirect_files", "site_redirects"]
