"""Site-wide files of the build: static/ copied through, the sitemap (sitemap.xml, plus
sitemap-N.xml past 50,000 URLs), the feed, robots.txt, the search bundle
(``ssgen.build.search``) and the redirects (``ssgen.build.redirects``).

They are regenerated on every build from the complete page set (the sitemap's files are
kept as recorded when made from the same paths and lastmods, see
``ssgen.build.sitemapfile``) and written only when their bytes change; files ssgen wrote
earlier that are no longer produced are removed.

The package: this module writes the files; ``delta`` hands a serve round's change to the
sitemap and feed memos.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import field
from datetime import datetime
from itertools import chain
from pathlib import Path

from ssgen.build.clash import generated_files, static_sitemap_clashes
from ssgen.build.extras.delta import (
    Since,
    feed_delta,
    left_out,
    recorded,
    sitemap_change,
    sitemap_done,
    sitemap_paths,
    sitemap_vouched,
    unchanged_files,
)
from ssgen.build.lastmod import lastmods_ahead, page_lastmods
from ssgen.build.output import TEMP_PREFIX, Output, file_stat, sha256, url_to_file
from ssgen.build.plan import RenderPlan
from ssgen.build.redirects import redirect_files
from ssgen.build.report import SITE_FILES_ROUTE, BuildReport, PageFailure
from ssgen.build.search import INLINE, SEARCH_KEY, SearchIndex, SearchMode, search_index
from ssgen.build.sitemapfile import KEY as SITEMAP_KEY
from ssgen.build.sitemapfile import sitemap_files, still_kept
from ssgen.build.verify import racy_after
from ssgen.config.load import Config
from ssgen.config.search import BUNDLE_DIR
from ssgen.errors import SsgenError
from ssgen.fastclass import dataclass
from ssgen.manifest.schema import FileRecord
from ssgen.manifest.store import Manifest
from ssgen.memos import site_memo
from ssgen.render.generated import (
    feed_and_undated,
    render_robots,
    undated_warning,
)
from ssgen.render.images.variants import OUTPUT_DIR as IMAGES_DIR
from ssgen.render.sitemap import INDEX as SITEMAP
from ssgen.render.sitemap.memo import SitemapMemo


def write_extras(config: Config, manifest: Manifest, report: BuildReport, plan: RenderPlan,
                 now: datetime | None = None, search: SearchMode = INLINE,
                 since: Since | None = None) -> None:
    """Copy static files and write the generated files; record them in the manifest.
    ``now``: the build time, the feed's ``updated`` when none of its pages has a date;
    ``search``: index inline, leave the bundle to a background indexer, or write its;
    ``since``: the pages generation the build started from and the build's number in
    this process (see ``delta``)."""
    output = Output(config.output_dir)
    # Not the pages' records: reading 10k of them would be most of a small rebuild.
    owned = {rel: record for rel, record in manifest.files(exclude="page").items()
             if not rel.startswith(f"{IMAGES_DIR}/")}  # the image stage owns those
    sources = static_files(config)
    racy = racy_after(manifest)
    generated, sitemap = _generated(config, manifest, plan, sources, report, now,
                                    (output, owned, racy), since)
    produced = set(generated)
    for rel in unchanged_files(output, owned, generated, racy):
        del generated[rel]  # the bytes recorded and on disk: nothing to do
    # Noted before any is written: a build killed among the writes leaves them owned.
    manifest.journal_add([*((rel, "static") for rel in sources),
                          *((rel, "generated") for rel in generated)])
    static = _copy_static(config, manifest, output, report,
                          {rel: r for rel, r in owned.items() if r.kind == "static"}, sources)
    # After the static copy: static HTML files are indexed too.
    index = _search(config, manifest, report, search)
    bundle = {rel for rel in owned if rel.startswith(f"{BUNDLE_DIR}/")}
    if index is not None and index.files is not None:
        changed = _changed(output, owned, index.files, racy)
        bundle = index.files.keys() - changed.keys()
        manifest.journal_add((rel, "generated") for rel in changed)
        generated.update(changed)
    with manifest.transaction():
        for rel, data in generated.items():
            _note(report, rel, output.write(rel, data), rel in owned)
            manifest.set_files([(rel, recorded(output, rel, data), "generated",
                                 *output.stat(rel))])
        manifest.journal_clear(generated)
        keep = set(static) | produced | set(generated) | _kept_feed(config, plan) | sitemap.kept
        if manifest.get_meta(SITEMAP_KEY) != sitemap.key:  # recorded with its files
            manifest.set_meta(SITEMAP_KEY, sitemap.key)
        if index is not None:  # the bundle's files that are already as they should be
            keep |= bundle
        manifest.set_meta(SEARCH_KEY, index.key if index is not None else "")
        stale = owned.keys() - keep
        for rel in sorted(stale):
            if output.remove(rel):
                report.removed += 1
                report.deleted.append(rel)
            manifest.remove_file(rel)


def _search(config: Config, manifest: Manifest, report: BuildReport,
            mode: SearchMode) -> SearchIndex | None:
    """The search bundle to write (None: search is off); its failure is reported like a
    page's, and the bundle on disk is kept (and indexed again by the next build)."""
    if not config.search.enabled:
        return None
    if mode.ready is not None:
        index = mode.ready
    elif not mode.run:  # the recorded bundle stays, under its key, for the indexer
        return SearchIndex(manifest.get_meta(SEARCH_KEY) or "", None)
    else:
        index = _run_search(config, manifest, report)
    if index.warning:
        report.warnings.append(index.warning)
    return index


