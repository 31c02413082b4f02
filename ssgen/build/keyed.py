"""Which types a per-page query depends on as a whole (pure query analysis).

``unkeyed_types`` leaves out the scans keyed by a ``$param`` equality: such a scan reads
one document, whose edits reach the page through its ``doc:`` tag; and, for a source
that reports them, the scans keyed by ``references()`` (``ssgen.groq.refkeyed``): the
page gets a ``ref:<id>`` tag per id they looked up, which the edit of a document that
references that id, before or after, reaches (``ssgen.build.scope``).
"""

from __future__ import annotations

from ssgen.groq import nodes as n
from ssgen.groq.analysis import pinned_types, walk
from ssgen.groq.nodes import Query
from ssgen.groq.refkeyed import ref_keyed


def unkeyed_types(query: Query, *, refs: bool = False) -> frozenset[str] | None:
    """The types a per-page query scans, leaving out scans keyed by a ``$param`` equality.

    ``*[_type == "post" && slug.current == $slug]`` only ever reads the document with that
    slug: its edits reach the page through ``doc:`` tags, and a new document with that
    slug would be a duplicate path of the route's ``each`` query, which runs again on
    every change of the type. ``refs``: scans keyed by ``references()`` are left out too
    (their pages carry ``ref:`` tags). Other scans depend on their whole type.
    """
    types: set[str] = set()
    handled: set[int] = set()
    for node in walk(query.root, into_functions=True):
        if isinstance(node, n.Filter):
            exprs, base = _filter_chain(node)
            if not isinstance(base, n.Everything) or id(base) in handled:
                continue
            handled.add(id(base))
            if any(_keyed(expr) for expr in exprs) or (refs and ref_keyed(_innermost(node))):
                continue
            pins = [p for p in (pinned_types(e) for e in exprs) if p is not None]
            if not pins:
                return None
            types |= frozenset.intersection(*pins)
        elif isinstance(node, n.Everything) and id(node) not in handled:
            return None
    return frozenset(types)


def _filter_chain(node: n.Node) -> tuple[list[n.Node], n.Node]:
    exprs: list[n.Node] = []
    while isinstance(node, n.Filter | n.Group):
        if isinstance(node, n.Filter):
            exprs.append(node.expr)
        node = node.base
    return exprs, node


def _innermost(node: n.Node) -> n.Node:
    """The filter of a chain applied to ``*`` itself (the one the evaluator plans), or
    where the chain ends without one."""
    while isinstance(node, n.Filter | n.Group):
        if isinstance(node, n.Filter) and isinstance(node.base, n.Everything):
            return node
        node = node.base
    return node


def _keyed(expr: n.Node) -> bool:
    """True when a filter is a conjunction containing ``<attribute path> == $param``."""
    if isinstance(expr, n.And):
        return _keyed(expr.left) or _keyed(expr.right)
    if isinstance(expr, n.OpCall) and expr.op == "==":
        sides = (expr.left, expr.right)
        return any(isinstance(s, n.Parameter) for s in sides) and any(
            _attribute_path(s) for s in sides
        )
    return False


def _attribute_path(node: n.Node) -> bool:
    while isinstance(node, n.AccessAttribute):
        if node.base is None:
            return True
        node = node.base
    return False
