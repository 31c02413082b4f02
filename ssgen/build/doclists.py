"""Per-document list routes: a new process's build expands only the changed documents' pages.

A route is *per-document* (``per_document``) when its query is ``*[filter]`` or
``*[filter]{projection}`` whose filter and projection read only the document at hand (no
``*``, ``^``, ``->``, parameters, ``before()``/``after()``, custom or pipe functions, and
only built-in functions that are pure functions of their arguments, so no ``now()``),
its path has ``{field}`` placeholders and it is not paginated: each matching document
then gives exactly one page, a pure function of that document. When its templates read
no neighbours either, an edit of some documents changes only their pages.

What a new process lacks to use that is which page each unchanged document has (the
items drop ``_id``). ``.ssgen/doclists.cache`` keeps, per such route, each document's page
path: written after a build recorded its pages, with the config hash, ssgen's and
Python's versions, and checksummed; the checksum of the file last written and the
manifest's pages generation that build left (so the file stands for exactly those
records) are then recorded in the manifest (meta ``doclists``), and only that file is
read, for that generation. A build that leaves each document's path as it found them
(a one-file edit that keeps its slug) records its generation beside the checksum of the
file it read and leaves the file as it is (16k paths: ~5 ms a build not spent writing
it). The generation alone does not tell two files apart: a build that writes no page record
(two documents swap their content in a route whose pages carry every document's tag)
leaves the generation as it was, yet moves documents between paths, and a copy of the
file from before it would pass. A build that finds it current, with no
forced page and the route's recorded paths equal to the file's, evaluates the route's
query over each changed document alone (``expand``); any doubt (an unknown generation,
a path two documents want, too many changes) runs the route's query in full, as before.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from ssgen import __version__, shells
from ssgen.build.change import Change
from ssgen.config.load import Config, RouteConfig
from ssgen.errors import SsgenError
from ssgen.fastclass import dataclass
from ssgen.groq import nodes as n
from ssgen.groq.analysis import scanned_types, walk
from ssgen.groq.dataset import Dataset
from ssgen.groq.nodes import Query
from ssgen.manifest.pages import GENERATION_KEY
from ssgen.manifest.store import Manifest
from ssgen.routes.page import PageMaker, PageSpec
from ssgen.routes.patterns import fill_pattern, lookup, placeholders
from ssgen.routes.spec import find_ids
from ssgen.sources import Source
from ssgen.sources.atomic import write_atomic

FILE = "doclists.cache"
MAGIC = b"ssgen-doclists-3\n"
# manifest meta: "<checksum of the file the last build left> <pages generation it is for>"
MARK_KEY = "doclists"
# More changed documents than this: the route's query runs in full (as cheap by then).
MOST_CHANGES = 256
# Built-in functions whose value depends on their arguments alone.
_PURE = frozenset({
    "global::defined", "global::coalesce", "global::count", "global::length",
    "global::lower", "global::upper", "global::string", "global::round",
    "global::boolean", "global::number", "global::select", "global::references",
    "pt::text", "array::join", "array::compact", "array::unique", "string::split",
    "string::startsWith", "math::sum", "math::avg", "math::min", "math::max",
})
_UNSAFE = (n.Everything, n.Parent, n.Deref, n.Parameter, n.Context, n.CustomFuncCall,
           n.PipeFuncCall)

Paths = dict[str, str]  # document _id -> its page's path


class Scope(Protocol):
    """What this module reads of ``ssgen.build.collect.Scope``."""

    everything: bool
    forced: set[str]


@cache
def _pure(query: Query) -> bool:
    mapped = query.root if isinstance(query.root, n.Map) else None
    root = mapped.base if mapped is not None else query.root
    if query.functions or not isinstance(root, n.Filter) or \
            not isinstance(root.base, n.Everything):
        return False
    for part in (root.expr, mapped.expr if mapped is not None else None):
        for node in walk(part, into_functions=True) if part is not None else ():
            if isinstance(node, _UNSAFE):
                return False
            if isinstance(node, n.FuncCall) and f"{node.namespace}::{node.name}" not in _PURE:
                return False
    return True


def per_document(route: RouteConfig) -> bool:
    """Does each document matching ``route``'s query give one page of its own alone?"""
    return (route.each is None and not route.paginate and route.query_ast is not None
            and bool(placeholders(route.path)) and _pure(route.query_ast))