def _run_search(config: Config, manifest: Manifest, report: BuildReport) -> SearchIndex:
    try:
        index = search_index(config, manifest)
    except SsgenError as exc:
        report.failures.append(PageFailure("(search index)", SITE_FILES_ROUTE, str(exc)))
        return SearchIndex("", None)
    return index


def _changed(output: Output, owned: Mapping[str, FileRecord], files: dict[str, bytes],
             racy: int) -> dict[str, bytes]:
    """The files whose recorded file is not already these bytes. A bundle has a file per
    page: one edit changes a few, and checking the rest by the recorded hash and one
    ``stat`` (as ``find_damage`` does) spares reading and recording 10k of them."""
    changed: dict[str, bytes] = {}
    prefix = f"{output.root}{os.sep}"  # the relpaths are Pagefind's own: no checks needed
    for rel, data in files.items():
        record = owned.get(rel)
        if (record is None or record.hash != sha256(data) or record.mtime_ns >= racy
                or file_stat(prefix + rel) != (record.size, record.mtime_ns)):
            changed[rel] = data
    return changed


def static_files(config: Config) -> dict[str, Path]:
    """Every file under static/ by its output relpath."""
    if not config.static_dir.is_dir():
        return {}
    return {
        path.relative_to(config.static_dir).as_posix(): path
        for path in sorted(config.static_dir.rglob("*"))
        if path.is_file() and not path.name.startswith(TEMP_PREFIX)
    }


def _copy_static(
    config: Config, manifest: Manifest, output: Output, report: BuildReport,
    known: dict[str, FileRecord], sources: dict[str, Path],
) -> dict[str, str]:
    """Copy static/ through (``known``: the static files recorded); returns relpath ->
    hash of every static file."""
    if not sources:
        return {}
    written = {rel for rel, path in sources.items() if output.copy_file(path, rel)}
    hashes: dict[str, str] = {}
    rows: list[tuple[str, str, str, int, int]] = []
    for rel, path in sources.items():
        record = known.get(rel)
        hashes[rel] = record.hash if record and rel not in written else _hash_file(path)
        if rel in written:
            _note(report, rel, True, rel in known)
        rows.append((rel, hashes[rel], "static", *output.stat(rel)))
    with manifest.transaction():
        manifest.set_files(rows)
        manifest.journal_clear(sources)
    return hashes


@dataclass
class _Sitemap:
    """The recorded sitemap files kept as they are, and the key of the sitemap files
    this build leaves ("": none, or made without one; see ``ssgen.build.sitemapfile``)."""

    kept: set[str] = field(default_factory=set)
    key: str = ""


