"""Static analysis of GROQ ASTs: no dataset, no evaluation of documents.

Owns: ``scanned_types`` (the ``_type``s a query can read from ``*``; None = any type),
``derefs`` (does the query follow references), ``parameters`` (the ``$params`` it needs),
and the helpers the parser uses for validation: ``children`` (generic child walk),
``constant_value`` (constant folding for ``[...]`` disambiguation and slice bounds),
``attribute_name`` (the key of a shorthand object attribute) and ``ast_depth``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ssgen.groq import nodes as n

_NOT_CONSTANT: Any = object()


def children(node: n.Node) -> Iterator[n.Node]:
    """The direct child expressions of ``node`` (a custom call's arguments, not the
    function's body: see ``walk``)."""
    match node:
        case n.Value() | n.Everything() | n.This() | n.Parent() | n.Parameter() | n.Context():
            return
        case n.AccessAttribute(base=base):
            if base is not None:
                yield base
        case n.Filter(base=b, expr=e) | n.Projection(base=b, expr=e) | n.Map(base=b, expr=e) \
                | n.FlatMap(base=b, expr=e):
            yield b
            yield e
        case n.AccessElement(base=b) | n.Slice(base=b) | n.Deref(base=b) | n.ArrayCoerce(base=b) \
                | n.Group(base=b) | n.Not(base=b) | n.Neg(base=b) | n.Pos(base=b) | n.Asc(base=b) \
                | n.Desc(base=b):
            yield b
        case n.OpCall(left=left, right=right) | n.And(left=left, right=right) \
                | n.Or(left=left, right=right):
            yield left
            yield right
        case n.InRange(base=b, left=left, right=right):
            yield from (b, left, right)
        case _:
            yield from _compound_children(node)


def _compound_children(node: n.Node) -> Iterator[n.Node]:
    match node:
        case n.Array(elements=elements):
            yield from (element.value for element in elements)
        case n.Object(attributes=attributes):
            for attr in attributes:
                if isinstance(attr, n.ObjectConditionalSplat):
                    yield attr.condition
                yield attr.value
        case n.Tuple(members=members):
            yield from members
        case n.Select(alternatives=alternatives, fallback=fallback):
            for alt in alternatives:
                yield alt.condition
                yield alt.value
            if fallback is not None:
                yield fallback
        case n.FuncCall(args=args):
            yield from args
        case n.PipeFuncCall(base=base, args=args):
            yield base
            yield from args
        case n.CustomFuncCall(args=args):
            yield from args
        case _:
            return


def walk(node: n.Node, *, into_functions: bool = False) -> Iterator[n.Node]:
    """Every node of the tree under ``node`` (itself included), iteratively; with
    ``into_functions`` also the bodies of the custom functions it calls."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))
        if into_functions and isinstance(current, n.CustomFuncCall):
            stack.append(current.function.body)


def ast_depth(node: n.Node) -> int:
    """The height of the tree (a leaf is 1), computed without recursion."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > deepest:
            deepest = depth
        if type(current) is n.Value:
            continue
        if type(current) is n.Array and all(type(e.value) is n.Value for e in current.elements):
            deepest = max(deepest, depth + 1 if current.elements else depth)
            continue
        stack.extend((child, depth + 1) for child in children(current))
    return deepest


def constant_value(
    node: n.Node, params: Mapping[str, Any] | None = None, _budget: int = 64
) -> Any:
    """The value of a constant expression (literals, ``params`` when given, and
    arithmetic on them), else ``NOT_CONSTANT``. Used to tell ``a[0]`` from ``a["x"]``
    from ``a[filter]``, and for slice bounds. Expressions deeper than 64 levels are
    not folded (they are not constant in any real query, and recursion stays bounded)."""
    if _budget <= 0:
        return _NOT_CONSTANT
    match node:
        case n.Value(value=value):
            return value
        case n.Parameter(name=name):
            return params[name] if params is not None and name in params else _NOT_CONSTANT
        case n.Group(base=base) | n.Pos(base=base):
            value = constant_value(base, params, _budget - 1)
            return value if _is_number(value) or isinstance(node, n.Group) else _NOT_CONSTANT
        case n.Neg(base=base):
            value = constant_value(base, params, _budget - 1)
            return -value if _is_number(value) else _NOT_CONSTANT
        case n.OpCall(op=op, left=left, right=right):
            return _fold_op(op, constant_value(left, params, _budget - 1),
                            constant_value(right, params, _budget - 1))
        case _:
            return _NOT_CONSTANT


NOT_CONSTANT: Any = _NOT_CONSTANT


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fold_op(op: str, left: Any, right: Any) -> Any:
    if isinstance(left, str) and isinstance(right, str) and op == "+":
        return left + right
    if not (_is_number(left) and _is_number(right)):
        return _NOT_CONSTANT
    if op not in _ARITHMETIC:
        return _NOT_CONSTANT
    # GROQ numbers are doubles: fold in floats (which also keeps 9**9**9 from running
    # for ever), and give integral results back as ints.
    try:
        result = _ARITHMETIC[op](float(left), float(right))
    except (ZeroDivisionError, OverflowError, ValueError):
        return _NOT_CONSTANT
    if not math.isfinite(result):
        return _NOT_CONSTANT
    if result.is_integer() and abs(result) <= 2**53 and not (
            isinstance(left, float) or isinstance(right, float) or op == "/"):
        return int(result)
    return result


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": math.fmod,
    "**": math.pow,
}


