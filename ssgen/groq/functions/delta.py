"""GROQ ``delta::`` functions (delta mode): changedAny, changedOnly, operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ssgen.groq import nodes as n
from ssgen.groq.functions.diff import changed, compile_selector
from ssgen.groq.functions.registry import CompileFn, FunctionSpec, register
from ssgen.groq.runtime import Closure, Scope


def operation(scope: Scope) -> Any:
    """``delta::operation()``: "create", "update", "delete" (null outside delta mode)."""
    before, after = scope.ctx.before, scope.ctx.after
    if before is not None and after is not None:
        return "update"
    if after is not None:
        return "create"
    if before is not None:
        return "delete"
    return None


def _make(only: bool) -> Callable[[CompileFn, tuple[n.Node, ...]], Closure]:
    def impl(compile_node: CompileFn, args: tuple[n.Node, ...]) -> Closure:
        selector = compile_selector(compile_node, args[0])

        def run(scope: Scope) -> Any:
            before, after = scope.ctx.before, scope.ctx.after
            selected = [p for p, _ in selector(scope, before, ())]
            return changed(before, after, selected, only)

        return run

    return impl


register(FunctionSpec("delta", "operation", 0, 0, operation))
register(FunctionSpec("delta", "changedAny", 1, 1, _make(False), lazy=True))
register(FunctionSpec("delta", "changedOnly", 1, 1, _make(True), lazy=True))
