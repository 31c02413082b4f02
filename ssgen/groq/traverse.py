"""Closures for ``*``, filters (index-aware over ``*``), Map/FlatMap and ``in``.

A filter over ``*`` is planned at compile time (plan.py): at run time its candidates
come from one of the dataset's indexes and only they are tested, so the per-page lookup
and ``references()`` filters do not scan. Documents that pass are added to the trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ssgen import shells
from ssgen.groq import nodes as n
from ssgen.groq.chunks import listed
from ssgen.groq.memo import ProjectionMemo, memo_safe
from ssgen.groq.plan import Plan, candidates, plan_filter
from ssgen.groq.runtime import ALL_KEYS, WATCH, Closure, NodeCompiler, Scope
from ssgen.groq.values import equal, hash_key


def everything(node: n.Everything) -> Closure:
    """``*``: every document in ``_id`` order (all traced)."""

    def run(scope: Scope) -> Any:
        ctx = scope.ctx
        shells.fill_all()  # every document is handed out
        docs = ctx.dataset.documents
        if ctx.keys is not None:
            ctx.keys.add(ALL_KEYS)
        if ctx.trace is not None:
            ctx.trace.update(d["_id"] for d in docs if type(d.get("_id")) is str)
        return listed(docs)  # one list while the documents are the same

    return run


def filter_closure(compiler: NodeCompiler, node: n.Filter, limit: int | None = None) -> Closure:
    """``base[cond]``; over ``*`` with index planning; ``limit`` stops early."""
    cond = compiler.compile(node.expr)
    if isinstance(node.base, n.Everything):
        plan = plan_filter(compiler, node.expr) if compiler.indexes else None
        return _everything_filter(cond, plan, limit)
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
        test: Closure | None = cond
        if plan is not None:
            docs = shells.filled_all(candidates(plan, scope))
            test = plan.rest
        scanned = docs is None
        if docs is None:
            shells.fill_all()  # a scan reads every document
            docs, test = ctx.dataset.documents, cond
            if ctx.keys is not None:
                ctx.keys.add(ALL_KEYS)
        elif plan is not None and plan.rest_doc is not None:
            rest_doc = plan.rest_doc
            docs, test = [doc for doc in docs if rest_doc(doc)], None
        if test is not None:
            out = _run_filter(docs, test, scope, limit)
            if ctx.keys is not None and not scanned and len(out) < len(docs):
                # A candidate that failed may have read documents (traced): if it
                # stops being a candidate, those reads leave the trace.
                passed = {id(doc) for doc in out}
                ctx.keys.update((WATCH, d["_id"]) for d in docs if id(d) not in passed
                                and type(d.get("_id")) is str)
        else:
            out = list(docs if limit is None else docs[:limit])
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
        obj = compiler.compile(expr_node.expr)
        if memo_safe(expr_node.expr):
            return _map_memoised(base, ProjectionMemo(obj, expr_node.expr))
        return _map_projection(base, obj)
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


def _map_memoised(base: Closure, memo: ProjectionMemo) -> Closure:
    # As _map_projection, each document's value kept across evaluations (memo.py).
    def run(scope: Scope) -> Any:
        value = base(scope)
        if type(value) is not list:
            return None
        parent = scope.parent if scope.hidden else scope
        ctx = scope.ctx
        return [memo(item, parent, ctx) if type(item) is dict else None for item in value]

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
