"""The quick plan: what a body-only edit's new process checks instead of loading the site.

Owns the file ``.ssgen/quick.plan`` (``read``, ``write``, ``forget``) and ``remember``,
which a plain ``ssgen build`` calls under the build lock once it has recorded a clean
build of an eligible site (``eligible``: Markdown files only, every per-document route
(``ssgen.build.doclists.per_document``) with templates that read no neighbours, the
other routes' and the feed's reads of a document known (``ssgen.build.quick.lists``), no
``[data]`` queries, search, redirects or image variants). The plan holds, as that
build left them: the configuration's hash; every template and static file's stamp; each
Markdown file's stamp, digest and whether the stamp alone may be trusted (the parse
cache's verdicts: ``ssgen.sources.filecache``) and, on a site with list routes or a
feed, a digest of the fields they read of it (its view); the (route, path) of each file's pages
and their sitemap ``lastmod``; every owned output file's (relpath, size, mtime, hash)
and the time their stats were recorded; on a site whose list pages ``relist`` makes, each
file's list document and each list page's data hash and ``$params`` (``relist.keep``).
``ssgen.build.quick`` notes in its journal (``journal``) what each quick build changed.

Every build that takes the lock the ordinary way first ``forget``s the plan (one
``unlink``), so a plan on disk describes exactly the output and inputs as the last
clean build and the quick edits after it left them: a build of any other kind (serve,
revalidate, a failed build) leaves none, and the next plain build writes a new one.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import posixpath
import struct
import sys
import zlib
from array import array
from typing import TYPE_CHECKING, Any

from ssgen import __version__
from ssgen.build.quick import journal
from ssgen.build.quick.journal import JOURNAL, OUTPUT, STAMP, Stamp

if TYPE_CHECKING:
    from ssgen.build.report import BuildReport
    from ssgen.config.load import Config
    from ssgen.manifest.store import Manifest

FILE = "quick.plan"
MAGIC = b"ssgen-quick-plan-1\n"
# A template, static file or Markdown file touched this close to the build's start
# (or later) is not vouched for by its stamp: no plan is written.
RACY_NS = 1_000_000_000

OFFSET = struct.Struct("<q")


def key(site_dir: str) -> str:
    """What a plan is valid for besides its contents: ssgen, Python and the site folder."""
    return f"{__version__}\0{sys.version}\0{site_dir}"


def path_of(site_dir: str) -> str:
    """The plan file of a site folder."""
    return os.path.join(site_dir, ".ssgen", FILE)


def pending(site_dir: str) -> bool:
    """Whether quick builds changed output files since the manifest was last written."""
    found = read(site_dir) if os.path.exists(path_of(site_dir)) else None
    return bool(found and found.get("dirty"))


def forget(site_dir: str) -> None:
    """Remove the site's plan and its journal (a build that may change what they
    describe is starting)."""
    journal.drop(path_of(site_dir))


def read(site_dir: str) -> dict[str, Any] | None:
    """The site's plan with its journal's notes applied (None: none, damaged, or written
    by another ssgen or Python)."""
    try:
        with open(path_of(site_dir), "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    head = len(MAGIC) + 4
    body = data[head:]
    check = data[len(MAGIC):head]
    if data[:len(MAGIC)] != MAGIC or zlib.crc32(body).to_bytes(4, "little") != check:
        return None
    try:
        found = marshal.loads(body)
    except (ValueError, EOFError, TypeError):
        return None
    if type(found) is not tuple or len(found) != 2 or found[0] != key(site_dir) \
            or type(found[1]) is not dict:
        return None
    plan: dict[str, Any] = found[1]
    plan["check"] = check + len(body).to_bytes(8, "little")
    notes = journal.notes(path_of(site_dir), plan["check"])
    if notes is None:
        return None
    plan["notes"] = notes
    if notes[0] or notes[1] or notes[4]:
        journal.apply(plan, notes[0], notes[1], notes[4])
    plan["racy"] = notes[2] if notes[2] is not None else plan["racy"]
    plan["dirty"] = notes[3]
    return plan


def note(site_dir: str, plan: dict[str, Any], inputs: journal.Inputs,
         outputs: journal.Outputs, *, racy: int, dirty: bool,
         lists: journal.Lists | None = None) -> bool:
    """Add to the plan's journal what a quick build found and wrote (``journal.note``)."""
    return journal.note(path_of(site_dir), plan, inputs, outputs, racy=racy, dirty=dirty,
                        lists=lists)


