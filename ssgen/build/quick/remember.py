"""Leaving the quick plan at the end of a clean plain build: ``remember``.

Owns what goes into ``.ssgen/quick.plan`` (``ssgen.build.quick.plan`` owns the file) and
when it is written off the build's critical path. The build process reads what it needs of
the manifest (the owned files, the sitemap's ``lastmod``s, the doclists file, the marks);
the rest (16k parse cache entries read, each file's view, pages and output rows packed,
the template and static trees stamped: ~0.2-0.4 s CPU at 16k files) is done by a forked
child that holds the build lock until it has written the plan or given up: the build
lock's descriptor is handed over to it (``BuildLock.hand_over``), so no other build can
start (and ``forget`` the plan, or build) before the plan is whole, and a new process
after this one waits for it as it waits for any build. In the process that forked it,
``plan.settle`` waits for it before its next build or plan read.
"""

from __future__ import annotations

import os
import posixpath
import threading
from typing import TYPE_CHECKING, Any

from ssgen.build.quick import plan as plans
from ssgen.build.quick.plan import OUTPUT, STAMP, WRITERS

if TYPE_CHECKING:
    from ssgen.build.report import BuildReport
    from ssgen.config.load import Config
    from ssgen.manifest.lock import BuildLock
    from ssgen.manifest.schema import FileRecord
    from ssgen.manifest.store import Manifest


def remember(config: Config, manifest: Manifest, report: BuildReport, started_ns: int,
             lock: BuildLock | None = None) -> None:
    """Write the plan of the build ``report`` just recorded in ``manifest`` (begun at
    ``started_ns``), when the site is ``eligible`` and the build left nothing in doubt;
    in a forked child holding ``lock`` (the build's, held) when one can be forked."""
    from ssgen.build import doclists
    from ssgen.build.docstate import MARK_KEY
    from ssgen.build.verify import EXTRAS_KEY, racy_after
    from ssgen.sources.inputs import inputs_of, layout, markdown_cache
    from ssgen.sources.markdown_docs import markdown_ids

    if not report.ok or manifest.get_meta(EXTRAS_KEY) or not plans.eligible(config) \
            or manifest.failures():
        return
    paths = doclists.load(config, manifest)
    doc_routes = tuple(route.name for route in config.routes if doclists.per_document(route))
    cache = markdown_cache(config)
    if paths is None or cache is None or not cache.mark \
            or cache.mark != manifest.get_meta(MARK_KEY) \
            or set(paths) != set(doc_routes):
        return
    inputs = inputs_of(layout(config))
    ids = markdown_ids([item.rel for item in inputs])
    if len(set(ids)) != len(ids) or any(item.kind != "markdown" for item in inputs):
        return
    facts = (config, report.rendered + report.unchanged, started_ns, doc_routes, paths,
             cache, inputs, ids, manifest.files(), manifest.lastmods(), racy_after(manifest))
    if lock is None or not lock.held or threading.active_count() != 1:
        _compose(*facts)  # a thread's locks would be copied held into a child
        return
    _imports()
    try:
        pid = os.fork()
    except OSError:
        _compose(*facts)  # no process to spare
        return
    if pid == 0:  # the child: writes, then exits without running the caller's code
        try:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # no caller waits for the output pipes it inherited
                os.dup2(null, fd)
            _compose(*facts)
        finally:
            os._exit(0)
    WRITERS.append(pid)
    lock.hand_over()


def _imports() -> None:
    """What ``_compose`` imports, imported before the fork (not once in each child)."""
    from ssgen.build.damage_ahead import RACY_NS  # noqa: F401
    from ssgen.build.output.temps import TEMP_PREFIX  # noqa: F401
    from ssgen.build.quick.lists import view_fields, views_of  # noqa: F401
    from ssgen.routes.paths import url_to_relpath  # noqa: F401
    from ssgen.sources.filecache.shard import Unavailable  # noqa: F401
    from ssgen.sources.inputs import LISTING  # noqa: F401
    from ssgen.sources.markdown_docs import MARKDOWN_SUFFIXES  # noqa: F401


