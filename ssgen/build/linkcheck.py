"""``ssgen build --check`` and ``ssgen check``: the link check of the output, incremental
after a build when it can be, with each broken link traced to its template line.

The manifest's link state is trusted only while every build since the last check was
itself checked: each build clears the ``links_checked`` mark before writing anything and a
checked build sets it again at the end (to the ``ignore`` list it used), so a build
without ``--check``, a killed one or a changed ``[check] ignore`` makes the next check a
full one. Otherwise the check covers what the build's report says it wrote, created and
deleted (``ssgen.links.check``). ``ssgen check`` is always a full check.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from ssgen.build.report import BuildReport
from ssgen.config.load import Config
from ssgen.manifest.connect import open_state
from ssgen.manifest.lock import BuildLock
from ssgen.manifest.store import Manifest

# ssgen.links (selectolax's parser, ~11 ms to import) only when links are checked: every
# build imports this module for ``take_mark``.
if TYPE_CHECKING:
    from ssgen.links import Changes, LinkOptions, LinkReport
    from ssgen.links.report import BrokenLink

LINKS_KEY = "links_checked"
_TRACED = 200  # broken links traced to a template line (each reads the page's templates)


def link_options(config: Config, *, external: bool | None = None) -> LinkOptions:
    """The check's options from ``[check]``; ``external`` overrides ``[check] external``."""
    from ssgen.links import LinkOptions

    conf = config.check
    return LinkOptions(
        external=conf.external if external is None else external, ttl=conf.external_ttl,
        concurrency=conf.external_concurrency, per_host=conf.external_per_host,
        timeout=conf.external_timeout, ignore=conf.ignore)


def take_mark(manifest: Manifest) -> str | None:
    """The link state's mark (None: not current), cleared (a build is about to write)."""
    mark = manifest.get_meta(LINKS_KEY)
    if mark:
        manifest.set_meta(LINKS_KEY, "")
    return mark or None


def check_build(config: Config, manifest: Manifest, report: BuildReport,
                options: LinkOptions, mark: str | None) -> LinkReport:
    """Check the links after the build of ``report``; full unless ``mark`` (from
    ``take_mark``) says the state is current for these options."""
    from ssgen.links import Changes

    changes = None
    if mark == _mark(options):
        new = frozenset(report.new)
        changes = Changes(written=new | frozenset(report.changed), appeared=new,
                          removed=frozenset(report.deleted))
    return _run(config, manifest, options, changes)


def check_site(config: Config, options: LinkOptions) -> LinkReport:
    """``ssgen check``: a full check of the output folder, under the site's build lock."""
    lock = BuildLock(config.site_dir, wait=True)
    lock.acquire()
    try:
        manifest = open_state(config.state_dir, config.state_url, fenced=False)
        try:
            return _run(config, manifest, options, None)
        finally:
            manifest.close()
    finally:
        lock.release()


def _run(config: Config, manifest: Manifest, options: LinkOptions,
         changes: Changes | None) -> LinkReport:
    from ssgen.links import check_links

    links = check_links(config.output_dir, manifest, config.site.base_url, changes=changes,
                        options=options)
    manifest.set_meta(LINKS_KEY, _mark(options))
    links.broken[:_TRACED] = [_traced(config, manifest, b) for b in links.broken[:_TRACED]]
    return links


def _mark(options: LinkOptions) -> str:
    return json.dumps(["v1", sorted(options.ignore)])


def _traced(config: Config, manifest: Manifest, broken: BrokenLink) -> BrokenLink:
    """``broken`` with the template line that writes its link, when one does literally."""
    from ssgen.links.report import template_line

    path = manifest.page_files().get(broken.page)
    record = manifest.page(path) if path else None
    if record is None:
        return broken
    chain: list[str] = []
    todo = [record.template]
    while todo:
        name = todo.pop(0)
        if name not in chain:
            chain.append(name)
            todo.extend(manifest.template_deps(name))
    where = template_line(config.templates_dir, chain, broken.link)
    return replace(broken, where=where) if where else broken


__all__ = ["LINKS_KEY", "check_build", "check_site", "link_options", "take_mark"]
