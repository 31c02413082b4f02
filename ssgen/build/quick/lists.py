"""What a site's list pages and feed read of each document: the quick path's list views.

Owns ``fields_read`` (the top-level document fields a GROQ query can read, or None when
a document's value may reach its result whole, or the query is of a shape not known
here), ``list_fields`` (those of every route that is not per-document, of its ``each``
query, and of the feed's entries: None when one is unknown) and ``view`` (a document's
values of those fields, as a digest). A Markdown edit that leaves a file's view as the
last ordinary build parsed it cannot change a list page, a tag page or the feed: each is
a function of the queries' results and the pages' data, and those read the documents
only through the named fields (``ssgen.build.quick``; the ordinary build otherwise).

The analysis is conservative: every attribute name anywhere in a query is taken as a
field read (``slug.current`` reads ``slug`` and ``current``), and a value that may be a
whole document (``*``, ``@``, ``^``, ``->``) must be narrowed by an attribute or a
projection before it reaches the result, an operator or a function (``count`` and
``defined`` excepted, which read only its existence); any other node, an impure or
unlisted function, or a custom function makes the query unknown.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ssgen.groq import nodes as n

if TYPE_CHECKING:
    from ssgen.config.load import Config, RouteConfig

# Functions of their arguments' values alone (no clock, no dataset, no implicit ``@``).
PURE = frozenset({
    ("global", "coalesce"), ("global", "lower"), ("global", "upper"), ("global", "string"),
    ("global", "length"), ("global", "round"), ("global", "dateTime"),
    ("array", "unique"), ("array", "compact"), ("array", "join"), ("pt", "text"),
    ("string", "startsWith"), ("string", "split"),
    ("math", "sum"), ("math", "min"), ("math", "max"), ("math", "avg"),
})
# Functions that read only whether (or how many) values there are.
EXISTENCE = frozenset({("global", "count"), ("global", "defined")})


class Unknown(Exception):
    """A query of a shape whose reads are not known here."""


def fields_read(query: n.Query | None) -> frozenset[str] | None:
    """The field names ``query`` can read of any document (None: not known)."""
    if query is None:
        return frozenset()
    names: set[str] = set()
    try:
        if _whole(query.root, names):
            return None
    except Unknown:
        return None
    return frozenset(names)


def _narrow(node: Any, names: set[str], this: bool) -> None:
    """Walk ``node``, whose value must not be a whole document."""
    if node is not None and _whole(node, names, this):
        raise Unknown


def _whole(node: Any, names: set[str], this: bool = True) -> bool:
    """Add the names ``node`` reads; whether its value may hold a whole document
    (``this``: whether ``@`` may be one where ``node`` is evaluated)."""
    if isinstance(node, (n.Value, n.Parameter)):
        return False
    if isinstance(node, n.This):
        return this
    if isinstance(node, (n.Everything, n.Parent)):
        return True
    if isinstance(node, n.AccessAttribute):
        names.add(node.name)
        if node.base is not None:
            _whole(node.base, names, this)  # narrowed to the attribute
        return False
    if isinstance(node, (n.AccessElement, n.Slice, n.ArrayCoerce, n.Group)):
        return _whole(node.base, names, this)
    if isinstance(node, n.Filter):
        whole = _whole(node.base, names, this)
        _narrow(node.expr, names, whole)
        return whole
    if isinstance(node, (n.Projection, n.Map, n.FlatMap)):
        # each element (the value, for a projection) is the expression's ``@``
        return _whole(node.expr, names, _whole(node.base, names, this))
    if isinstance(node, n.Deref):
        _whole(node.base, names, this)
        return True
    if isinstance(node, n.PipeFuncCall):
        if node.name != "order":
            raise Unknown
        whole = _whole(node.base, names, this)
        for arg in node.args:
            _narrow(arg, names, whole)
        return whole
    if isinstance(node, (n.Asc, n.Desc, n.Not, n.Neg, n.Pos)):
        _narrow(node.base, names, this)
        return False
    if isinstance(node, (n.OpCall, n.And, n.Or)):
        _narrow(node.left, names, this)
        _narrow(node.right, names, this)
        return False
    if isinstance(node, n.Object):
        return any([_whole(part, names, this) for part in node.attributes])
    if isinstance(node, (n.ObjectAttributeValue, n.ObjectSplat, n.ArrayElement)):
        return _whole(node.value, names, this)
    if isinstance(node, n.ObjectConditionalSplat):
        _narrow(node.condition, names, this)
        return _whole(node.value, names, this)
    if isinstance(node, n.Array):
        return any([_whole(part, names, this) for part in node.elements])
    if isinstance(node, n.FuncCall):
        called = (node.namespace, node.name)
        if called in EXISTENCE:
            for arg in node.args:
                _whole(arg, names, this)
            return False
        if called not in PURE:
            raise Unknown
        for arg in node.args:
            _narrow(arg, names, this)
        return False
    raise Unknown  # Select, Tuple, InRange, Context, custom functions...


def list_fields(config: Config, per_document: Any) -> frozenset[str] | None:
    """The fields that the routes which are not ``per_document`` (a predicate on a
    route), their ``each`` queries and the feed's entries read of any document; None
    when one is not known."""
    fields: set[str] = {"_id", "_type"}
    for route in config.routes:
        if per_document(route):
            continue
        for query in (route.query_ast, route.each_ast):
            found = fields_read(query)
            if found is None:
                return None
            fields |= found
    if config.feed is not None:
        found = _feed_fields(config, per_document)
        if found is None:
            return None
        fields |= found
    return frozenset(fields)


def _feed_fields(config: Config, per_document: Any) -> frozenset[str] | None:
    """What the feed's entries (title, date and summary of its route's page data) read
    of a document of a per-document route (of a list route: its query's fields, already
    counted)."""
    feed = config.feed
    assert feed is not None
    route: RouteConfig | None = next((r for r in config.routes if r.name == feed.route), None)
    if route is None or not per_document(route):
        return frozenset()
    keys = {field.split(".")[0] for field in (feed.title_field, feed.date_field,
                                              feed.summary_field)}
    root = route.query_ast.root if route.query_ast is not None else None
    if type(root) is n.Map and type(root.expr) is n.Projection \
            and type(root.expr.base) is n.This and type(root.expr.expr) is n.Object \
            and all(type(part) is n.ObjectAttributeValue for part in root.expr.expr.attributes):
        names: set[str] = set()
        try:
            for part in root.expr.expr.attributes:
                if isinstance(part, n.ObjectAttributeValue) and part.name in keys:
                    _narrow(part.value, names, True)
        except Unknown:
            return None
        return frozenset(names)
    return fields_read(route.query_ast)  # whole documents as page data: None


def view_fields(config: Config, per_document: Any) -> tuple[str, ...]:
    """The fields whose values a file's view holds, sorted; () when the site has no
    list route and no feed (its pages are all per-document: no view needed)."""
    if config.feed is None and all(per_document(route) for route in config.routes):
        return ()
    found = list_fields(config, per_document)
    assert found is not None  # ``plan.eligible``
    return tuple(sorted(found))


def views_of(entry: Any, fields: tuple[str, ...]) -> tuple[bytes, dict[str, Any]] | None:
    """The view of a parse cache entry's one document and its list document (None: not
    to be had)."""
    from ssgen.sources.filecache.shard import Unavailable

    try:
        docs = entry.documents
    except Unavailable:
        return None
    if len(docs) != 1:
        return None
    digest = view(docs[0], fields)
    return None if digest is None else (digest, listed(docs[0], fields))


def listed(doc: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """``doc``'s values of ``fields`` (its list document: what the lists read of it)."""
    return {name: doc[name] for name in fields if name in doc}


def view(doc: dict[str, Any], fields: tuple[str, ...]) -> bytes | None:
    """A digest of ``doc``'s values of ``fields`` (sorted; None: a value that is not
    JSON, which the caller takes as changed)."""
    import orjson

    try:
        data = orjson.dumps([[name, doc[name]] if name in doc else [name] for name in fields],
                            option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return hashlib.blake2b(data, digest_size=16).digest()


__all__ = ["EXISTENCE", "PURE", "Unknown", "fields_read", "list_fields", "listed", "view",
           "view_fields", "views_of"]
