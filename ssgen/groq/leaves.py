"""Closures for the leaf nodes of GROQ (``@``, ``^``, ``$param``, before/after, literals)
and the compile-time checks shared by the compiler (compile.py)."""

from __future__ import annotations

from typing import Any

from ssgen.errors import GroqEvaluationError
from ssgen.groq import nodes as n
from ssgen.groq.functions.registry import FunctionSpec
from ssgen.groq.runtime import Closure, Scope


def check_arity(name: str, spec: FunctionSpec, count: int) -> None:
    """Raise when a call has the wrong number of arguments."""
    # The parser checks arity too; this guards hand-built ASTs.
    if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
        raise GroqEvaluationError(f"{name} does not take {count} arguments")


NOT_LITERAL = object()


def literal(node: n.Node) -> Any:
    """The value of an array/object made only of literals (JSON in a query), or
    NOT_LITERAL. Results are never mutated in place, so the value can be shared."""
    if isinstance(node, n.Value):
        return node.value
    if isinstance(node, n.Array):
        items = []
        for element in node.elements:
            value = literal(element.value)
            if value is NOT_LITERAL or element.is_splat:
                return NOT_LITERAL
            items.append(value)
        return items
    if isinstance(node, n.Object):
        out = {}
        for attr in node.attributes:
            if not isinstance(attr, n.ObjectAttributeValue):
                return NOT_LITERAL
            value = literal(attr.value)
            if value is NOT_LITERAL:
                return NOT_LITERAL
            out[attr.name] = value
        return out
    return NOT_LITERAL


def this_closure(node: n.This) -> Closure:
    return lambda scope: scope.value


def parent_closure(node: n.Parent) -> Closure:
    levels = node.n

    def parent(scope: Scope) -> Any:
        current: Scope | None = scope
        for _ in range(levels):
            current = current.parent if current is not None else None
        return current.value if current is not None else None

    return parent


def parameter_closure(node: n.Parameter) -> Closure:
    name = node.name

    def parameter(scope: Scope) -> Any:
        params = scope.ctx.params
        if name not in params:
            raise GroqEvaluationError(f"missing query parameter ${name}")
        return params[name]

    return parameter


def context_closure(node: n.Context) -> Closure:
    if node.key == "before":
        return lambda scope: scope.ctx.before
    return lambda scope: scope.ctx.after


def tuple_closure(node: n.Tuple) -> Closure:
    def tuple_(scope: Scope) -> Any:
        raise GroqEvaluationError("a tuple can only be a function argument")

    return tuple_


def null_closure(node: n.Node) -> Closure:
    return lambda scope: None
