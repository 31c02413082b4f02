"""The planner: which pages to render, which to keep, which to delete.

A page is rendered when the build is full, when the manifest does not know it, when its
data hash changed, when a template of its chain changed, when a global its templates read
changed, or when its output file is gone. Pages the manifest knows but the routes no
longer produce are removed. Everything else is left untouched on disk.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, KeysView, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import field
from typing import Any

from ssgen.build.collect import Collected
from ssgen.build.memo.datahash import page_data_hash
from ssgen.config.load import Config
from ssgen.errors import RenderError
from ssgen.fastclass import dataclass
from ssgen.manifest.schema import PageRecord
from ssgen.manifest.store import Manifest
from ssgen.render.environment import Renderer
from ssgen.routes.page import PageSpec, page_tags
from ssgen.routes.spec import data_hash


class AllPaths(AbstractSet[str]):
    """Every page path once a build is recorded: the recorded ones (the manifest's view)
    less those it removes, plus those it planned. Membership and length are answered
    without a copy of the recorded paths (138k at 100k posts); the set is made on first
    use of anything else. The view may show this build's records already (a commit
    changes it in place): the answers are the same, as every page a build records is
    planned and every recorded one it removes is in ``removed``, which is recorded."""

    __slots__ = ("_made", "_planned", "_recorded", "_removed", "_size")

    def __init__(self, recorded: AbstractSet[str] = frozenset(),
                 removed: AbstractSet[str] = frozenset(),
                 planned: AbstractSet[str] = frozenset()) -> None:
        self._recorded, self._removed, self._planned = recorded, removed, planned
        self._size = len(recorded) - len(removed) + len(planned) - sum(
            map(recorded.__contains__, planned))
        self._made: set[str] | None = None

    def __contains__(self, path: object) -> bool:
        return path in self._planned or (path in self._recorded and path not in self._removed)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[str]:
        return iter(self.made())

    def __sub__(self, other: AbstractSet[Any]) -> set[str]:
        return self.made() - other

    def listed(self, leave: AbstractSet[str]) -> KeysView[str]:
        """The paths not in ``leave``, in order: the recorded ones as the view gives them
        (the manifest's: each route's sorted, so sorting them all is nearly free, where
        16k paths in a set's order took ~3 ms: ``ssgen.build.sitemapfile``), then the
        planned new ones."""
        found = dict.fromkeys(self._recorded)
        for path in self._removed:
            found.pop(path, None)
        found.update(dict.fromkeys(self._planned))
        for path in leave:
            found.pop(path, None)
        return found.keys()

    def made(self) -> set[str]:
        """The paths as a set (made once; not to be changed)."""
        if self._made is None:
            self._made = set(self._recorded)
            self._made.difference_update(self._removed)
            self._made.update(self._planned)
        return self._made


@dataclass
class RenderPlan:
    """The outcome of planning: pages by path, what to render, keep and remove."""

    pages: dict[str, PageSpec]
    to_render: list[PageSpec] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    data_hashes: dict[str, str] = field(default_factory=dict)  # of pages known before
    tags: dict[str, frozenset[str]] = field(default_factory=dict)
    template_hashes: dict[str, str] = field(default_factory=dict)
    global_hashes: dict[str, str] = field(default_factory=dict)
    failed_new: set[str] = field(default_factory=set)
    all_paths: AllPaths = field(default_factory=AllPaths)
    complete_routes: set[str] = field(default_factory=set)
    clashed: set[str] = field(default_factory=set)  # pages failed by an output clash
    # Each page's output file by path, when the build worked them out before the render
    # (``clash.page_files``): the render then takes them instead of again, page by page.
    files: dict[str, str] = field(default_factory=dict)
    # Per route, its pages left unplanned as last recorded (``ssgen.build.memo.kept``).
    kept: dict[str, Sequence[PageSpec]] = field(default_factory=dict)


def tags_with_chain(spec: PageSpec, chain: frozenset[str]) -> frozenset[str]:
    """A page's tags with its template chain's (``template:<file>``). A list's first page
    carries every id its query read (an author's 30,000 posts at 100k): the last union
    while its tags are the very set and the chain's are equal (``page_tags``' memo, under
    a key of its own), not a new set of 30,000 each serve round."""
    return page_tags(f"{spec.route}\0chain", spec.path, spec.tags, chain)


def plan_render(
    config: Config,
    manifest: Manifest,
    renderer: Renderer,
    data: dict[str, Any],
    collected: Collected,
    *,
    full: bool,
    force: frozenset[str] = frozenset(),
    files_checked: bool = False,
) -> RenderPlan:
    """Decide the work of this build. ``force``: paths to render whatever their hashes.
    ``files_checked``: every owned file was just checked (``verify.find_damage``) and the
    pages of missing ones are forced, so no page's file need be looked at again."""
    pages = collected.pages
    plan = RenderPlan(pages={page.path: page for page in pages})
    plan.global_hashes = {name: data_hash(value) for name, value in data.items()}
    changed_globals = _changed(manifest.globals(), plan.global_hashes)
    chains = _chains(renderer, {page.template for page in pages})
    plan.template_hashes = {
        name: renderer.template_hash(name) for chain in chains.values() for name in chain
    }
    changed_templates = _changed(manifest.templates(), plan.template_hashes)
    global_hit = {
        name: _uses_changed_global(renderer, name, changed_globals) for name in chains
    }
    known = {} if full else (
        collected.records if collected.records is not None else _known(manifest, plan.pages))
    output_dir = str(config.output_dir)  # joined per page: no Path conversion each time
    site = f"{config.site_dir}:{config.hash}"
    chain_tags = {name: frozenset(f"template:{t}" for t in chain) for name, chain in chains.items()}
    for spec in pages:
        chain = chains[spec.template]
        plan.tags[spec.path] = tags_with_chain(spec, chain_tags[spec.template])
        record = known.get(spec.path)
        if record is None:  # new, or a full build: hashed where it renders, on every core
            plan.to_render.append(spec)
            continue
        digest = page_data_hash(spec, site)
        plan.data_hashes[spec.path] = digest
        stale = (
            spec.path in force
            or record.data_hash != digest
            or record.template != spec.template
            or not chain.isdisjoint(changed_templates)
            or global_hit[spec.template]
            or (not files_checked and not os.path.isfile(os.path.join(output_dir, record.file)))
        )
        if stale:
            plan.to_render.append(spec)
        else:
            plan.unchanged.append(spec.path)
    # A path that moved to another route is not removed; one that a clash holds keeps
    # its page and file.
    plan.removed = sorted(_removed(manifest, collected, full) - plan.pages.keys()
                          - collected.held)
    plan.all_paths = AllPaths(manifest.page_paths(), frozenset(plan.removed), plan.pages.keys())
    plan.complete_routes = set(collected.route_paths)
    plan.kept = collected.kept
    return plan


def _known(manifest: Manifest, paths: dict[str, PageSpec]) -> Mapping[str, PageRecord]:
    """The manifest records of the re-queried pages (not of the whole site)."""
    return manifest.pages_at(paths)


def _removed(manifest: Manifest, collected: Collected, full: bool) -> set[str]:
    """Recorded pages that the re-queried routes no longer produce. A list route expanded
    from the pages the last recorded build kept (``Collected.left``) has every recorded
    page among that expansion's paths while no failure is recorded (a held clash or a
    failed page keeps a record its route may not produce): only the paths that left it
    since are looked up, not every recorded page of the route diffed."""
    if full:
        return manifest.page_paths() - {page.path for page in collected.pages}
    removed: set[str] = set()
    left = collected.left if collected.left and not manifest.failures() else {}
    for route, paths in collected.route_paths.items():
        gone = left.get(route)
        if gone is None:
            removed |= manifest.pages_for_route(route) - paths
        elif gone:
            removed.update(path for path, record in manifest.pages_at(gone).items()
                           if record.route == route)
    return removed


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name, value in after.items() if before.get(name) != value} | (
        before.keys() - after.keys()
    )


def _chains(renderer: Renderer, templates: set[str]) -> dict[str, frozenset[str]]:
    chains: dict[str, frozenset[str]] = {}
    for name in templates:
        try:
            chains[name] = frozenset(renderer.template_chain(name))
        except RenderError:
            # The page will fail to render and report the syntax error with its line.
            chains[name] = frozenset({name})
    return chains


def _uses_changed_global(renderer: Renderer, template: str, changed: set[str]) -> bool:
    if not changed:
        return False
    try:
        used = renderer.globals_used(template)
    except RenderError:
        return True
    return used is None or not used.isdisjoint(changed)
