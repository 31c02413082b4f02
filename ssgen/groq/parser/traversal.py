"""Parsing of traversals (``a.b``, ``[...]``, ``[]``, ``{...}``, ``->``) and their
lowering to Map/FlatMap/AccessAttribute/... nodes exactly as groq-js does (spec section
8, groq-js traversal.ts): a chain of steps is folded right to left, each step knowing
whether it maps arrays ("a") or single values ("b") on each side.

Owns the square bracket disambiguation (constant number: element, constant string:
attribute, otherwise filter), constant integer slice bounds, and the bound on chain
length. ``TraversalParser`` is a base of the parser in ``ssgen.groq.parser``.
"""

from __future__ import annotations

from collections.abc import Callable

from ssgen.groq import nodes as n
from ssgen.groq.analysis import NOT_CONSTANT, constant_value
from ssgen.groq.lexer import Token, describe
from ssgen.groq.parser.calls import CallParser

MAX_AST_DEPTH = 200
"""Tallest AST accepted (long operator or traversal chains make tall trees without
nesting); keeps every recursive walk of the tree, here or in the evaluator, safe."""
TRAVERSAL_START = frozenset({".", "[", "{", "->"})

Build = Callable[[n.Node], n.Node]
Traversal = tuple[str, Build]  # (shape "a-a" | "a-b" | "b-a" | "b-b", builder) as groq-js
Step = Callable[[Traversal | None], Traversal]


class TraversalParser(CallParser):
    """Traversal parsing on top of call parsing; ``parse_object`` comes from the subclass."""

    def parse_object(self) -> n.Object:
        """An object literal / projection body starting at '{'."""
        raise NotImplementedError

    def parse_traversals(self, base: n.Node) -> n.Node:
        steps: list[Step] = []
        while self.tok.kind == "op" and (self.tok.value in TRAVERSAL_START or (
                self.tok.value == "|" and self.peek_is("{"))):
            steps.append(self.parse_traversal())
            if len(steps) > MAX_AST_DEPTH:
                raise self.error(f"traversal chain longer than {MAX_AST_DEPTH} steps")
        traversal: Traversal | None = None
        for step in reversed(steps):
            traversal = step(traversal)
        if isinstance(base, n.Everything | n.Array | n.PipeFuncCall):
            traversal = _traverse_array(lambda node: node, traversal)
        assert traversal is not None
        return traversal[1](base)

    def parse_traversal(self) -> Step:
        token = self.advance()
        op = token.value
        if op == ".":
            name_tok = self.advance()
            if name_tok.kind != "ident":
                raise self.error(f"expected an attribute name after '.', got "
                                 f"{describe(name_tok)}", name_tok)
            name = str(name_tok.value)
            return lambda right: _traverse_plain(lambda b: n.AccessAttribute(b, name), right)
        if op == "->":
            return self.parse_deref()
        if op == "|":
            self.advance()
        if op in ("{", "|"):
            obj = self.parse_object()
            return lambda right: _traverse_projection(lambda b: n.Projection(b, obj), right)
        return self.parse_bracket()

    def parse_deref(self) -> Step:
        if self.tok.kind == "ident" and not self.peek_is("(") and not self.peek_is("::"):
            attr = str(self.advance().value)
            return lambda right: _traverse_plain(
                lambda b: n.AccessAttribute(n.Deref(b), attr), right)
        return lambda right: _traverse_plain(n.Deref, right)

    def parse_bracket(self) -> Step:
        if self.at("]"):
            self.advance()
            return lambda right: _traverse_array(n.ArrayCoerce, right)
        expr_tok = self.tok
        expr = self.parse_expr(0)
        if self.at("..") or self.at("..."):
            inclusive = self.advance().value == ".."
            right_tok = self.tok
            right_expr = self.parse_expr(0)
            self.expect("]", "to close the slice")
            left = self.slice_bound(expr, expr_tok)
            right_bound = self.slice_bound(right_expr, right_tok)
            return lambda rhs: _traverse_array(
                lambda b: n.Slice(b, left, right_bound, inclusive), rhs)
        self.expect("]", "to close '['")
        value = constant_value(expr, self.params)
        if isinstance(value, int | float) and not isinstance(value, bool):
            index = self.integer(value, expr_tok, "an array index")
            return lambda right: _traverse_element(lambda b: n.AccessElement(b, index), right)
        if isinstance(value, str):
            return lambda right: _traverse_plain(lambda b: n.AccessAttribute(b, value), right)
        return lambda right: _traverse_array(lambda b: n.Filter(b, expr), right)

    def slice_bound(self, expr: n.Node, token: Token) -> int:
        value = constant_value(expr, self.params)
        if value is NOT_CONSTANT or isinstance(value, bool) or not isinstance(value, int | float):
            hint = ""
            if token.kind == "param" and (self.params is None or token.value not in self.params):
                hint = f" (${token.value} is a parameter: pass its value as parse(text, params))"
            raise self.error(f"slice bounds must be constant integers{hint}", token)
        return self.integer(value, token, "a slice bound")

    def integer(self, value: float, token: Token, what: str) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise self.error(f"{what} must be an integer, got {value}", token)
        return int(value)


# --- traversal lowering (groq-js traversal.ts semantics) -------------------------------------


def _join(a: Build, b: Build) -> Build:
    return lambda base: b(a(base))


def _map(inner: Build) -> Build:
    return lambda base: n.Map(base, inner(n.This()))


def _flat_map(inner: Build) -> Build:
    return lambda base: n.FlatMap(base, inner(n.This()))


def _traverse_array(build: Build, right: Traversal | None) -> Traversal:
    if right is None:
        return ("a-a", build)
    shape, rb = right
    if shape in ("a-a", "a-b"):
        return (shape, _join(build, rb))
    if shape == "b-b":
        return ("a-a", _join(build, _map(rb)))
    return ("a-a", _join(build, _flat_map(rb)))


def _traverse_plain(build: Build, right: Traversal | None) -> Traversal:
    if right is None:
        return ("b-b", build)
    shape, rb = right
    return ("b-a" if shape in ("a-a", "b-a") else "b-b", _join(build, rb))


def _traverse_element(build: Build, right: Traversal | None) -> Traversal:
    if right is None:
        return ("a-b", build)
    shape, rb = right
    return ("a-a" if shape in ("a-a", "b-a") else "a-b", _join(build, rb))


def _traverse_projection(build: Build, right: Traversal | None) -> Traversal:
    if right is None:
        return ("b-b", build)
    shape, rb = right
    if shape in ("a-a", "a-b"):
        return (shape, _join(_map(build), rb))
    return (shape, _join(build, rb))
