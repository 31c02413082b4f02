"""The ``order()`` pipe function: stable multi-key sort by the spec's TotalCompare."""

from __future__ import annotations

from typing import Any

from ssgen.groq import nodes as n
from ssgen.groq.functions.registry import CompileFn, FunctionSpec, register
from ssgen.groq.runtime import Closure, PipeClosure, Scope
from ssgen.groq.values import sort_key


def order(compile_node: CompileFn, args: tuple[n.Node, ...]) -> PipeClosure:
    """``base | order(k1 [asc|desc], k2, ...)``."""
    keys: list[tuple[Closure, bool]] = []
    for arg in args:
        if isinstance(arg, n.Desc):
            keys.append((compile_node(arg.base), True))
        elif isinstance(arg, n.Asc):
            keys.append((compile_node(arg.base), False))
        else:
            keys.append((compile_node(arg), False))

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


register(FunctionSpec("global", "order", 1, None, order, pipe=True))
