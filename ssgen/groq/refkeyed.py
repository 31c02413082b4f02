"""Scans keyed by ``references()``: which documents a correlated list can gain (pure).

``*[_type == "post" && references(^._id)]`` in an author's projection reads the posts
that reference that author: a document can enter or leave its result only by
referencing the author before or after its change. ``ref_keyed`` tells such a scan: a
filter directly over ``*`` whose ``&&``-conjuncts hold a ``references()`` call whose
arguments read no ``@`` (literals, ``$params``, ``^.a.b``), and no equality or ``in`` on
a field other than ``_type``, which the index planner (``plan.py``) would look up
instead. The evaluator then always takes that scan's candidates from the
reverse-reference index and records the ids it looked up in ``ctx.keys`` as
``(None, id)`` (``plan.candidates``, ``MaintainedQuery.lookups``): those are the ids a
document must reference to be in the result. ``ref_keyed_types`` gives the types such
scans are pinned to; other scans are ``ssgen.build.keyed``'s and ``analysis``'s.
"""

from __future__ import annotations

from ssgen.groq import nodes as n
from ssgen.groq.analysis import pinned_types, walk
from ssgen.groq.plan import attr_path, conjuncts, is_references


def ref_keyed(node: n.Node) -> bool:
    """True when ``node`` is a filter over ``*`` that the evaluator looks up by the ids
    its ``references()`` call names (see the module docstring)."""
    if not isinstance(node, n.Filter) or not isinstance(node.base, n.Everything):
        return False
    parts = conjuncts(node.expr)
    lookups = [part for part in parts if is_references(part)]
    if not any(_outer_args(part) for part in lookups):
        return False
    return not any(_field_lookup(part) for part in parts)


def ref_keyed_types(query: n.Query) -> frozenset[str] | None:
    """The types of the ``ref_keyed`` scans of a query (custom functions included);
    None: one of them may read any type; empty: none is."""
    types: set[str] = set()
    for node in walk(query.root, into_functions=True):
        if ref_keyed(node):
            assert isinstance(node, n.Filter)
            pins = pinned_types(node.expr)
            if pins is None:
                return None
            types |= pins
    return frozenset(types)


def has_ref_keyed(query: n.Query) -> bool:
    """Does the query hold a ``ref_keyed`` scan (cached on the query)?"""
    found = query.compiled.get("ref_keyed")
    if found is None:
        found = query.compiled["ref_keyed"] = any(
            ref_keyed(node) for node in walk(query.root, into_functions=True))
    return bool(found)


def _outer_args(call: n.Node) -> bool:
    assert isinstance(call, n.FuncCall)
    return bool(call.args) and all(_reads_no_this(arg) for arg in call.args)


def _reads_no_this(node: n.Node) -> bool:
    """A literal, a ``$param`` or ``^.a.b`` (``^.^.a`` ...): never ``@``."""
    while isinstance(node, n.AccessAttribute):
        if node.base is None:
            return False  # ``a`` alone is ``@.a``
        node = node.base
    return isinstance(node, n.Value | n.Parameter | n.Parent)


def _field_lookup(part: n.Node) -> bool:
    """An ``==``/``in`` on a field other than ``_type``: the planner may prefer it."""
    if not isinstance(part, n.OpCall) or part.op not in ("==", "in"):
        return False
    sides = (part.left, part.right) if part.op == "==" else (part.left,)
    return any((path := attr_path(side)) is not None and path != ("_type",) for side in sides)
