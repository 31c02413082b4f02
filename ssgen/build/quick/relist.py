"""A quick edit of a field a list page or the feed reads: the list pages it touches.

Owns ``keep`` (what ``plan.remember`` adds to the plan of a site with list routes: each
file's list document, its values of the view's fields (``lists.view_fields``); each list
page's route, path, output file and index, data hash and ``$params``; the feed's file)
and ``relist`` (after edits that change files' views: the list pages whose data differs
from what they show, and the feed made again; None when that is not proved).

Why it is sound: the routes that are not per-document, their ``each`` queries and the
feed's entries read documents only through the view's fields (``lists.list_fields``), so
their queries give over the list documents what they give over the whole ones. A page
whose data hash is the one its file was rendered from renders the same bytes (templates,
static files and configuration are the plan's; no ``[data]`` query). A query of the
filter shape (``*[cond]``, then ``| order(...)`` and a projection, which read only the
document at hand) gives the same result unless an edited document passes its condition
before or after the edit: such a page (or ``each`` query) is not evaluated at all. Any
other query is evaluated over the list documents; the pages it makes must be exactly the
recorded ones (no page appears or leaves: that is the ordinary build's). The feed is the
newest rows of its route's pages: the rows of its file (read back, and proved by making
the same bytes again) less the edited pages' plus their new rows; when some rows were
not in the file, a new row is taken only when it ranks above the file's last one.
"""

from __future__ import annotations

import dataclasses
import marshal
import os
from typing import TYPE_CHECKING, Any

from ssgen import shells
from ssgen.groq import nodes as n

if TYPE_CHECKING:
    from datetime import datetime

    from ssgen.config.load import Config, RouteConfig
    from ssgen.manifest.store import Manifest
    from ssgen.routes.page import PageSpec

Row = dict[str, str]


def keep(config: Config, manifest: Manifest, docs: list[dict[str, Any]],
         index: dict[str, int], per_document: Any) -> dict[str, Any]:
    """The plan's keys for ``relist`` ({}: a list route of a kind it does not make, or
    values ``marshal`` cannot keep; a listed field's edit then takes the ordinary build)."""
    from ssgen.routes.paths import url_to_relpath

    routes = [route for route in config.routes if not per_document(route)]
    if not all(_supported(route) for route in routes):
        return {}
    pages: list[tuple[str, str, str, int, str, dict[str, Any]]] = []
    for route in routes:
        records = manifest.pages_at(manifest.pages_for_route(route.name))
        for path in sorted(records):
            record = records[path]
            if record.file not in index:
                return {}
            pages.append((route.name, path, record.file, index[record.file],
                          record.data_hash, record.params))
    feed = None
    if config.feed is not None:
        file = url_to_relpath(config.feed.path)
        if file not in index:
            return {}
        feed = (file, index[file])
    try:
        return {"list_docs": marshal.dumps(docs), "list_pages": marshal.dumps(pages),
                "list_feed": feed}
    except ValueError:  # a value marshal does not take (a YAML date...)
        return {}


def _supported(route: RouteConfig) -> bool:
    """A route ``relist`` makes pages of: a list or paginated list at a fixed path, or an
    ``each`` route (not paginated) whose ``each`` and page queries are of the filter
    shape (so that a page whose query an edit does not reach is proved unchanged)."""
    if route.each_ast is None:
        return not route.placeholders and route.query_ast is not None
    return not route.paginate and filter_shaped(route.each_ast) \
        and filter_shaped(route.query_ast)


def filter_shaped(query: n.Query | None) -> bool:
    """Whether ``query`` is ``*[cond]``, optionally ``| order(keys)``, optionally with a
    projection, its condition, keys and projection reading only the document at hand
    (no ``*``, ``^`` or ``->`` in them): its result lists the documents that pass the
    condition, each a function of itself, in an order of theirs."""
    if query is None:
        return False
    node: Any = query.root
    parts: list[Any] = []
    if type(node) is n.Map and type(node.expr) is n.Projection and type(node.expr.base) is n.This:
        parts.append(node.expr.expr)
        node = node.base
    if type(node) is n.PipeFuncCall and node.name == "order":
        parts.extend(node.args)
        node = node.base
    if type(node) is not n.Filter or type(node.base) is not n.Everything:
        return False
    parts.append(node.expr)
    return not any(_reaches_out(part) for part in parts)


