"""The ``score()`` pipe function and ``boost()``: relevance scores added as ``_score``."""

from __future__ import annotations

from typing import Any

from ssgen.groq import matching
from ssgen.groq import nodes as n
from ssgen.groq.functions.registry import CompileFn, FunctionSpec, register
from ssgen.groq.runtime import Closure, PipeClosure, Scope
from ssgen.groq.values import is_number

ScoreFn = Closure


def compile_score(compile_node: CompileFn, node: n.Node) -> ScoreFn:
    """A closure giving the score contribution of one predicate for one element."""
    if isinstance(node, n.OpCall) and node.op == "match":
        left, right = compile_node(node.left), compile_node(node.right)
        return lambda scope: matching.match_score(left(scope), right(scope))
    if isinstance(node, n.FuncCall) and node.name == "boost" and len(node.args) == 2:
        return _boost(compile_node, node.args[0], node.args[1])
    if isinstance(node, n.Or):
        a, b = compile_score(compile_node, node.left), compile_score(compile_node, node.right)
        return lambda scope: a(scope) + b(scope)
    if isinstance(node, n.And):
        a, b = compile_score(compile_node, node.left), compile_score(compile_node, node.right)

        def both(scope: Scope) -> Any:
            left, right = a(scope), b(scope)
            return left + right if left and right else 0

        return both
    if isinstance(node, n.Group):
        return compile_score(compile_node, node.base)
    closure = compile_node(node)
    return lambda scope: 1 if closure(scope) is True else 0


def _boost(compile_node: CompileFn, pred: n.Node, amount_node: n.Node) -> ScoreFn:
    inner = compile_score(compile_node, pred)
    amount = compile_node(amount_node)

    def run(scope: Scope) -> Any:
        value = inner(scope)
        factor = amount(scope)
        if not value or not is_number(factor):
            return 0
        return value + factor

    return run


def score(compile_node: CompileFn, args: tuple[n.Node, ...]) -> PipeClosure:
    """``base | score(pred, ...)``: objects get ``_score``; sorted by it, descending."""
    scorers = [compile_score(compile_node, arg) for arg in args]

    def run(scope: Scope, base: list[Any]) -> Any:
        scored = []
        others = []
        for item in base:
            if type(item) is not dict:
                others.append(item)
                continue
            inner = scope.nested(item)
            total = item.get("_score")
            # Unscored results start at 0, as the conformance suite and groq-js expect
            # (the spec's prose says 1.0; only relative order differs from it).
            total = total if is_number(total) else 0
            for scorer in scorers:
                total += scorer(inner)
            scored.append({**item, "_score": total})
        scored.sort(key=lambda obj: obj["_score"], reverse=True)
        return scored + others

    return run


register(FunctionSpec("global", "score", 1, None, score, pipe=True))
