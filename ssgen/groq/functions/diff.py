"""GROQ ``diff::`` functions: changedAny and changedOnly with key-path selectors.

A selector (``title``, ``(a, b)``, ``a.b``, ``a[]``, ``a[cond]``, ``anywhere(cond)``)
is evaluated against the *before* value into key paths; the diff of before and after
is a set of key paths; changedAny asks whether they overlap, changedOnly whether the
diff is covered by the selection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ssgen.errors import GroqEvaluationError
from ssgen.groq import nodes as n
from ssgen.groq.functions.registry import CompileFn, FunctionSpec, register
from ssgen.groq.runtime import Closure, Scope

KeyPath = tuple[Any, ...]
Selector = Callable[[Scope, Any, KeyPath], Iterator[tuple[KeyPath, Any]]]


def compile_selector(compile_node: CompileFn, node: n.Node) -> Selector:
    """Compile a selector node into a function yielding (key path, value) pairs."""
    if isinstance(node, n.Group):
        return compile_selector(compile_node, node.base)
    if isinstance(node, n.Tuple):
        members = [compile_selector(compile_node, m) for m in node.members]
        return _union(members)
    if isinstance(node, n.AccessAttribute):
        return _attribute(compile_node, node)
    if isinstance(node, n.ArrayCoerce):
        return _elements(compile_selector(compile_node, node.base), None)
    if isinstance(node, n.Filter):
        return _elements(compile_selector(compile_node, node.base), compile_node(node.expr))
    if isinstance(node, n.FuncCall) and node.name == "anywhere" and len(node.args) == 1:
        return _anywhere(compile_node(node.args[0]))
    if isinstance(node, n.Map | n.FlatMap | n.Projection):
        return _then(compile_selector(compile_node, node.base),
                     compile_selector(compile_node, node.expr))
    if isinstance(node, n.This):
        return lambda scope, value, path: iter([(path, value)])
    raise GroqEvaluationError(f"unsupported diff selector: {type(node).__name__}")


def _union(members: list[Selector]) -> Selector:
    def run(scope: Scope, value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
        for member in members:
            yield from member(scope, value, path)

    return run


def _attribute(compile_node: CompileFn, node: n.AccessAttribute) -> Selector:
    base = None if node.base is None else compile_selector(compile_node, node.base)
    name = node.name

    def run(scope: Scope, value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
        pairs = [(path, value)] if base is None else base(scope, value, path)
        for p, v in pairs:
            yield (*p, name), v.get(name) if type(v) is dict else None

    return run


def _elements(base: Selector, cond: Closure | None) -> Selector:
    def run(scope: Scope, value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
        for p, v in base(scope, value, path):
            if type(v) is not list:
                continue
            for i, item in enumerate(v):
                if cond is None or cond(scope.nested(item)) is True:
                    yield (*p, i), item

    return run


def _then(base: Selector, inner: Selector) -> Selector:
    def run(scope: Scope, value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
        for p, v in base(scope, value, path):
            yield from inner(scope, v, p)

    return run


def _anywhere(cond: Closure) -> Selector:
    def run(scope: Scope, value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
        stack = [(path, value)]
        while stack:
            p, v = stack.pop()
            if cond(scope.nested(v)) is True:
                yield p, v
            if type(v) is dict:
                stack.extend(((*p, k), item) for k, item in v.items())
            elif type(v) is list:
                stack.extend(((*p, i), item) for i, item in enumerate(v))

    return run


def diff_paths(before: Any, after: Any, path: KeyPath = ()) -> Iterator[KeyPath]:
    """Key paths at which before and after differ."""
    if type(before) is dict and type(after) is dict:
        for key in before.keys() | after.keys():
            yield from diff_paths(before.get(key), after.get(key), (*path, key))
    elif type(before) is list and type(after) is list and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from diff_paths(b, a, (*path, i))
    elif type(before) is not type(after) or before != after:
        yield path


def _overlaps(a: KeyPath, b: KeyPath) -> bool:
    short = min(len(a), len(b))
    return a[:short] == b[:short]


def changed(before: Any, after: Any, selected: list[KeyPath], only: bool) -> bool:
    """changedAny (only=False) / changedOnly (only=True) over selected key paths."""
    diffs = list(diff_paths(before, after))
    if only:
        return all(any(d[: len(s)] == s for s in selected) for d in diffs)
    return any(_overlaps(d, s) for d in diffs for s in selected)


def _make(only: bool) -> Callable[[CompileFn, tuple[n.Node, ...]], Closure]:
    def impl(compile_node: CompileFn, args: tuple[n.Node, ...]) -> Closure:
        lhs, rhs = compile_node(args[0]), compile_node(args[1])
        selector = compile_selector(compile_node, args[2])

        def run(scope: Scope) -> Any:
            before, after = lhs(scope), rhs(scope)
            selected = [p for p, _ in selector(scope, before, ())]
            return changed(before, after, selected, only)

        return run

    return impl


register(FunctionSpec("diff", "changedAny", 3, 3, _make(False), lazy=True))
register(FunctionSpec("diff", "changedOnly", 3, 3, _make(True), lazy=True))