def attribute_name(node: n.Node) -> str | None:
    """The key a shorthand object attribute gets (``{title}``, ``{author->}``,
    ``{author->name}``: spec DetermineName), or None when it has none."""
    current: n.Node | None = node
    while current is not None:
        match current:
            case n.AccessAttribute(base=None, name=name):
                return name
            case n.AccessAttribute(base=n.Deref(base=base)):
                # ``a->name`` is one Dereference traversal in the spec: key of ``a``.
                current = base
            case n.Deref(base=base) | n.ArrayCoerce(base=base) | n.AccessElement(base=base) \
                    | n.Filter(base=base) | n.Map(base=base) | n.Projection(base=base) \
                    | n.Slice(base=base) | n.Group(base=base) | n.PipeFuncCall(base=base):
                current = base
            case _:
                return None
    return None


def parameters(query: n.Query) -> frozenset[str]:
    """The ``$params`` a query reads (a custom function's own parameter excluded)."""
    return frozenset(node.name for node in walk(query.root) if isinstance(node, n.Parameter))


def custom_body_error(body: n.Node, param: str) -> str | None:
    """Why ``body`` is not a valid custom function body for ``fn ns::f($param)``, or None.

    The body must be ``$p{...}``, ``$p->{...}``, ``$p[]{...}`` or ``$p[]->{...}``; the
    projection may not read parameters, and ``^`` may not reach outside of it.
    """
    obj = _custom_projection(body, param)
    if obj is None:
        return (f"a custom function body must be ${param}{{...}}, ${param}->{{...}}, "
                f"${param}[]{{...}} or ${param}[]->{{...}}")
    stack: list[tuple[n.Node, int]] = [(obj, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, n.Parameter):
            return f"${node.name} cannot be used inside a custom function's projection"
        if isinstance(node, n.Parent) and node.n > level:
            return "^ cannot refer outside of a custom function's projection"
        stack.extend((child, level + _scope_step(node, child)) for child in children(node))
    return None


def _scope_step(parent: n.Node, child: n.Node) -> int:
    """1 when ``child`` is evaluated in a new nested scope of ``parent``."""
    match parent:
        case n.Projection(expr=expr) | n.Filter(expr=expr):
            return 1 if child is expr else 0
        case n.PipeFuncCall(base=base):
            return 0 if child is base else 1
        case _:
            return 0


def _custom_projection(body: n.Node, param: str) -> n.Node | None:
    match body:
        case n.Projection(base=n.Parameter(name=name), expr=obj) \
                | n.Projection(base=n.Deref(base=n.Parameter(name=name)), expr=obj) \
                | n.Map(base=n.ArrayCoerce(base=n.Parameter(name=name)),
                        expr=n.Projection(base=n.This() | n.Deref(base=n.This()), expr=obj)):
            return obj if name == param else None
        case _:
            return None


# --- which documents a query can read ----------------------------------------------------

_RELEASE_TYPE = "system.release"
# Functions that read documents other than through ``*``: by id (like ``->``), or by scan.
_READS_BY_ID = frozenset({("documents", "get")})
_SCANS: dict[tuple[str, str], frozenset[str] | None] = {
    ("releases", "all"): frozenset({_RELEASE_TYPE}),
    ("documents", "incomingGlobalDocumentReferenceCount"): None,
}


def scanned_types(
    query: n.Query, params: Mapping[str, Any] | None = None
) -> frozenset[str] | None:
    """The ``_type``s whose documents a query can read by scanning ``*`` (anywhere in
    it: subqueries, projections, custom functions), or None for "any type".

    A ``*`` is pinned when a filter applied directly to it (possibly among others) is a
    conjunction containing ``_type == "x"``, ``_type in ["a", "b"]`` or a disjunction of
    such; ``$params`` count when ``params`` gives their value. Documents reached by
    ``->`` are not scans: see ``derefs``. A query without ``*`` scans nothing.
    """
    types: set[str] = set()
    handled: set[int] = set()
    for node in walk(query.root, into_functions=True):
        found = _scan_of(node, handled, params)
        if found is _NOT_A_SCAN:
            continue
        if found is None:
            return None
        types.update(found)
    return frozenset(types)


_NOT_A_SCAN: Any = object()


def _scan_of(node: n.Node, handled: set[int], params: Mapping[str, Any] | None) -> Any:
    """The types one node scans: a set, None (any type) or ``_NOT_A_SCAN``."""
    if isinstance(node, n.Filter):
        pinned: frozenset[str] | None = None
        current: n.Node = node
        while isinstance(current, n.Filter | n.Group):
            if isinstance(current, n.Filter):
                pins = pinned_types(current.expr, params)
                if pins is not None:
                    pinned = pins if pinned is None else pinned & pins
            current = current.base
        if not isinstance(current, n.Everything) or id(current) in handled:
            return _NOT_A_SCAN
        handled.add(id(current))
        return pinned
    if isinstance(node, n.Everything):
        return _NOT_A_SCAN if id(node) in handled else None
    if isinstance(node, n.FuncCall) and (node.namespace, node.name) in _SCANS:
        return _SCANS[(node.namespace, node.name)]
    return _NOT_A_SCAN


def pinned_types(
    expr: n.Node, params: Mapping[str, Any] | None = None
) -> frozenset[str] | None:
    """The types a filter expression restricts ``_type`` to, or None if it does not."""
    match expr:
        case n.Group(base=base):
            return pinned_types(base, params)
        case n.And(left=left, right=right):
            lp, rp = pinned_types(left, params), pinned_types(right, params)
            if lp is None or rp is None:
                return lp if rp is None else rp
            return lp & rp
        case n.Or(left=left, right=right):
            lp, rp = pinned_types(left, params), pinned_types(right, params)
            return None if lp is None or rp is None else lp | rp
        case n.OpCall(op="==", left=left, right=right):
            if _is_type_attribute(left):
                return _strings(right, params, single=True)
            if _is_type_attribute(right):
                return _strings(left, params, single=True)
            return None
        case n.OpCall(op="in", left=left, right=right) if _is_type_attribute(left):
            return _strings(right, params, single=False)
        case _:
            return None


def _is_type_attribute(node: n.Node) -> bool:
    return isinstance(node, n.AccessAttribute) and node.name == "_type" and (
        node.base is None or isinstance(node.base, n.This))


def _strings(
    node: n.Node, params: Mapping[str, Any] | None, *, single: bool
) -> frozenset[str] | None:
    if isinstance(node, n.Array) and not single:
        values = [constant_value(e.value, params) for e in node.elements if not e.is_splat]
        if len(values) != len(node.elements):
            return None
    else:
        value = constant_value(node, params)
        values = [value] if single else value if isinstance(value, list) else [_NOT_CONSTANT]
    # A non-string constant matches no document type; anything unknown pins nothing.
    if any(v is _NOT_CONSTANT for v in values):
        return None
    return frozenset(v for v in values if isinstance(v, str))


def derefs(query: n.Query) -> bool:
    """Does the query read documents by reference (``->``, ``documents::get``)?"""
    return any(
        isinstance(node, n.Deref)
        or (isinstance(node, n.FuncCall) and (node.namespace, node.name) in _READS_BY_ID)
        for node in walk(query.root, into_functions=True)
    )