def _generated(config: Config, manifest: Manifest, plan: RenderPlan,
               static: Mapping[str, object], report: BuildReport,
               now: datetime | None, disk: tuple[Output, Mapping[str, FileRecord], int],
               since: Since | None) -> tuple[dict[str, bytes], _Sitemap]:
    """The sitemap (one file, or an index and its parts), the feed, robots.txt and the
    redirects, unless static/ provides one; ``disk``: the output, the recorded files
    and the racy mtime the sitemap's kept files are checked with."""
    files: dict[str, bytes] = {}
    site, sitemap = config.site, _Sitemap()
    if config.sitemap.enabled and SITEMAP not in static:  # else static/ has the sitemap
        files.update(_sitemap(config, manifest, plan, disk, since, sitemap))
    report.failures.extend(PageFailure(f"/{rel}", SITE_FILES_ROUTE, why)
                           for rel, why in static_sitemap_clashes(config, static).items())
    if config.feed is not None and config.feed.route in plan.complete_routes:
        delta = feed_delta(config, manifest, plan, since)
        # Chained, not concatenated: the kept specs are the post route's 100k at 100,000
        # posts, and the memo reads them only when it cannot take the delta.
        entries = chain(delta.fresh, delta.kept)
        feed, undated = feed_and_undated(config.feed, site, entries, now, delta=delta)
        files[str(url_to_file(config.feed.path))] = feed
        warning = undated_warning(config.feed, undated, len(delta.fresh) + len(delta.kept))
        if warning:
            report.warnings.append(warning)
    # Named even while no URL makes a sitemap: robots.txt depends on the config alone, so
    # pages that fail (and keep their last good files) do not change it.
    files["robots.txt"] = render_robots(site, sitemap=config.sitemap.enabled)
    files = {rel: data for rel, data in files.items() if rel not in static}
    taken = {**static, **files, **dict.fromkeys(sitemap.kept),
             **dict.fromkeys(generated_files(config))}
    return {**redirect_files(config, manifest, taken), **files}, sitemap


def _sitemap(config: Config, manifest: Manifest, plan: RenderPlan,
             disk: tuple[Output, Mapping[str, FileRecord], int], since: Since | None,
             sitemap: _Sitemap) -> dict[str, bytes]:
    """The sitemap's files to write (``sitemap``: those kept and the key recorded)."""
    lastmods = page_lastmods(config, manifest, plan)
    memo = _sitemap_memo(config)
    named = sitemap_vouched(config, manifest, plan, lastmods, since)  # before the next
    made = sitemap_change(memo, config, manifest, plan, lastmods, since)
    if made is None:
        output, owned, racy = disk
        out, listed = left_out(plan), plan.all_paths
        found = None if named is None else still_kept(
            memo, manifest, output, owned, racy, named,
            lambda path: path in listed and path not in out, lastmods)
        if found is not None:
            made, (sitemap.kept, sitemap.key) = {}, found
        else:
            made, sitemap.kept, sitemap.key = sitemap_files(
                memo, manifest, output, owned, sitemap_paths(plan), lastmods,
                config.site.base_url, max_urls=config.sitemap.max_urls, racy=racy)
    if memo.warm or sitemap.kept:
        sitemap_done(config, manifest, plan, lastmods, since)
    return made


def ahead(config: Config, plan: RenderPlan) -> None:
    """What ``write_extras`` will take of a full build's sitemap, worked out while the
    pages render beside (``ssgen.build.pipeline.pages``): each rendered page's lastmod
    (``lastmods_ahead``) and the sitemap's rows of the pages as planned (a new page that
    fails leaves the sitemap then, as the memo's next call has it)."""
    if config.sitemap.enabled:
        _sitemap_memo(config).prepare(sitemap_paths(plan), lastmods_ahead(config, plan),
                                      config.site.base_url, max_urls=config.sitemap.max_urls)


# Per output folder (serve's site, and a test's full build next to it): most rounds in
# serve change no URL and no lastmod, and one edit changes one row of 10k.
_SITEMAPS: dict[str, SitemapMemo] = site_memo()


def _sitemap_memo(config: Config) -> SitemapMemo:
    where = str(config.output_dir)
    memo = _SITEMAPS.pop(where, None) or SitemapMemo()
    while len(_SITEMAPS) >= 2:
        del _SITEMAPS[next(iter(_SITEMAPS))]  # the least recently used
    _SITEMAPS[where] = memo
    return memo


def _kept_feed(config: Config, plan: RenderPlan) -> set[str]:
    """The feed file when its route was not re-queried (its file stays as it is)."""
    if config.feed is None or config.feed.route in plan.complete_routes:
        return set()
    return {str(url_to_file(config.feed.path))}


def _note(report: BuildReport, rel: str, written: bool, existed: bool) -> None:
    if written:
        report.site_files += 1
        if rel in report.deleted:  # a removed page's file, now its redirect stub
            report.deleted.remove(rel)
            report.removed -= 1
            existed = True
        (report.changed if existed else report.new).append(rel)


def _hash_file(path: Path) -> str:
    return sha256(path.read_bytes())