def cache_key(config: Config) -> bytes:
    """What the file's paths depend on besides the manifest's records."""
    text = f"{MAGIC!r}\0{__version__}\0{sys.version}\0{config.hash}\0{config.site_dir}"
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


@dataclass
class DocLists:
    """The per-document routes' paths a build starts from (``known``, valid for the
    manifest as it opened) and those it leaves (``fresh``), and the changed ``_id``s."""

    changed: frozenset[str] | None
    recorded: Callable[[str], set[str]]  # a route's recorded page paths
    skip: frozenset[str] = frozenset()  # routes expanded in full whatever the file says
    kept: frozenset[str] = frozenset()  # routes this process kept expanded: left alone
    known: dict[str, Paths] = field(default_factory=dict)
    fresh: dict[str, Paths] = field(default_factory=dict)
    queried: set[str] = field(default_factory=set)
    check: bytes = b""  # the checksum of the file ``known`` was read from ("": none)

    def expand(self, route: RouteConfig, source: Source, site: Any, data: dict[str, Any],
               now: datetime) -> tuple[list[PageSpec], AbstractSet[str]] | None:
        """The pages of the changed documents and every path of ``route``; None when the
        route's query must run in full instead."""
        if not per_document(route) or route.name in self.kept:
            return None
        self.queried.add(route.name)
        paths = self.known.get(route.name)
        find = _finder(source)
        if paths is None or self.changed is None or route.name in self.skip or find is None:
            return None
        assert route.query_ast is not None
        recorded = self.recorded(route.name)
        if len(recorded) != len(paths) or recorded != set(paths.values()):
            return None
        types = scanned_types(route.query_ast)
        maker = PageMaker(route, site, data, str(getattr(site, "base_url", "") or ""),
                          {"type:*"} if types is None else {f"type:{t}" for t in types})
        fresh = dict(paths)
        pages: list[PageSpec] = []
        for doc_id in sorted(self.changed):
            fresh.pop(doc_id, None)
            doc = find(doc_id)
            value = [] if doc is None else route.query_ast.evaluate(Dataset([doc]), None, now)
            if not isinstance(value, list) or len(value) > 1:
                return None
            for item in value:
                if not isinstance(item, dict):
                    return None
                params = {name: lookup(item, name) for name in placeholders(route.path)}
                path = fill_pattern(route.path, item, route=route.name)
                # Its own id too: a later edit that takes it out of the route finds the page.
                ids = find_ids(item) | {doc_id}
                pages.append(maker.page(path, item, ids, fields=item, params=params))
                fresh[doc_id] = path
        now_paths = set(fresh.values())
        if len(now_paths) != len(fresh):  # a path two documents want: settled in full
            return None
        self.fresh[route.name] = fresh
        return pages, now_paths

    def note(self, route: RouteConfig, source: Source, pages: list[PageSpec],
             now: datetime) -> None:
        """Each document's path from the route's full expansion ``pages`` (in the query's
        order, which is the dataset's ``_id`` order of the matching documents)."""
        if not per_document(route) or route.name in self.kept:
            return
        self.queried.add(route.name)
        dataset = getattr(source, "dataset", None)
        assert route.query_ast is not None
        if not isinstance(dataset, Dataset):
            return
        root = route.query_ast.root
        matching = Query(root.base if isinstance(root, n.Map) else root, route.query_ast.text)
        docs = matching.evaluate(dataset, None, now)
        if not isinstance(docs, list) or len(docs) != len(pages):
            return
        found = {doc["_id"]: page.path for doc, page in zip(docs, pages, strict=True)
                 if isinstance(doc, dict) and isinstance(doc.get("_id"), str)}
        if len(found) == len(pages) and len(set(found.values())) == len(found):
            self.fresh[route.name] = found

    def leaves(self) -> dict[str, Paths]:
        """The paths to save: those this build found, and those of routes it did not
        query (their pages are as recorded)."""
        kept = {name: paths for name, paths in self.known.items() if name not in self.queried}
        return {**kept, **self.fresh}


def _finder(source: Source) -> Callable[[str], dict[str, Any] | None] | None:
    """How to look a document up by ``_id``: the source's own ``document`` (a lazy
    source: no dataset loaded for it), else its dataset's index (a lazily resumed
    snapshot's document filled); None for a remote one."""
    own = getattr(source, "document", None)
    if callable(own):
        return own  # type: ignore[no-any-return]
    dataset = getattr(source, "dataset", None)
    if not isinstance(dataset, Dataset):
        return None
    by_id = dataset.by_id
    return lambda doc_id: shells.filled(by_id.get(doc_id))  # a snapshot's shell: filled