def _reaches_out(node: Any) -> bool:
    """Whether a node reads anything but the document at hand and parameters."""
    if isinstance(node, (n.Everything, n.Parent, n.Deref)):
        return True
    if isinstance(node, (list, tuple)):
        return any(_reaches_out(part) for part in node)
    if dataclasses.is_dataclass(node):
        return any(_reaches_out(getattr(node, item.name)) for item in dataclasses.fields(node))
    return False


@dataclasses.dataclass
class Relisted:
    """The list pages to render (spec, output file, output index, the index of its entry
    in the plan's list pages, its data hash) and the feed's (file, index, bytes)."""

    pages: list[tuple[PageSpec, str, int, int, str]]
    feed: tuple[str, int, bytes] | None


def relist(config: Config, plan: dict[str, Any], changes: dict[int, dict[str, Any]],
           own: list[PageSpec], now: datetime) -> Relisted | None:
    """The list pages and feed after the files at ``changes`` (plan index -> new list
    document) changed their views; ``own``: the edited files' new pages. None: not
    proved, the ordinary build."""
    from ssgen.build.memo.datahash import SHARED_KEYS, composed_hash
    from ssgen.groq.dataset import Dataset
    from ssgen.routes.page import PageResult
    from ssgen.routes.spec.expand import expand_route

    if "list_pages" not in plan:
        return None
    docs: list[dict[str, Any]] = marshal.loads(plan["list_docs"])
    notes = plan.get("list_notes") or {}
    for at, (_, doc) in notes.get("docs", {}).items():
        docs[at] = doc
    pairs = [(docs[at], doc) for at, doc in changes.items()]
    for at, doc in changes.items():
        docs[at] = doc
    alone = [Dataset([doc]) for pair in pairs for doc in pair]
    shapes: dict[int, bool] = {}
    hashes = notes.get("hashes", {})
    recorded: dict[str, list[tuple[int, str, str, int, str, dict[str, Any]]]] = {}
    for at, (route, path, file, index, digest, params) in \
            enumerate(marshal.loads(plan["list_pages"])):
        recorded.setdefault(route, []).append((at, path, file, index,
                                               hashes.get(at, digest), params))
    dataset: list[Dataset] = []

    def everything() -> Dataset:
        if not dataset:
            dataset.append(Dataset(docs))
        return dataset[0]

    def untouched(query: n.Query | None, params: dict[str, Any] | None) -> bool:
        if query is None:
            return False
        if id(query) not in shapes:
            shapes[id(query)] = filter_shaped(query)
        return shapes[id(query)] and _untouched(query, params, alone, now)

    common: dict[str, Any] = {"result_ids": frozenset(), "scanned_types": frozenset(),
                              "site": config.site, "data": {}}
    out: list[tuple[PageSpec, str, int, int, str]] = []
    for route in config.routes:
        if route.name in plan["doc_routes"]:
            continue
        pages = recorded.get(route.name, [])
        made: list[PageSpec] = []
        if route.each_ast is not None:
            if not untouched(route.each_ast, None):
                return None  # the pages' set may change: the ordinary build
            for _, path, _, _, _, params in pages:
                if untouched(route.query_ast, params):
                    continue
                assert route.query_ast is not None
                value = route.query_ast.evaluate(everything(), params, now)
                found = expand_route(route, [params], **common,
                                     page_results=[PageResult(value)])
                if [spec.path for spec in found] != [path]:
                    return None
                made += found
        elif not untouched(route.query_ast, None):
            assert route.query_ast is not None
            value = route.query_ast.evaluate(everything(), None, now)
            made = expand_route(route, value, **common)
            if sorted(spec.path for spec in made) != [page[1] for page in pages]:
                return None
        by_path = {page[1]: page for page in pages}
        for spec in made:
            at, _, file, index, digest, _ = by_path[spec.path]
            data = {k: v for k, v in spec.context.items() if k not in SHARED_KEYS}
            shells.fill_reachable(data)
            fresh = composed_hash(data)
            if fresh != digest:
                out.append((spec, file, index, at, fresh))
    feed = None
    if plan.get("list_feed") is not None and config.feed is not None:
        proved, made_feed = _feed(config, plan, [spec for spec in own
                                                 if spec.route == config.feed.route])
        if not proved:
            return None
        feed = None if made_feed is None else (*plan["list_feed"], made_feed)
    return Relisted(out, feed)


