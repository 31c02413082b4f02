"""A new ``ssgen build`` after an edit of some Markdown files' content: only their pages.

Owns ``attempt(site, jobs)``, which the console entry point calls before it loads
anything else of a plain ``ssgen build``. When the last clean build left a quick plan
(``ssgen.build.quick.plan``: written only for a site where a Markdown file's document
makes at most one page per route, from that document alone, with no neighbours, globals,
feed or search reading it) it proves, under the build lock, that the edit changed nothing
but those files' own pages:

- in two forked children (or here with one job): the Markdown folder's listing is the
  plan's, and every file's stamp is the plan's (a file the plan does not trust by stamp
  counts as changed); every owned output file's size and mtime are the plan's and not
  racy (a racy or changed one is hashed here: only the bytes the plan records pass);
- here, meanwhile: the configuration loads with the plan's hash, and every template and
  static file has the plan's stamp;
- each changed file (at most ``MOST_CHANGES``) whose bytes differ parses without a fault
  to one document that gives, route by route, the pages and sitemap ``lastmod`` the
  plan records for it (so no page appears, moves or leaves, and the sitemap stands);
  when it changes a field a list page or the feed reads (its view, ``lists``), the list
  pages whose data differs and the feed are made again (``relist``), or None.

Then it renders those pages as the build's workers do (``PageWriter.run``; meanwhile the
output's child answers), writes the ones whose bytes changed and notes them in the plan's
journal. Anything else, or any doubt (a page that fails, or uses an image variant),
returns None before a page is written, and the ordinary build runs; a failure to write
or note returns None after, which is as safe: the ordinary build finds the pages written
here changed from outside (their bytes are not the manifest's), renders them again, and
writes a new plan. The manifest is not touched here: it stays the last ordinary build's,
and the plan says (``dirty``) that output files changed since (``plan.pending``);
commands that read the manifest's records of the output (deploy, check) have them
recorded first (``ssgen.build.pipeline.settle_quick``).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from ssgen import shells
from ssgen.build.quick import plan as plans
from ssgen.build.quick import stats

if TYPE_CHECKING:
    from ssgen.build.report import BuildReport
    from ssgen.config.load import Config

MOST_CHANGES = 16  # more changed files than this: the ordinary build
LOCK_PATIENCE = 1.0  # seconds to wait for the build lock before the ordinary build waits


def attempt(site_dir: str | os.PathLike[str], jobs: int | None) -> BuildReport | None:
    """Build the site the quick way, as a plain ``ssgen build`` (no options but
    ``--jobs``) would; its report, or None when the ordinary build must run (nothing was
    written, or only what it writes again)."""
    site = os.path.abspath(site_dir)
    if not os.path.exists(plans.path_of(site)):
        return None
    from pathlib import Path

    from ssgen.errors import SsgenError
    from ssgen.manifest.lock import BuildLock

    # A little patience: the last build's parse cache may still be saved by a child it
    # forked (which holds the lock until it exits); a build that holds it longer (serve's
    # round, a full build) is waited for by the ordinary path instead.
    lock = BuildLock(Path(site), wait=LOCK_PATIENCE)
    try:
        lock.acquire()
    except SsgenError:
        return None
    try:
        plan = plans.read(site)
        if plan is None:
            return None
        return _attempt(jobs, site, plan)
    finally:
        lock.release()


def _attempt(jobs: int | None, site: str, plan: dict[str, Any]) -> BuildReport | None:
    begun = time.time_ns()
    started = time.perf_counter()
    # The inputs' stats and the output's in two children (here with one job), while
    # this process loads the configuration and what rendering needs; the edits' pages
    # are rendered before the output's answer is in, and written after it.
    works = (stats.inputs, stats.output)
    children = [stats.fork(work, plan) for work in works] if jobs != 1 else [None, None]
    try:
        config = _config(site, plan)
        if config is not None:
            _prepare(config)
        changed: list[tuple[int, str]] | None = stats.answer(children[0], works[0], plan)
        edits = None if config is None or changed is None or len(changed) > MOST_CHANGES \
            else _edits(config, plan, changed)
        made = None if edits is None or config is None else _render(config, plan, edits)
        checked = stats.answer(children[1], works[1], plan) if made is not None else None
        suspects: list[int] | None = checked[0] if checked else None
    finally:
        for child in children:
            if child is not None:
                stats.reap(*child)
    outputs = None if suspects is None else _intact(plan, suspects)
    if config is None or edits is None or made is None or outputs is None:
        return None
    from ssgen.build.output.temps import listed_elsewhere

    if checked and checked[1] is not None:  # the first write's sweep takes this listing
        temps: list[str] = checked[1]
        listed_elsewhere(plan["output"], lambda: temps)
    try:
        return _write(config, plan, site, edits, made, outputs, begun, started)
    finally:  # not left for a later build of this process when no write swept it
        listed_elsewhere(plan["output"], None)


def _config(site: str, plan: dict[str, Any]) -> Config | None:
    """The site's configuration, when it is the plan's and its templates and static
    files are as the plan recorded them (None: the ordinary build). With the hash and
    the templates the plan's, so is ``plan.eligible``'s verdict; what the hash leaves
    out is looked at again (``kind_allows``)."""
    from pathlib import Path

    from ssgen.config.load import load_config
    from ssgen.errors import SsgenError
    from ssgen.sources.inputs.files import layout

    try:
        config = load_config(Path(site))
    except SsgenError:
        return None  # the ordinary build reports it
    if config.hash != plan["config"] or tuple(layout(config)) != plan["layout"] \
            or os.path.abspath(config.output_dir) != plan["output"] \
            or not plans.kind_allows(config) \
            or plans.tree_stamps(str(config.templates_dir)) != plan["templates"] \
            or plans.tree_stamps(str(config.static_dir)) != plan["static"]:
        return None
    return config


def _prepare(config: Config) -> None:
    """What an edit's pages need loaded: the parse, the route's query, the renderer."""
    from ssgen.build import output  # noqa: F401
    from ssgen.render.environment import Renderer
    from ssgen.render.images import variants  # noqa: F401
    from ssgen.render.markdown import render_markdown
    from ssgen.sources import markdown_docs  # noqa: F401

    Renderer.shared(config)
    render_markdown("", config.markdown)  # the parser built (``filters.preload``)


def _intact(plan: dict[str, Any], suspects: list[int]) -> dict[int, tuple[int, int]] | None:
    """The suspects' (size, mtime) when their bytes are the plan's (None: one is missing
    or changed, which the ordinary build repairs)."""
    import hashlib
    import marshal

    from ssgen.build.output import file_stat

    files = marshal.loads(plan["files"]) if suspects else []
    found: dict[int, tuple[int, int]] = {}
    for at in suspects:
        path = os.path.join(plan["output"], files[at])
        size, mtime = file_stat(path)
        try:
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).digest()
        except OSError:
            return None
        if digest != plan["hashes"][at * 32:(at + 1) * 32] or size < 0:
            return None
        found[at] = (size, mtime)
    return found


class _Edit:
    """A changed Markdown file: where it is in the plan, its new stamp, digest and
    trust, the pages it makes (empty when its bytes are the plan's) and, when it changed
    a field a list reads, its new view and list document."""

    __slots__ = ("at", "digest", "listed", "pages", "stamp", "trusted")

    def __init__(self, at: int, stamp: plans.Stamp, digest: bytes, trusted: bool,
                 pages: list[tuple[Any, str, int]],
                 listed: tuple[bytes, dict[str, Any]] | None = None) -> None:
        self.at, self.stamp, self.digest, self.trusted, self.pages, self.listed = \
            at, stamp, digest, trusted, pages, listed


def _edits(config: Config, plan: dict[str, Any],
           changed: list[tuple[int, str]]) -> list[_Edit] | None:
    """Each changed file read (and, when its bytes changed, parsed and expanded); None
    when one does not keep its own pages, or changes a field a list reads on a site
    whose list pages ``relist`` does not make."""
    import posixpath
    from datetime import UTC, datetime

    from ssgen.build.quick.lists import listed, view
    from ssgen.sources.filecache import digest as file_digest
    from ssgen.sources.markdown_docs import markdown_id, markdown_or_fault

    folder = posixpath.normpath(plan["layout"][3])
    base = os.path.join(plan["markdown"], "")
    now = datetime.now(UTC)
    edits: list[_Edit] = []
    for at, rel in changed:
        read_at = time.time_ns()
        try:
            with open(base + rel, "rb") as handle:
                stamp = plans.stamp_of(os.fstat(handle.fileno()))
                data = handle.read()
        except OSError:
            return None
        digest = file_digest(data)
        trusted = max(stamp[0], stamp[3]) < read_at - plans.RACY_NS
        if digest == plan["digests"][at * 16:(at + 1) * 16]:
            edits.append(_Edit(at, stamp, digest, trusted, []))
            continue
        loaded = markdown_or_fault(data, rel, f"{folder}/{rel}", config.source.markdown_type)
        if loaded.faults or len(loaded.documents) != 1 \
                or loaded.documents[0].get("_id") != markdown_id(rel):
            return None
        doc, fields = loaded.documents[0], plan["view_fields"]
        seen = view(doc, fields) if fields else None
        if seen == plan["views"][at * 16:(at + 1) * 16]:
            seen = None
        elif fields and (seen is None or "list_pages" not in plan):
            return None  # a field a list page or the feed reads changed
        pages = _pages(config, plan, doc, now)
        paired = None if pages is None else _paired(pages, plans.pages_of(plan, at))
        if paired is None:
            return None
        edits.append(_Edit(at, stamp, digest, trusted, paired,
                           None if seen is None else (seen, listed(doc, fields))))
    return edits


def _paired(pages: list[Any], recorded: list[tuple[str, str, str, int]]
            ) -> list[tuple[Any, str, int]] | None:
    """Each page with the file and output index the plan records for its (route, path),
    when the pages are exactly those the plan records for the file (None: a page would
    appear, move or leave, which only the ordinary build settles)."""
    files = {(route, path): (file, index) for route, path, file, index in recorded}
    if sorted((spec.route, spec.path) for spec in pages) != sorted(files):
        return None
    return [(spec, *files[spec.route, spec.path]) for spec in pages]


def _pages(config: Config, plan: dict[str, Any], doc: dict[str, Any],
           now: Any) -> list[Any] | None:
    """The document's pages, route by route, as ``doclists.DocLists.expand`` makes
    them; None when one is not a plain page or its ``lastmod`` is not the plan's."""
    from ssgen.groq.analysis import scanned_types
    from ssgen.groq.dataset import Dataset
    from ssgen.render.sitemap import page_lastmod
    from ssgen.routes.page import PageMaker
    from ssgen.routes.patterns import fill_pattern, lookup, placeholders
    from ssgen.routes.spec import find_ids

    base_url = str(getattr(config.site, "base_url", "") or "")
    pages = []
    for route in config.routes:
        if route.name not in plan["doc_routes"]:
            continue  # a list route, whose pages the file's view vouches for
        assert route.query_ast is not None  # ``eligible``: per-document routes
        value = route.query_ast.evaluate(Dataset([doc]), None, now)
        if not isinstance(value, list) or len(value) > 1:
            return None
        types = scanned_types(route.query_ast)
        maker = PageMaker(route, config.site, {}, base_url,
                          {"type:*"} if types is None else {f"type:{t}" for t in types})
        for item in value:
            if not isinstance(item, dict):
                return None
            params = {name: lookup(item, name) for name in placeholders(route.path)}
            path = fill_pattern(route.path, item, route=route.name)
            spec = maker.page(path, item, find_ids(item) | {doc["_id"]}, fields=item,
                              params=params)
            if page_lastmod(spec, config.sitemap.lastmod_field) != plan["lastmods"].get(path):
                return None
            pages.append(spec)
    return pages


Made = tuple[list[tuple[str, int, bytes]], dict[str, dict[int, Any]]]


def _render(config: Config, plan: dict[str, Any], edits: list[_Edit]) -> Made | None:
    """Each of the edits' pages rendered (as ``ssgen.build.workers.PageWriter.run``) and,
    after edits of a field a list reads, the list pages that differ and the feed
    (``relist``): (file, output index, bytes), and the list notes for the journal; None
    when one fails or uses an image variant (the ordinary build reports it, or makes
    the variants), or the list pages are not proved."""
    from datetime import UTC, datetime

    from ssgen.errors import SsgenError
    from ssgen.render.environment import Renderer
    from ssgen.render.images.variants import recording

    renderer = Renderer.shared(config)
    specs = [(spec, file, at) for edit in edits for spec, file, at in edit.pages]
    changes = {edit.at: edit.listed[1] for edit in edits if edit.listed is not None}
    notes: dict[str, dict[int, Any]] = {}
    pages: list[tuple[str, int, bytes]] = []
    if changes:
        from ssgen.build.quick.relist import relist

        made = relist(config, plan, changes, [spec for spec, _, _ in specs],
                      datetime.now(UTC))
        if made is None:
            return None
        specs += [(spec, file, at) for spec, file, at, _, _ in made.pages]
        if made.feed is not None:
            pages.append(made.feed)
        notes = {"docs": {edit.at: edit.listed for edit in edits if edit.listed is not None},
                 "hashes": {entry: digest for *_, entry, digest in made.pages}}
    for spec, file, at in specs:
        try:
            with recording() as images:
                shells.fill_reachable(spec.context)
                data = renderer.render_bytes(spec.template, spec.context)
        except SsgenError:
            return None
        if images:
            return None
        pages.append((file, at, data))
    return pages, notes


def _write(config: Config, plan: dict[str, Any], site: str, edits: list[_Edit],
           made: Made, outputs: dict[int, tuple[int, int]],
           begun: int, started: float) -> BuildReport | None:
    """Write the rendered pages whose bytes changed, note them in the plan's journal;
    the report."""
    from ssgen.build.output import Output, sha256
    from ssgen.build.report import BuildReport
    from ssgen.errors import SsgenError

    pages, lists = made
    output = Output(config.output_dir)
    report = BuildReport(full=False)
    written: dict[int, tuple[int, int, bytes]] = {}
    feed = (plan.get("list_feed") or (None,))[0]
    for file, at, data in pages:
        try:
            changed, _, size, mtime = output.put_stat(file, data)
        except SsgenError:
            return None  # the ordinary build reports it
        written[at] = (size, mtime, bytes.fromhex(sha256(data)))
        if changed:
            report.changed.append(file)
        if file == feed:  # a file, not a page
            continue
        report.rendered += 1
        report.written += changed
        report.identical += not changed
    report.unchanged = plan["total"] - report.rendered
    noted = plans.note(site, plan, {edit.at: (edit.stamp, edit.digest, edit.trusted)
                                    for edit in edits},
                       {**{at: (*stat, None) for at, stat in outputs.items()}, **written},
                       racy=begun - plan["output_racy_ns"], dirty=bool(report.changed),
                       lists=lists)
    if not noted:
        return None  # no plan left: the ordinary build records the pages
    report.seconds = time.perf_counter() - started
    report.stages = {"quick": report.seconds}  # ``-v`` says which way the build went
    return report


__all__ = ["LOCK_PATIENCE", "MOST_CHANGES", "attempt"]
