"""Index plans for filters over ``*``: which index gives the candidates, and what is left
to test on them.

Among the ``&&``-conjuncts of a filter's condition the planner looks for
``path == expr`` or ``path in expr`` (the dataset's equality index on ``path``: ``_id``,
``_type``, or a lazily built one such as ``slug.current``), and for
``references(expr, ...)`` (the reverse-reference index), where no ``expr`` reads ``@``
(they may read ``^`` or params, so a correlated subquery is one lookup per outer
document). Equality candidates are tested against the whole condition; reference
candidates are exactly the documents for which the call is true, so only the other
conjuncts are tested (``a && b`` is true exactly when both are). The candidates come in
``_id`` order, as a scan would find them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ssgen.fastclass import dataclass
from ssgen.groq import nodes as n
from ssgen.groq.dataset import AttrPath, Dataset, get_path
from ssgen.groq.refindex import reference_ids
from ssgen.groq.runtime import Closure, NodeCompiler, Scope
from ssgen.groq.values import hash_key


@dataclass(frozen=True, slots=True)
class Plan:
    """An index lookup for a filter over ``*``.

    ``path`` None is a ``references()`` lookup: ``key`` gives the list of its arguments.
    ``rest`` is the condition candidates must pass (None: every candidate passes);
    ``rest_doc`` the same as a test of the document alone when it is made of
    ``path == literal`` comparisons (no scope to build per candidate).
    """

    path: AttrPath | None
    is_in: bool
    key: Closure
    rest: Closure | None
    rest_doc: Callable[[dict[str, Any]], bool] | None = None


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


def conjuncts(node: n.Node) -> list[n.Node]:
    """The operands of a chain of ``&&`` (through parentheses), left to right."""
    if isinstance(node, n.And):
        return conjuncts(node.left) + conjuncts(node.right)
    if isinstance(node, n.Group):
        return conjuncts(node.base)
    return [node]


# Lower is more selective: _id, then other fields, references(), then _type.
_REFERENCES_RANK = 3


def _rank(path: AttrPath, is_in: bool) -> int:
    base = 0 if path == ("_id",) else (2 if path == ("_type",) else 1)
    return base * 2 + (1 if is_in else 0)


def is_references(node: n.Node) -> bool:
    """Whether node is a call of the global ``references()``."""
    return isinstance(node, n.FuncCall) and node.namespace == "global" \
        and node.name == "references"


def plan_filter(compiler: NodeCompiler, expr: n.Node) -> Plan | None:
    """The best index lookup for a filter over ``*`` with condition ``expr``, or None."""
    best: tuple[int, int, n.Node, AttrPath | None, bool] | None = None
    parts = conjuncts(expr)
    for at, part in enumerate(parts):
        for rank, key, path, is_in in _lookups(compiler, part):
            if best is None or rank < best[0]:
                best = (rank, at, key, path, is_in)
    if best is None:
        return None
    _, at, key, path, is_in = best
    if path is not None:
        return Plan(path, is_in, compiler.compile(key), compiler.compile(expr))
    others = parts[:at] + parts[at + 1:]
    rest = compiler.compile(_and(others)) if others else None
    return Plan(None, True, compiler.compile(key), rest, document_test(others))


def _lookups(compiler: NodeCompiler, part: n.Node) \
        -> list[tuple[int, n.Node, AttrPath | None, bool]]:
    """(rank, key node, path, is "in") of each lookup a conjunct allows."""
    if is_references(part):
        assert isinstance(part, n.FuncCall)
        if not part.args or any(0 in compiler.uses.levels(a) for a in part.args):
            return []
        key: n.Node = n.Array(tuple(n.ArrayElement(arg) for arg in part.args))
        return [(_REFERENCES_RANK, key, None, True)]
    if not isinstance(part, n.OpCall) or part.op not in ("==", "in"):
        return []
    sides = [(part.left, part.right)]
    if part.op == "==":
        sides.append((part.right, part.left))
    found: list[tuple[int, n.Node, AttrPath | None, bool]] = []
    for field, key in sides:
        path = attr_path(field)
        if path is not None and 0 not in compiler.uses.levels(key):
            found.append((_rank(path, part.op == "in"), key, path, part.op == "in"))
    return found


def document_test(parts: list[n.Node]) -> Callable[[dict[str, Any]], bool] | None:
    """``(doc) -> bool``, true when every part is: each a ``path == literal``; else None."""
    checks = [_equality_test(part) for part in parts]
    if not checks or any(check is None for check in checks):
        return None
    tests = [check for check in checks if check is not None]
    if len(tests) == 1:
        return tests[0]
    return lambda doc: all(test(doc) for test in tests)


def _equality_test(part: n.Node) -> Callable[[dict[str, Any]], bool] | None:
    if not (isinstance(part, n.OpCall) and part.op == "=="):
        return None
    for field, other in ((part.left, part.right), (part.right, part.left)):
        path = attr_path(field)
        if path is None or not isinstance(other, n.Value):
            continue
        value = other.value
        if type(value) is str and len(path) == 1:
            # Only a string equals a string, in GROQ as in Python.
            name = path[0]
            return lambda doc: doc.get(name) == value
        hashed = hash_key(value)
        if hashed is None:
            return None
        return lambda doc: hash_key(get_path(doc, path)) == hashed
    return None


def _and(parts: list[n.Node]) -> n.Node:
    node = parts[0]
    for part in parts[1:]:
        node = n.And(node, part)
    return node


def candidates(plan: Plan, scope: Scope) -> Sequence[dict[str, Any]] | None:
    """The documents a plan looks up for a filter evaluated in ``scope`` (None: scan).
    The keys looked up go to ``ctx.keys`` when it is a set: ``(path, hash_key(value))``,
    or ``(None, id)`` for references."""
    ctx = scope.ctx
    dataset = ctx.dataset
    # The key reads no @: evaluate it in a scope whose parent is the filter's parent.
    key = plan.key(Scope(None, scope.parent if scope.hidden else scope, ctx))
    path = plan.path
    if path is None:
        ids = reference_ids(key)
        if ctx.keys is not None:
            ctx.keys.update((None, ref) for ref in ids)
        if len(ids) == 1:
            return dataset.referrers(ids.pop())
        return _union(dataset, (dataset.referrers(ref) for ref in ids))
    values = key if plan.is_in else [key]
    if type(values) is not list:
        return None
    hashed = [hash_key(value) for value in values]
    if not plan.is_in and hashed[0] is None:
        return None  # an array or object: scan
    if ctx.keys is not None:
        ctx.keys.update((path, h) for h in hashed if h is not None)
    if not plan.is_in:
        return dataset.lookup(path, key)
    return _union(dataset, (dataset.lookup(path, value) or () for value in values))


def _union(dataset: Dataset, buckets: Any) -> list[dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for docs in buckets:
        for doc in docs:
            found[id(doc)] = doc
    return dataset.in_order(list(found.values()))