def _untouched(query: n.Query, params: dict[str, Any] | None, alone: list[Any],
               now: datetime) -> bool:
    """Whether no document of ``alone`` (each edited file's list document before and
    after, each a dataset of its own) passes the condition of ``query``, of the filter
    shape, with ``params``: then its result is as it was."""
    return all(query.evaluate(dataset, params, now) == [] for dataset in alone)


def _feed(config: Config, plan: dict[str, Any], own: list[PageSpec]
          ) -> tuple[bool, bytes | None]:
    """Whether the feed with the edited pages' new rows is proved, and its bytes (None:
    the file's, when no edited page is in it or comes into it)."""
    from ssgen.errors import SsgenError
    from ssgen.render.generated import _feed, _feed_entry, _newest, absolute

    feed, site = config.feed, config.site
    assert feed is not None
    try:
        with open(os.path.join(plan["output"], plan["list_feed"][0]), "rb") as handle:
            data = handle.read()
    except OSError:
        return False, None
    rows = read_rows(data)
    if not rows or data.count(b"<entry>") != len(rows):
        return False, None  # none dated (the feed's ``updated`` is a build's time), or odd
    limit = max(0, feed.limit)
    urls = {absolute(site.base_url, spec.path) for spec in own}
    try:
        new = [row for spec in own if (row := _feed_entry(feed, site, spec)) is not None]
    except SsgenError:
        return False, None
    last, full = rows[-1], len(rows) >= limit
    if not any(row["url"] in urls for row in rows) \
            and not any(_ranks_above(row, last) or not full for row in new):
        return True, None  # no edited page in the feed, none comes into it
    # The rows read back must make the very bytes of the file (so they are its rows).
    if _feed(feed, site, rows, None, True) != data:
        return False, None
    kept = [row for row in rows if row["url"] not in urls]
    chosen = _newest(kept + new, limit)
    if not chosen:
        return False, None  # no dated entry: the feed's ``updated`` is the build's time
    # Rows of other pages rank below the file's last one: none may be wanted.
    if full and (len(chosen) < limit or any(not _ranks_above(row, last) for row in chosen
                                            if any(row is mine for mine in new))):
        return False, None
    return True, _feed(feed, site, chosen, None, True)


def _ranks_above(row: Row, last: Row) -> bool:
    """Whether ``row`` comes before ``last`` in the feed's order (newest, then by URL),
    or takes ``last``'s place itself."""
    return row["updated"] > last["updated"] or (
        row["updated"] == last["updated"] and row["url"] <= last["url"])


def read_rows(data: bytes) -> list[Row]:
    """The entries of an Atom feed ssgen wrote (``atom.xml``), as its rows."""
    import html
    import re

    rows = []
    for match in re.finditer(
            rb"<entry>\n    <title>(.*?)</title>\n    <link href=\"(.*?)\" rel=\"alternate\""
            rb" type=\"text/html\"/>\n    <id>.*?</id>\n    <updated>(.*?)</updated>\n"
            rb"(?:    <summary>(.*?)</summary>\n)?  </entry>", data, re.S):
        title, url, updated, summary = (html.unescape((part or b"").decode())
                                        for part in match.groups())
        rows.append({"title": title, "url": url, "updated": updated, "summary": summary})
    return rows


__all__ = ["Relisted", "filter_shaped", "keep", "read_rows", "relist"]