def write(site_dir: str, plan: dict[str, Any]) -> bool:
    """Replace the site's plan by ``plan``, with no journal (False: it could not be
    written, and none is left)."""
    forget(site_dir)
    body = marshal.dumps((key(site_dir), plan))
    target = path_of(site_dir)
    temp = f"{target}.{os.getpid()}.tmp"
    try:
        with open(temp, "wb") as handle:
            handle.write(MAGIC + zlib.crc32(body).to_bytes(4, "little") + body)
        os.replace(temp, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return False
    return True


def stamp_of(info: os.stat_result) -> Stamp:
    """A file's stamp from its stat (as ``ssgen.sources.filecache.file_stamp``)."""
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


def tree_stamps(root: str) -> list[tuple[str, Stamp]]:
    """Every file under ``root`` (hidden ones too), sorted, with its stamp; [] without it."""
    found: list[tuple[str, Stamp]] = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        rel = os.path.relpath(folder, root)
        prefix = "" if rel == "." else rel + "/"
        for name in files:
            with contextlib.suppress(OSError):
                found.append((prefix + name, stamp_of(os.stat(os.path.join(folder, name)))))
    found.sort()
    return found


def eligible(config: Config) -> bool:
    """Whether an edit of one Markdown file's content that keeps its view (``lists``)
    can change only that file's own pages: ``kind_allows``, every per-document route with
    templates that read no neighbours, and the other routes' and the feed's reads known
    (a function of the configuration's hash and the templates alone)."""
    from ssgen.build.doclists import per_document
    from ssgen.build.quick.lists import list_fields
    from ssgen.render.environment import Renderer
    from ssgen.routes.spec.expand import NEIGHBOUR_KEYS

    if not kind_allows(config):
        return False
    renderer = Renderer.shared(config)
    return all(not per_document(route) or not renderer.reads_any(route.template, NEIGHBOUR_KEYS)
               for route in config.routes) and list_fields(config, per_document) is not None


def kind_allows(config: Config) -> bool:
    """The part of ``eligible`` read from the configuration's fields (some of which, such
    as the state and redirects, its hash leaves out): a local site of Markdown files only,
    with routes and no ``[data]`` queries, search, shared state or redirects."""
    source = config.source
    return (source.type == "local" and source.files is not None and not source.files
            and bool(source.markdown_dir) and config.state_url is None and not config.data_ast
            and not config.search.enabled and not config.redirects
            and bool(config.routes))


def remember(config: Config, manifest: Manifest, report: BuildReport, started_ns: int) -> None:
    """Write the plan of the build ``report`` just recorded in ``manifest`` (begun at
    ``started_ns``), when the site is ``eligible`` and the build left nothing in doubt."""
    from ssgen.build import doclists
    from ssgen.build.damage_ahead import RACY_NS as OUTPUT_RACY_NS
    from ssgen.build.docstate import MARK_KEY
    from ssgen.build.output.temps import TEMP_PREFIX
    from ssgen.build.quick import relist
    from ssgen.build.quick.lists import view_fields, views_of
    from ssgen.build.verify import EXTRAS_KEY, racy_after
    from ssgen.routes.paths import url_to_relpath
    from ssgen.sources.inputs import LISTING, inputs_of, layout, markdown_cache
    from ssgen.sources.markdown_docs import MARKDOWN_SUFFIXES, markdown_ids

    site_dir = str(config.site_dir)
    if not report.ok or manifest.get_meta(EXTRAS_KEY) or not eligible(config) \
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
    rels = [item.rel for item in inputs]
    ids = markdown_ids(rels)
    if len(set(ids)) != len(ids) or any(item.kind != "markdown" for item in inputs):
        return
    fields = view_fields(config, doclists.per_document)
    stamps, digests, trusted, views = bytearray(), bytearray(), bytearray(), bytearray()
    docs: list[dict[str, Any]] = []
    for item in inputs:
        entry = cache.entry(item.path)
        if entry is None or entry.faults or len(entry.hashes) != 1:
            return
        stamps += STAMP.pack(*entry.stamp)
        digests += entry.digest
        trusted.append(entry.trusted)
        if fields:  # what the list pages and the feed read of the file, as last parsed
            viewed = views_of(entry, fields)
            if viewed is None:
                return
            views += viewed[0]
            docs.append(viewed[1])
    records = manifest.files()
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
    text, offsets = pages_text([sorted(by_doc.get(doc_id, ())) for doc_id in ids])
    lastmods, planned = manifest.lastmods(), _paths(paths)
    trees = (tree_stamps(str(config.templates_dir)), tree_stamps(str(config.static_dir)))
    racy = started_ns - RACY_NS
    if any(max(stamp[0], stamp[3]) >= racy for tree in trees for _, stamp in tree):
        return
    listed = relist.keep(config, manifest, docs, index, doclists.per_document) \
        if fields else {}
    write(site_dir, {
        **listed,
        "config": config.hash,
        "layout": tuple(layout(config)),
        "markdown": os.path.join(site_dir, posixpath.normpath(config.source.markdown_dir)),
        "listing": os.path.join(config.state_dir, LISTING),
        "suffixes": MARKDOWN_SUFFIXES,
        "output": os.path.abspath(config.output_dir),
        "templates": trees[0],
        "static": trees[1],
        "total": report.rendered + report.unchanged,
        "rels": marshal.dumps(rels),
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
        "racy": racy_after(manifest),
        "output_racy_ns": OUTPUT_RACY_NS,
        "temp_prefix": TEMP_PREFIX,
    })


def _paths(paths: dict[str, dict[str, str]]) -> set[str]:
    return {page for found in paths.values() for page in found.values()}


def pages_text(pages: list[list[str]]) -> tuple[bytes, bytes]:
    """Each input's pages (``route\\0path\\0file\\0output index``, one a line) as one
    text and the offsets of each input's part in it (``page_of`` reads one)."""
    parts = ["\n".join(doc).encode() for doc in pages]
    offsets = array("q", [0])
    at = 0
    for part in parts:
        at += len(part)
        offsets.append(at)
    return b"".join(parts), offsets.tobytes()


def pages_of(plan: dict[str, Any], at: int) -> list[tuple[str, str, str, int]]:
    """The (route, path, file, output index) of the pages of the plan's input ``at``."""
    start, end = OFFSET.unpack_from(plan["offsets"], at * OFFSET.size)[0], \
        OFFSET.unpack_from(plan["offsets"], (at + 1) * OFFSET.size)[0]
    found = []
    for line in plan["pages"][start:end].decode().split("\n") if end > start else ():
        route, path, file, index = line.split("\0")
        found.append((route, path, file, int(index)))
    return found


__all__ = [
    "FILE",
    "JOURNAL",
    "OUTPUT",
    "STAMP",
    "Stamp",
    "eligible",
    "forget",
    "kind_allows",
    "note",
    "pages_of",
    "pending",
    "read",
    "remember",
    "stamp_of",
    "tree_stamps",
    "write",
]