def changed_ids(scope: Scope | None, change: Change | None) -> frozenset[str] | None:
    """The ``_id``s an incremental build found changed, when they are all its change
    (no forced path, tag or whole-site change); else None."""
    if scope is None or change is None or scope.everything or scope.forced \
            or change.tags or change.paths or change.everything:
        return None
    return frozenset(doc.id for doc in change.documents)


def open_lists(config: Config, manifest: Manifest, changed: frozenset[str] | None, *,
               skip: AbstractSet[str] = frozenset(),
               kept: AbstractSet[str] = frozenset()) -> DocLists:
    """The file's paths when it stands for the manifest's pages generation; ``changed``:
    the ``_id``s this build found changed (None: unknown, every route runs in full);
    ``skip``: routes whose pages must all be planned (a template or global changed);
    ``kept``: routes whose expansions this process kept (serve: not touched here)."""
    # The feed is made from every page of its route that the build planned: never narrowed.
    feed = {config.feed.route} if config.feed is not None else set()
    lists = DocLists(changed if changed is None or len(changed) <= MOST_CHANGES else None,
                     manifest.pages_for_route, frozenset(skip) | feed, frozenset(kept))
    generation = manifest.get_meta(GENERATION_KEY)
    if not generation or not any(map(per_document, config.routes)):
        return lists
    found = _current(config, manifest)
    if found is not None:
        lists.check, lists.known = found
    return lists


def load(config: Config, manifest: Manifest) -> dict[str, Paths] | None:
    """The file's paths when it is the one the last build left (its checksum is the
    manifest's mark) and stands for the manifest's pages as they are; else None."""
    found = _current(config, manifest)
    return None if found is None else found[1]


def _current(config: Config, manifest: Manifest) -> tuple[bytes, dict[str, Paths]] | None:
    """The file's checksum and paths, when ``load`` would give them."""
    generation, mark = manifest.get_meta(GENERATION_KEY), manifest.get_meta(MARK_KEY)
    if not generation or not mark:
        return None
    found = _load(config.state_dir / FILE, cache_key(config))
    if found is None or mark != _mark(found[0], generation):
        return None
    return found


def save(config: Config, manifest: Manifest, lists: DocLists) -> None:
    """Write what ``lists`` leaves, stamped with the manifest's pages generation
    (nothing to write: the file is removed, so no stale one outlives its generation)."""
    if lists.kept and not lists.queried:
        return  # serve's rounds: nothing of the file's was looked at
    leaves, generation = lists.leaves(), manifest.get_meta(GENERATION_KEY)
    path = config.state_dir / FILE
    # The mark first: a build killed before the file is written leaves an older one,
    # which the new mark refuses (as it refuses any copy put back later).
    if not generation or not leaves:
        manifest.set_meta(MARK_KEY, "")
        path.unlink(missing_ok=True)
        return
    if lists.check and leaves == lists.known:  # the file read holds them: kept as it is
        manifest.set_meta(MARK_KEY, _mark(lists.check, generation))
        return
    body = marshal.dumps((cache_key(config), leaves))
    check = checksum(body)
    manifest.set_meta(MARK_KEY, _mark(check, generation))
    try:
        write_atomic(path, MAGIC + check + body, "per-document route paths", durable=False)
    except SsgenError:
        path.unlink(missing_ok=True)


def _mark(check: bytes, generation: str) -> str:
    """The manifest's mark of the file with checksum ``check``, for ``generation``."""
    return f"{check.hex()} {generation}"


def checksum(body: bytes) -> bytes:
    """The file's checksum: SHA-256 cut to 128 bits (this CPU's SHA extensions take the
    1.3 MB of 16k paths in ~0.7 ms, blake2b in ~2.2)."""
    return hashlib.sha256(body).digest()[:16]


def _load(path: Path, key: bytes) -> tuple[bytes, dict[str, Paths]] | None:
    """(checksum, paths) from the file; None when missing, damaged or of another key."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, body = data[:len(MAGIC) + 16], data[len(MAGIC) + 16:]
    if head != MAGIC + checksum(body):
        return None
    try:
        found = marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return None
    if not (isinstance(found, tuple) and len(found) == 2 and found[0] == key
            and isinstance(found[1], dict)):
        return None
    return head[len(MAGIC):], found[1]


__all__ = ["DocLists", "load", "open_lists", "per_document", "save"]
