"""GROQ global functions (``global::`` or no namespace).

coalesce, count, dateTime, defined, length, now, references, round, select, string, boost,
lower, upper, identity, path, before/after (delta mode), anywhere (diff selectors only);
the ``pt()`` and ``geo()`` constructors live with their extensions (pt.py, geo.py).
"""

from __future__ import annotations

from typing import Any

from ssgen.errors import GroqEvaluationError
from ssgen.groq.functions.registry import CompileFn, FunctionSpec, register
from ssgen.groq.functions.string import lower, upper
from ssgen.groq.nodes import Node
from ssgen.groq.refindex import outgoing, reference_ids
from ssgen.groq.runtime import Closure, Scope
from ssgen.groq.values import DateTime, Path, is_number, js_round, to_string


def coalesce(compile_node: CompileFn, args: tuple[Node, ...]) -> Closure:
    """``coalesce(a, b, ...)``: the first non-null argument (later ones not evaluated)."""
    closures = [compile_node(arg) for arg in args]

    def run(scope: Scope) -> Any:
        for closure in closures:
            value = closure(scope)
            if value is not None:
                return value
        return None

    return run


def count(scope: Scope, value: Any) -> Any:
    """``count(array)``."""
    return len(value) if type(value) is list else None


def date_time(scope: Scope, value: Any) -> Any:
    """``dateTime(string)``: parse an RFC 3339 timestamp (null when it is not one)."""
    if type(value) is DateTime:
        return value
    if type(value) is not str:
        return None
    return DateTime.parse(value)


def defined(scope: Scope, value: Any) -> Any:
    """``defined(x)``: x is not null."""
    return value is not None


def length(scope: Scope, value: Any) -> Any:
    """``length(x)``: code points of a string or elements of an array."""
    t = type(value)
    if t is str or t is list:
        return len(value)
    return None


def now(scope: Scope) -> Any:
    """``now()``: the evaluation's ``now`` as an RFC 3339 string."""
    return str(scope.ctx.now)


def references(scope: Scope, *args: Any) -> Any:
    """``references(id, ...)``: ``@`` contains a reference to one of the ids (filters over
    ``*`` look the ids up in the dataset's reverse-reference index instead: plan.py)."""
    ids = reference_ids(args)
    return bool(ids) and not ids.isdisjoint(outgoing(scope.value))


MAX_ROUND_PRECISION = 100


def round_(scope: Scope, value: Any, precision: Any = 0) -> Any:
    """``round(n, precision=0)``: half away from zero."""
    if not is_number(value):
        return None
    if not is_number(precision) or precision < 0 or not float(precision).is_integer():
        return None
    if precision > MAX_ROUND_PRECISION:
        # groq-js inherits toFixed()'s 0..100 range and fails the query beyond it.
        raise GroqEvaluationError(
            f"round(): precision {int(precision)} is out of range (0 to {MAX_ROUND_PRECISION})")
    return js_round(value, int(precision))


def select(compile_node: CompileFn, args: tuple[Node, ...]) -> Closure:
    """``select(...)`` is parsed into a ``Select`` node; reaching this is a parser bug."""
    raise GroqEvaluationError("select() must be parsed into a Select node")


def string(scope: Scope, value: Any) -> Any:
    """``string(x)``: scalars as strings (numbers JavaScript-style)."""
    return to_string(value)


def boost(scope: Scope, value: Any, amount: Any) -> Any:
    """``boost(predicate, n)`` outside score(): the predicate's value (validated at parse)."""
    if not is_number(amount) or amount < 0:
        return None
    return value


def identity(scope: Scope) -> Any:
    """``identity()``: who runs the query ("me" for a local dataset)."""
    return scope.ctx.identity


def path(scope: Scope, value: Any) -> Any:
    """``path(pattern)``: a path value for ``"a.b" in path("a.*")``."""
    return Path(value) if type(value) is str else None


def before(scope: Scope) -> Any:
    """``before()`` in delta mode: the document before the change."""
    return scope.ctx.before


def after(scope: Scope) -> Any:
    """``after()`` in delta mode: the document after the change."""
    return scope.ctx.after


def anywhere(compile_node: CompileFn, args: tuple[Node, ...]) -> Closure:
    """``anywhere(cond)`` is only meaningful as a diff selector (see diff.py)."""

    def run(scope: Scope) -> Any:
        raise GroqEvaluationError("anywhere() can only be used in a diff:: selector")

    return run


register(FunctionSpec("global", "coalesce", 0, None, coalesce, lazy=True))
register(FunctionSpec("global", "count", 1, 1, count))
register(FunctionSpec("global", "dateTime", 1, 1, date_time))
register(FunctionSpec("global", "defined", 1, 1, defined))
register(FunctionSpec("global", "length", 1, 1, length))
register(FunctionSpec("global", "now", 0, 0, now))
register(FunctionSpec("global", "references", 1, None, references))
register(FunctionSpec("global", "round", 1, 2, round_))
register(FunctionSpec("global", "select", 0, None, select, lazy=True))
register(FunctionSpec("global", "string", 1, 1, string))
register(FunctionSpec("global", "boost", 2, 2, boost))
register(FunctionSpec("global", "lower", 1, 1, lower))
register(FunctionSpec("global", "upper", 1, 1, upper))
register(FunctionSpec("global", "identity", 0, 0, identity))
register(FunctionSpec("global", "path", 1, 1, path))
register(FunctionSpec("global", "before", 0, 0, before))
register(FunctionSpec("global", "after", 0, 0, after))
register(FunctionSpec("global", "anywhere", 1, 1, anywhere, lazy=True))
