"""The ``order()`` pipe function: stable multi-key sort by the spec's TotalCompare.

When every key is an attribute path of the item (``order(publishedAt desc)``), each
document's sort keys are kept by ``_id`` with the very document they came from (a local
dataset replaces a changed document, never mutates it): an author's 20,000 posts are
sorted again after one edit without evaluating 19,999 keys again.
"""

from __future__ import annotations

from typing import Any

from ssgen.groq import nodes as n
from ssgen.groq.functions.registry import CompileFn, FunctionSpec, register
from ssgen.groq.runtime import Closure, PipeClosure, Scope
from ssgen.groq.values import sort_key


def order(compile_node: CompileFn, args: tuple[n.Node, ...]) -> PipeClosure:
    """``base | order(k1 [asc|desc], k2, ...)``."""
    keys: list[tuple[Closure, bool]] = []
    nodes: list[n.Node] = []
    for arg in args:
        node = arg.base if isinstance(arg, n.Desc | n.Asc) else arg
        keys.append((compile_node(node), isinstance(arg, n.Desc)))
        nodes.append(node)
    if all(_attribute_of_this(node) for node in nodes):
        return _kept_keys(keys)

    def run(scope: Scope, base: list[Any]) -> Any:
        parent = scope.parent if scope.hidden else scope
        ctx = scope.ctx
        scopes = [Scope(item, parent, ctx) for item in base]
        order = list(range(len(base)))
        # Python's sort is stable: sorting by the least significant key first gives the
        # multi-key order, ties keeping input order.
        for closure, descending in reversed(keys):
            column = [sort_key(closure(s)) for s in scopes]
            order.sort(key=column.__getitem__, reverse=descending)
        return [base[i] for i in order]

    return run


def _kept_keys(keys: list[tuple[Closure, bool]]) -> PipeClosure:
    kept: dict[str, tuple[Any, tuple[Any, ...]]] = {}  # _id -> (document, its sort keys)

    def keys_of(item: Any, parent: Scope | None, ctx: Any) -> tuple[Any, ...]:
        doc_id = item.get("_id") if type(item) is dict else None
        found = kept.get(doc_id) if type(doc_id) is str else None
        if found is not None and found[0] is item:
            return found[1]
        scope = Scope(item, parent, ctx)
        values = tuple(sort_key(closure(scope)) for closure, _ in keys)
        if type(doc_id) is str:
            kept[doc_id] = (item, values)
        return values

    def run(scope: Scope, base: list[Any]) -> Any:
        parent = scope.parent if scope.hidden else scope
        rows = [keys_of(item, parent, scope.ctx) for item in base]
        order = list(range(len(base)))
        for index in reversed(range(len(keys))):
            column = [row[index] for row in rows]
            order.sort(key=column.__getitem__, reverse=keys[index][1])
        return [base[i] for i in order]

    return run


def _attribute_of_this(node: n.Node) -> bool:
    """``a.b.c`` of ``@``: a value of the item alone (no ``^``, params, derefs)."""
    while isinstance(node, n.AccessAttribute):
        if node.base is None or isinstance(node.base, n.This):
            return True
        node = node.base
    return False


register(FunctionSpec("global", "order", 1, None, order, pipe=True))
