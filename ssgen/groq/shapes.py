"""Which queries can be maintained per document (maintained/), and their parts.

``*[cond] | order(k1, k2 desc) {item}`` (order, item and a trailing slice all optional),
``*[cond] | order(...)[i]{...}`` (one element, optionally projected) and
``count(*[cond])`` are functions of each candidate document taken alone plus what
its evaluation reads: the documents it dereferences, and the results of subqueries
over ``*`` whose filter is an index lookup (``references(^._id)``, ``author._ref ==
^._id``, ``_type == "x"``): a change reaches such a subquery through the looked-up keys
(dependents.py). ``shape_of`` returns None for anything else: a ``*`` that is not the
base of a planned filter, ``^`` reaching above the document, the clock (``now()``),
delta or release state, custom functions; the caller then evaluates in full.
"""

from __future__ import annotations

from typing import Any

from ssgen.fastclass import dataclass
from ssgen.groq import nodes as n
from ssgen.groq.compile import Compiler
from ssgen.groq.plan import plan_filter
from ssgen.groq.scopeuse import children

_IMPURE_NAMES = frozenset({"now", "identity", "before", "after"})
_IMPURE_NAMESPACES = frozenset({"delta", "releases"})
_DOCUMENT_ONLY = frozenset({0})
_OUTER = frozenset({0, 1})  # a correlated subquery's document and the outer one


@dataclass(frozen=True, slots=True)
class Shape:
    """The parts of a maintainable query."""

    cond: n.Node
    keys: tuple[tuple[n.Node, bool], ...]  # (expression, descending)
    item: n.Node | None  # the Map expression; None: the documents themselves
    window: n.Slice | None  # ``[a..b]`` over the result
    window_first: bool  # the slice comes before the Map: only its items are evaluated
    count: bool = False  # ``count(*[cond])``: the number of passing documents
    element: bool = False  # ``*[cond][i]{...}``: the one item of ``window`` (or null)


def shape_of(query: n.Query) -> Shape | None:
    """The query's parts when it can be maintained per document, else None."""
    found = explain(query)
    return found if isinstance(found, Shape) else None


_NOT_A_LIST_SHAPE = ("the query is not *[filter] with optional | order(...), {projection} "
                     "and [slice], nor count(*[filter])")


def explain(query: n.Query) -> Shape | str:
    """The query's parts, or why it cannot be maintained (for users to fix the query)."""
    if query.functions:
        return "the query declares custom functions"
    return _explain_root(query.root, _DOCUMENT_ONLY)


def correlated(node: n.Node) -> Shape | str:
    """The parts of a subquery in an item's attribute (``"posts": *[references(^._id)]
    | order(...){...}``) kept per outer document, or why it is not: it must be a
    maintainable shape whose ``^`` reaches the outer document and no further."""
    if 0 not in Compiler().uses.levels(node):
        return "it does not read ^ (it is evaluated again for every document)"
    found = _explain_root(node, _OUTER)
    if isinstance(found, Shape) and found.element and not found.keys:
        # A full evaluation stops at the first match: its read trace is not kept.
        return "*[filter][i] without order(): add an order()"
    return found


def _explain_root(root: n.Node, levels: frozenset[int]) -> Shape | str:
    if isinstance(root, n.FuncCall) and (root.namespace, root.name) == ("global", "count") \
            and len(root.args) == 1:
        inner = root.args[0]
        if not (isinstance(inner, n.Filter) and isinstance(inner.base, n.Everything)):
            return _NOT_A_LIST_SHAPE
        return _checked(Shape(inner.expr, (), None, None, False, True), levels)
    if isinstance(root, n.Projection) and isinstance(root.base, n.AccessElement):
        return _element(root.base, n.Projection(n.This(), root.expr), levels)
    if isinstance(root, n.AccessElement):
        return _element(root, None, levels)
    window = None
    if isinstance(root, n.Slice):
        window, root = root, root.base
    item = None
    if isinstance(root, n.Map):
        item, root = root.expr, root.base
    window_first = window is None and isinstance(root, n.Slice)
    if isinstance(root, n.Slice) and window is None:
        window, root = root, root.base
    keys, root = _ordered(root)
    if not (isinstance(root, n.Filter) and isinstance(root.base, n.Everything)):
        return _NOT_A_LIST_SHAPE
    return _checked(Shape(root.expr, keys, item, window, window_first), levels)


