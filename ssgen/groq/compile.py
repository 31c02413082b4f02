"""The GROQ compiler: AST -> Python closures ``(Scope) -> value``, one builder per node type.

Compiling once and running closures avoids interpreting the tree per document. Two
optimisations live here and in traverse.py: parent-free subexpressions that read the
dataset (``*[_type == "x"]._id`` inside a filter) are evaluated once per evaluation and
cached in the context; filters over ``*`` use the dataset's indexes (traverse.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ssgen import shells
from ssgen.errors import GroqEvaluationError
from ssgen.groq import nodes as n
from ssgen.groq import traverse
from ssgen.groq.functions import lookup, lookup_pipe
from ssgen.groq.leaves import (
    NOT_LITERAL,
    check_arity,
    context_closure,
    literal,
    null_closure,
    parameter_closure,
    parent_closure,
    this_closure,
    tuple_closure,
)
from ssgen.groq.operators import BINARY, in_range, op_neg, op_not, op_pos
from ssgen.groq.runtime import Closure, Scope
from ssgen.groq.scopeuse import ScopeUse
from ssgen.groq.values import slice_bounds


class Compiler:
    """Compiles the nodes of one query; custom function bodies are compiled once.

    ``indexes`` False compiles filters over ``*`` as plain scans (the reference the
    index plans are tested against).
    """

    def __init__(self, *, indexes: bool = True) -> None:
        self.indexes = indexes
        self._bodies: dict[int, Closure] = {}
        self.uses = ScopeUse()
        self._next_key = 0
        self._builders: dict[type, Callable[[Any], Closure]] = {
            n.Value: self._value, n.Everything: traverse.everything, n.This: this_closure,
            n.Parent: parent_closure, n.Parameter: parameter_closure, n.Context: context_closure,
            n.AccessAttribute: self._attribute, n.AccessElement: self._element,
            n.Slice: self._slice, n.Filter: self._filter, n.Projection: self._projection,
            n.Deref: self._deref, n.ArrayCoerce: self._coerce, n.Map: self._map,
            n.FlatMap: self._flat_map, n.Group: self._group, n.Array: self._array,
            n.Object: self._object, n.Tuple: tuple_closure, n.OpCall: self._op,
            n.And: self._and, n.Or: self._or, n.Not: self._unary(op_not),
            n.Neg: self._unary(op_neg), n.Pos: self._unary(op_pos),
            n.InRange: self._in_range, n.Asc: null_closure, n.Desc: null_closure,
            n.Select: self._select,
            n.FuncCall: self._func, n.PipeFuncCall: self._pipe,
            n.CustomFuncCall: self._custom,
        }

    def compile(self, node: n.Node) -> Closure:
        """The closure for a node (cached per evaluation when parent-free and costly)."""
        if isinstance(node, n.Array | n.Object):
            constant = literal(node)
            if constant is not NOT_LITERAL:
                return lambda scope: constant
        builder = self._builders.get(type(node))
        if builder is None:
            raise GroqEvaluationError(f"cannot evaluate a {type(node).__name__} node")
        closure = builder(node)
        if (not isinstance(node, n.Everything | n.Value)
                and not self.uses.levels(node) and self.uses.reads_dataset(node)):
            closure = self._cached(closure)
        return closure

    def _cached(self, inner: Closure) -> Closure:
        key = self._next_key
        self._next_key += 1

        def run(scope: Scope) -> Any:
            cache = scope.ctx.cache
            if key in cache:
                return cache[key]
            value = cache[key] = inner(scope)
            return value

        return run

    # --- leaves and simple traversals -------------------------------------------------

    def _value(self, node: n.Value) -> Closure:
        value = node.value
        return lambda scope: value

    def _attribute(self, node: n.AccessAttribute) -> Closure:
        name = node.name
        if node.base is None or isinstance(node.base, n.This):
            def attr_of_this(scope: Scope) -> Any:
                value = scope.value
                return value.get(name) if type(value) is dict else None

            return attr_of_this
        base = self.compile(node.base)

        def attr(scope: Scope) -> Any:
            value = base(scope)
            return value.get(name) if type(value) is dict else None

        return attr

    def _element(self, node: n.AccessElement) -> Closure:
        if node.index == 0 and isinstance(node.base, n.Filter):
            first = traverse.filter_closure(self, node.base, limit=1)
            return lambda scope: (r[0] if r else None) if type(r := first(scope)) is list \
                else None
        base = self.compile(node.base)
        index = node.index

        def element(scope: Scope) -> Any:
            value = base(scope)
            if type(value) is not list:
                return None
            i = index + len(value) if index < 0 else index
            return value[i] if 0 <= i < len(value) else None

        return element

    def _slice(self, node: n.Slice) -> Closure:
        base = self.compile(node.base)
        left, right, inclusive = node.left, node.right, node.is_inclusive

        def slice_(scope: Scope) -> Any:
            value = base(scope)
            if type(value) is not list:
                return None
            return value[slice_bounds(len(value), left, right, inclusive)]

        return slice_

    def _filter(self, node: n.Filter) -> Closure:
        return traverse.filter_closure(self, node)

    def _projection(self, node: n.Projection) -> Closure:
        base = self.compile(node.base)
        expr = self.compile(node.expr)

        def projection(scope: Scope) -> Any:
            value = base(scope)
            if type(value) is not dict:
                return None
            return expr(Scope(value, scope.parent if scope.hidden else scope, scope.ctx))

        return projection

    def _deref(self, node: n.Deref) -> Closure:
        base = self.compile(node.base)

        def deref(scope: Scope) -> Any:
            value = base(scope)
            if type(value) is not dict:
                return None
            ref = value.get("_ref")
            if type(ref) is not str:
                return None
            ctx = scope.ctx
            if ctx.trace is not None:
                # A missing target is traced too: creating it later changes this result.
                ctx.trace.add(ref)
            return shells.filled(ctx.dataset.by_id.get(ref))

        return deref

    def _coerce(self, node: n.ArrayCoerce) -> Closure:
        base = self.compile(node.base)
        return lambda scope: v if type(v := base(scope)) is list else None

    def _map(self, node: n.Map) -> Closure:
        return traverse.map_closure(self, node.base, node.expr, flat=False)

    def _flat_map(self, node: n.FlatMap) -> Closure:
        return traverse.map_closure(self, node.base, node.expr, flat=True)

    def _group(self, node: n.Group) -> Closure:
        return self.compile(node.base)

    # --- compound values --------------------------------------------------------------

    def _array(self, node: n.Array) -> Closure:
        parts = [(self.compile(e.value), e.is_splat) for e in node.elements]
        if not any(splat for _, splat in parts):
            closures = [c for c, _ in parts]
            return lambda scope: [c(scope) for c in closures]

        def array(scope: Scope) -> Any:
            out: list[Any] = []
            for closure, splat in parts:
                value = closure(scope)
                if not splat:
                    out.append(value)
                elif type(value) is list:
                    out.extend(value)
            return out

        return array

    def _object(self, node: n.Object) -> Closure:
        steps: list[tuple[int, str, Closure, Closure | None]] = []
        for attr in node.attributes:
            if isinstance(attr, n.ObjectAttributeValue):
                steps.append((0, attr.name, self.compile(attr.value), None))
            elif isinstance(attr, n.ObjectSplat):
                steps.append((1, "", self.compile(attr.value), None))
            else:
                steps.append((2, "", self.compile(attr.value), self.compile(attr.condition)))
        if all(kind == 0 for kind, _, _, _ in steps):
            pairs = [(name, c) for _, name, c, _ in steps]
            return lambda scope: {name: c(scope) for name, c in pairs}

        def obj(scope: Scope) -> Any:
            out: dict[str, Any] = {}
            for kind, name, closure, cond in steps:
                if kind == 0:
                    out[name] = closure(scope)
                    continue
                if cond is not None and cond(scope) is not True:
                    continue
                value = closure(scope)
                if type(value) is dict:
                    out.update(value)
            return out

        return obj

    # --- operators --------------------------------------------------------------------

    def _op(self, node: n.OpCall) -> Closure:
        fn = BINARY[node.op]
        left, right = self.compile(node.left), self.compile(node.right)
        if node.op == "in":
            return traverse.in_closure(left, right)
        return lambda scope: fn(left(scope), right(scope))

    def _and(self, node: n.And) -> Closure:
        left, right = self.compile(node.left), self.compile(node.right)

        def and_(scope: Scope) -> Any:
            a = left(scope)
            if a is False:
                return False
            b = right(scope)
            if b is False:
                return False
            return True if a is True and b is True else None

        return and_

    def _or(self, node: n.Or) -> Closure:
        left, right = self.compile(node.left), self.compile(node.right)

        def or_(scope: Scope) -> Any:
            a = left(scope)
            if a is True:
                return True
            b = right(scope)
            if b is True:
                return True
            return False if a is False and b is False else None

        return or_

    def _unary(self, fn: Callable[[Any], Any]) -> Callable[[Any], Closure]:
        def build(node: n.Not | n.Neg | n.Pos) -> Closure:
            base = self.compile(node.base)
            return lambda scope: fn(base(scope))

        return build

    def _in_range(self, node: n.InRange) -> Closure:
        base, low, high = (self.compile(x) for x in (node.base, node.left, node.right))
        inclusive = node.is_inclusive
        return lambda scope: in_range(base(scope), low(scope), high(scope), inclusive)

    def _select(self, node: n.Select) -> Closure:
        alternatives = [(self.compile(a.condition), self.compile(a.value))
                        for a in node.alternatives]
        fallback = self.compile(node.fallback) if node.fallback is not None else None

        def select(scope: Scope) -> Any:
            for cond, value in alternatives:
                if cond(scope) is True:
                    return value(scope)
            return fallback(scope) if fallback is not None else None

        return select

    # --- calls ------------------------------------------------------------------------

    def _func(self, node: n.FuncCall) -> Closure:
        spec = lookup(node.namespace, node.name)
        if spec is None:
            raise GroqEvaluationError(f"unknown function {node.namespace}::{node.name}()")
        check_arity(f"{node.namespace}::{node.name}()", spec, len(node.args))
        if spec.lazy:
            closure: Closure = spec.impl(self.compile, node.args)
            return closure
        impl = spec.impl
        args = [self.compile(arg) for arg in node.args]
        if not args:
            return lambda scope: impl(scope)
        if len(args) == 1:
            a = args[0]
            return lambda scope: impl(scope, a(scope))
        if len(args) == 2:
            a, b = args
            return lambda scope: impl(scope, a(scope), b(scope))
        return lambda scope: impl(scope, *[arg(scope) for arg in args])

    def _pipe(self, node: n.PipeFuncCall) -> Closure:
        spec = lookup_pipe(node.name)
        if spec is None:
            raise GroqEvaluationError(f"unknown pipe function {node.name}()")
        check_arity(f"{node.name}()", spec, len(node.args))
        base = self.compile(node.base)
        fn = spec.impl(self.compile, node.args)

        def pipe(scope: Scope) -> Any:
            value = base(scope)
            if type(value) is not list:
                return None
            return fn(scope, value)

        return pipe

    def _custom(self, node: n.CustomFuncCall) -> Closure:
        fn = node.function
        names = fn.params
        args = [self.compile(arg) for arg in node.args]
        body = self._body(fn)

        def call(scope: Scope) -> Any:
            bound = {name: arg(scope) for name, arg in zip(names, args, strict=False)}
            ctx = scope.ctx.with_params(bound)
            return body(Scope(scope.value, None, ctx))

        return call

    def _body(self, fn: n.CustomFunction) -> Closure:
        key = id(fn)
        if key not in self._bodies:
            holder: list[Closure] = []
            # Registered before compiling so a recursive call finds it.
            self._bodies[key] = lambda scope: holder[0](scope)
            holder.append(self.compile(fn.body))
        return self._bodies[key]