def _compose(config: Config, total: int, started_ns: int, doc_routes: tuple[str, ...],
             paths: dict[str, dict[str, str]], cache: Any, inputs: list[Any], ids: list[str],
             records: dict[str, FileRecord], lastmods: dict[str, Any], racy_outputs: int
             ) -> None:
    """The plan made of what the build process read, and written (nothing when a file
    or page leaves it in doubt)."""
    import marshal

    from ssgen.build.damage_ahead import RACY_NS as OUTPUT_RACY_NS
    from ssgen.build.doclists import per_document
    from ssgen.build.output.temps import TEMP_PREFIX
    from ssgen.build.quick.lists import view_fields, views_of
    from ssgen.routes.paths import url_to_relpath
    from ssgen.sources.inputs import LISTING, layout
    from ssgen.sources.markdown_docs import MARKDOWN_SUFFIXES

    site_dir = str(config.site_dir)
    fields = view_fields(config, per_document)
    stamps, digests, trusted, views = bytearray(), bytearray(), bytearray(), bytearray()
    for item in inputs:
        entry = cache.entry(item.path)
        if entry is None or entry.faults or len(entry.hashes) != 1:
            return
        stamps += STAMP.pack(*entry.stamp)
        digests += entry.digest
        trusted.append(entry.trusted)
        if fields:  # what the list pages and the feed read of the file, as last parsed
            digest = views_of(entry, fields)
            if digest is None:
                return
            views += digest
    if any(record.kind == "image" or record.size < 0 or record.mtime_ns < 0
           for record in records.values()):
        return
    outputs = sorted(records)
    index = {rel: at for at, rel in enumerate(outputs)}
    by_doc: dict[str, list[str]] = {}
    for route, found in paths.items():
        for doc_id, page in found.items():
            file = url_to_relpath(page, route)
            if file not in index or any(mark in text for text in (route, page, file)
                                        for mark in ("\0", "\n")):
                return
            by_doc.setdefault(doc_id, []).append(f"{route}\0{page}\0{file}\0{index[file]}")
    if not by_doc.keys() <= set(ids):
        return
    text, offsets = plans.pages_text([sorted(by_doc.get(doc_id, ())) for doc_id in ids])
    planned = {page for found in paths.values() for page in found.values()}
    trees = (plans.tree_stamps(str(config.templates_dir)),
             plans.tree_stamps(str(config.static_dir)))
    racy = started_ns - plans.RACY_NS
    if any(max(stamp[0], stamp[3]) >= racy for tree in trees for _, stamp in tree):
        return
    plans.write(site_dir, {
        "config": config.hash,
        "layout": tuple(layout(config)),
        "markdown": os.path.join(site_dir, posixpath.normpath(config.source.markdown_dir)),
        "listing": os.path.join(config.state_dir, LISTING),
        "suffixes": MARKDOWN_SUFFIXES,
        "output": os.path.abspath(config.output_dir),
        "templates": trees[0],
        "static": trees[1],
        "total": total,
        "rels": marshal.dumps([item.rel for item in inputs]),
        "stamps": bytes(stamps),
        "digests": bytes(digests),
        "trusted": bytes(trusted),
        "doc_routes": doc_routes,
        "view_fields": fields,
        "views": bytes(views),
        "pages": text,
        "offsets": offsets,
        "lastmods": {page: lastmods[page] for page in lastmods if page in planned},
        "files": marshal.dumps(outputs),
        "stats": b"".join(OUTPUT.pack(records[rel].size, records[rel].mtime_ns)
                          for rel in outputs),
        "hashes": b"".join(bytes.fromhex(records[rel].hash) for rel in outputs),
        "racy": racy_outputs,
        "output_racy_ns": OUTPUT_RACY_NS,
        "temp_prefix": TEMP_PREFIX,
    })


__all__ = ["remember"]
