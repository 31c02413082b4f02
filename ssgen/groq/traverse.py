"""Closures for ``*``, filters (index-aware over ``*``), Map/FlatMap and ``in``.

A filter over ``*`` is planned at compile time: among the ``&&``-conjuncts of its
condition it looks for ``path == expr`` or ``path in expr`` where ``expr`` does not read
``@`` (it may read ``^`` or params). At run time the candidates come from the dataset's
equality index on ``path`` (``_id``, ``_type``, or a lazily built one such as
``slug.current``), and only they are tested against the full condition, so the per-page
lookup does not scan. Documents that pass are added to the trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ssgen.groq import nodes as n
from ssgen.groq.dataset import AttrPath
from ssgen.groq.runtime import Closure, NodeCompiler, Scope
from ssgen.groq.values import equal, hash_key

Plan = tuple[AttrPath, bool, Closure]  # (attribute path, is "in", key closure)


def everything(node: n.Everything) -> Closure:
    """``*``: every document in ``_id`` order (all traced)."""

    def run(scope: Scope) -> Any:
        ctx = scope.ctx
        docs = ctx.dataset.documents
        if ctx.trace is not None:
            ctx.trace.update(d["_id"] for d in docs if type(d.get("_id")) is str)
        return docs

    return run


def attr_path(node: n.Node) -> AttrPath | None:
    """``a.b.c`` relative to ``@`` as ("a", "b", "c"), or None."""
    names: list[str] = []
    current: n.Node | None = node
    while isinstance(current, n.AccessAttribute):
        names.append(current.name)
        current = current.base
    if names and (current is None or isinstance(current, n.This)):
        return tuple(reversed(names))
    return None


def _conjuncts(node: n.Node) -> list[n.Node]:
    if isinstance(node, n.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    if isinstance(node, n.Group):
        return _conjuncts(node.base)
    return [node]


def _rank(path: AttrPath, is_in: bool) -> int:
    # Prefer the most selective index: _id, then other fields, then _type.
    base = 0 if path == ("_id",) else (2 if path == ("_type",) else 1)
    return base * 2 + (1 if is_in else 0)


def plan_filter(compiler: NodeCompiler, expr: n.Node) -> Plan | None:
    """The best index lookup for a filter over ``*``, or None (scan)."""
    best: tuple[int, Plan] | None = None
    for conjunct in _conjuncts(expr):
        if not isinstance(conjunct, n.OpCall) or conjunct.op not in ("==", "in"):
            continue
        sides = [(conjunct.left, conjunct.right)]
        if conjunct.op == "==":
            sides.append((conjunct.right, conjunct.left))
        for field, key in sides:
            path = attr_path(field)
            if path is None or 0 in compiler.uses.levels(key):
                continue
            rank = _rank(path, conjunct.op == "in")
            if best is None or rank < best[0]:
                best = (rank, (path, conjunct.op == "in", compiler.compile(key)))
    return best[1] if best else None


def _candidates(plan: Plan, scope: Scope) -> Sequence[dict[str, Any]] | None:
    path, is_in, key_closure = plan
    dataset = scope.ctx.dataset
    # The key reads no @: evaluate it in a scope whose parent is the filter's parent.
    key = key_closure(Scope(None, scope.parent if scope.hidden else scope, scope.ctx))
    if not is_in:
        return dataset.lookup(path, key)
    if type(key) is not list:
        return None
    found: dict[int, dict[str, Any]] = {}
    for value in key:
        docs = dataset.lookup(path, value)
        if docs is None:
            continue
        for doc in docs:
            found[id(doc)] = doc
    return dataset.in_order(list(found.values()))


def filter_closure(compiler: NodeCompiler, node: n.Filter, limit: int | None = None) -> Closure:
    """``base[cond]``; over ``*`` with index planning; ``limit`` stops early."""
    cond = compiler.compile(node.expr)
    if isinstance(node.base, n.Everything):
        return _everything_filter(cond, plan_filter(compiler, node.expr), limit)
    base = compiler.compile(node.base)

    def run(scope: Scope) -> Any:
        value = base(scope)
        if type(value) is not list:
            return value
        return _run_filter(value, cond, scope, limit)

    return run


def _run_filter(items: Sequence[Any], cond: Closure, scope: Scope,
                limit: int | None) -> list[Any]:
    parent = scope.parent if scope.hidden else scope
    ctx = scope.ctx
    out = []
    for item in items:
        if cond(Scope(item, parent, ctx)) is True:
            out.append(item)
            if limit is not None and len(out) >= limit:
                break
    return out


def _everything_filter(cond: Closure, plan: Plan | None, limit: int | None) -> Closure:
    def run(scope: Scope) -> Any:
        ctx = scope.ctx
        docs: Sequence[Any] | None = None
        if plan is not None:
            docs = _candidates(plan, scope)
        if docs is None:
            docs = ctx.dataset.documents
        out = _run_filter(docs, cond, scope, limit)
        if ctx.trace is not None:
            ctx.trace.update(d["_id"] for d in out if type(d.get("_id")) is str)
        return out

    return run


def map_closure(compiler: NodeCompiler, base_node: n.Node, expr_node: n.Node,
                flat: bool) -> Closure:
    """Map / FlatMap: evaluate expr per element in a hidden scope."""
    base = compiler.compile(base_node)
    if isinstance(expr_node, n.This) and not flat:
        return lambda scope: v if type(v := base(scope)) is list else None
    if isinstance(expr_node, n.Projection) and isinstance(expr_node.base, n.This) and not flat:
        return _map_projection(base, compiler.compile(expr_node.expr))
    expr = compiler.compile(expr_node)

    def run(scope: Scope) -> Any:
        value = base(scope)
        if type(value) is not list:
            return None
        parent = scope.parent if scope.hidden else scope
        ctx = scope.ctx
        if not flat:
            return [expr(Scope(item, parent, ctx, True)) for item in value]
        out: list[Any] = []
        for item in value:
            result = expr(Scope(item, parent, ctx, True))
            if type(result) is list:
                out.extend(result)
            else:
                out.append(result)
        return out

    return run


def _map_projection(base: Closure, obj: Closure) -> Closure:
    # a[]{...}: the projection's scope hangs off the (hidden) element scope's parent.
    def run(scope: Scope) -> Any:
        value = base(scope)
        if type(value) is not list:
            return None
        parent = scope.parent if scope.hidden else scope
        ctx = scope.ctx
        return [obj(Scope(item, parent, ctx)) if type(item) is dict else None
                for item in value]

    return run


def in_closure(left: Closure, right: Closure) -> Closure:
    """``a in b``; large right-hand arrays get a per-evaluation hash set."""

    def run(scope: Scope) -> Any:
        a = left(scope)
        b = right(scope)
        if type(b) is not list:
            from ssgen.groq.operators import op_in

            return op_in(a, b)
        if len(b) < 8:
            return any(equal(a, item) for item in b)
        key = hash_key(a)
        if key is None:
            return False
        cache = scope.ctx.cache
        entry = cache.get(("in", id(b)))
        if entry is None or entry[0] is not b:
            entry = (b, {k for item in b if (k := hash_key(item)) is not None})
            cache[("in", id(b))] = entry
        return key in entry[1]

    return run