def _element(access: n.AccessElement, item: n.Node | None,
             levels: frozenset[int]) -> Shape | str:
    """``*[cond] | order(...)[i]`` with an optional projection of that one document: a
    one-item window evaluated before the projection."""
    keys, root = _ordered(access.base)
    if not (isinstance(root, n.Filter) and isinstance(root.base, n.Everything)):
        return _NOT_A_LIST_SHAPE
    window = n.Slice(access.base, access.index, access.index, True)
    return _checked(Shape(root.expr, keys, item, window, True, element=True), levels)


def _ordered(root: n.Node) -> tuple[tuple[tuple[n.Node, bool], ...], n.Node]:
    if isinstance(root, n.PipeFuncCall) and root.name == "order" and root.args:
        keys = tuple(
            (arg.base, isinstance(arg, n.Desc)) if isinstance(arg, n.Asc | n.Desc)
            else (arg, False)
            for arg in root.args
        )
        return keys, root.base
    return (), root


def _checked(shape: Shape, levels: frozenset[int]) -> Shape | str:
    compiler = Compiler()
    parts = [(shape.cond, False), *((key, False) for key, _ in shape.keys)]
    if shape.item is not None:
        parts.append((shape.item, True))  # a Map expression runs in a hidden scope
    for part, hidden in parts:
        if not compiler.uses.levels(part, hidden) <= levels:
            return "^ reads above the document (outside a subquery)" if levels == \
                _DOCUMENT_ONLY else "^.^ reads above the outer document"
        reason = _per_document(compiler, part)
        if reason is not None:
            return reason
    return shape


def _per_document(compiler: Compiler, node: n.Node) -> str | None:
    """Why node is not a function of one document and index lookups, or None."""
    planned: set[int] = set()
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, n.CustomFuncCall):
            return "it calls a custom function"
        if isinstance(current, n.Context):
            return "it reads before()/after() (delta mode)"
        if isinstance(current, n.FuncCall | n.PipeFuncCall) and (
            current.name in _IMPURE_NAMES
            or getattr(current, "namespace", "global") in _IMPURE_NAMESPACES
        ):
            return f"it calls {current.name}(), which is not a function of the documents"
        if isinstance(current, n.Filter) and isinstance(current.base, n.Everything):
            if plan_filter(compiler, current.expr) is None:
                return ("a subquery scans every document: give its filter an indexed "
                        "condition (_type == \"x\", a field == ^.field or $param, references())")
            planned.add(id(current.base))
        if isinstance(current, n.Everything) and id(current) not in planned:
            return "it reads * outside a filter"
        stack.extend(children(current))
    return None


def subqueries(shape: Shape) -> list[tuple[str, str | None]]:
    """The subqueries over ``*`` in a shape's item, by attribute name: None when one is
    kept per outer document (maintained/), else why it runs in full on a change."""
    item = shape.item
    if item is None:
        return []
    if not (isinstance(item, n.Projection) and isinstance(item.base, n.This)
            and isinstance(item.expr, n.Object)):
        return [("(item)", "a subquery not directly under the projection runs in full")] \
            if _reads_everything(item) else []
    attributes = item.expr.attributes
    plain = all(isinstance(attr, n.ObjectAttributeValue) for attr in attributes)
    found: list[tuple[str, str | None]] = []
    for attr in attributes:
        if not _reads_everything(attr.value):
            continue
        name = attr.name if isinstance(attr, n.ObjectAttributeValue) else "..."
        if not plain:
            found.append((name, "the projection has a ... splat or a conditional part"))
            continue
        reason = correlated(attr.value)
        found.append((name, reason if isinstance(reason, str) else None))
    return found


def _reads_everything(node: n.Node) -> bool:
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, n.Everything):
            return True
        stack.extend(children(current))
    return False
