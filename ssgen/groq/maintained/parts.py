"""A maintained query's shape compiled once: the candidate test, sort keys, item closure
and index plan (``Parts``), shared by the runners of a correlated subquery; and the index
keys a plan's key value stands for (``wanted_keys``; in a query's scope: ``wanted_of``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ssgen.fastclass import dataclass
from ssgen.groq import nodes as n
from ssgen.groq.compile import Compiler
from ssgen.groq.correlated import CorrelatedSubs, object_closure
from ssgen.groq.memo import ProjectionMemo, known_plain, memo_safe
from ssgen.groq.plan import Plan, plan_filter
from ssgen.groq.refindex import reference_ids
from ssgen.groq.runtime import Context, Scope
from ssgen.groq.shapes import Shape
from ssgen.groq.values import hash_key, to_json


@dataclass(frozen=True, slots=True)
class Parts:
    """A shape compiled once (shared by the runners of a correlated subquery)."""

    shape: Shape
    # What a candidate must pass: the condition, or for a references() plan only the
    # other conjuncts (a candidate references a looked-up id: no walk of it again).
    test: Any
    test_doc: Callable[[dict[str, Any]], bool] | None
    keys: list[tuple[Any, bool]]
    item: Any
    plan: Plan | None


def compile_parts(shape: Shape, subs: CorrelatedSubs | None) -> Parts:
    """Compile ``shape``; ``subs``: the runners of its correlated attributes (None for
    a correlated subquery's own shape)."""
    compiler = Compiler()
    plan = plan_filter(compiler, shape.cond)
    if plan is not None and plan.path is None:
        test, test_doc = plan.rest, plan.rest_doc
    else:
        test, test_doc = compiler.compile(shape.cond), None
    return Parts(shape, test, test_doc,
                 [(compiler.compile(key), desc) for key, desc in shape.keys],
                 item_closure(compiler, shape.item, subs), plan)


def wanted_keys(plan: Plan, key: Any) -> frozenset[Any] | None:
    """The index keys a candidate's attribute must have, or the ids one of which it must
    reference, for the plan's key value (None: every document)."""
    if plan.path is None:
        return frozenset(reference_ids(key))
    if not plan.is_in:
        hashed = hash_key(key)
        return None if hashed is None else frozenset({hashed})
    if type(key) is not list:
        return None
    return frozenset(h for value in key if (h := hash_key(value)) is not None)


def wanted_of(plan: Plan | None, ctx: Context, parent: Scope) \
        -> tuple[frozenset[Any] | None, frozenset[str]]:
    """The index keys a candidate's attribute must have, or the ids one of which it must
    reference (None: every document), for the plan's key in ``parent``'s scope; and the
    ids the key read (traced)."""
    if plan is None:
        return None, frozenset()
    saved, reads = ctx.trace, set[str]()
    ctx.trace = reads
    try:
        key = plan.key(Scope(None, parent, ctx))
    finally:
        ctx.trace = saved
    if saved is not None:
        saved.update(reads)
    return wanted_keys(plan, key), frozenset(reads)


def item_closure(compiler: Compiler, node: n.Node | None, subs: CorrelatedSubs | None) -> Any:
    """``(doc, parent scope, ctx) -> item`` the way Map evaluates its expression."""
    if node is None or isinstance(node, n.This):
        return lambda doc, root, ctx: doc
    if isinstance(node, n.Projection) and isinstance(node.base, n.This):
        obj = compiler.compile(node.expr)
        if memo_safe(node.expr):
            memo = ProjectionMemo(obj, node.expr)
            return lambda doc, root, ctx: memo(doc, root, ctx)  # plain already
        kept = object_closure(compiler, node.expr, subs) \
            if subs is not None and isinstance(node.expr, n.Object) else None
        if kept is not None:
            return lambda doc, root, ctx: kept(Scope(doc, root, ctx))
        return lambda doc, root, ctx: to_json(obj(Scope(doc, root, ctx)),
                                              known_plain(ctx.dataset))
    expr = compiler.compile(node)
    return lambda doc, root, ctx: to_json(expr(Scope(doc, root, ctx, True)),
                                          known_plain(ctx.dataset))


__all__ = ["Parts", "compile_parts", "item_closure", "wanted_keys", "wanted_of"]
