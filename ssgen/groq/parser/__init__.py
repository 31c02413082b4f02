"""The GROQ parser: query text -> ``Query`` (AST of ``ssgen.groq.nodes``), validated.

A hand-written Pratt parser over the tokens of ``lexer.py`` for the whole grammar of
the spec, with the precedence table of spec section 10. Traversals (``a.b[0]->c{...}``)
are lowered to Map/FlatMap/... nodes exactly as groq-js does (``traversal``);
function calls live in ``calls``. Parse-time validation rejects what the
conformance suite calls invalid: unknown functions and wrong arity, ``boost`` outside
``score()``, ``asc``/``desc`` outside ``order()``, non-constant slice bounds, a misplaced
``select`` fallback, bad custom function declarations, ranges outside ``in`` and slices,
tuples outside selector arguments, shorthand attributes without a key. Every error is a
``GroqSyntaxError`` with an offset.

The package: this module holds the Pratt parser; ``traversal`` and ``calls`` its bases.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

from ssgen.errors import GroqSyntaxError
from ssgen.groq import nodes as n
from ssgen.groq.analysis import (
    ast_depth,
    attribute_name,
    custom_body_error,
)
from ssgen.groq.lexer import MAX_DEPTH, JsonPairs, Token, describe
from ssgen.groq.parser.calls import KEYWORD_VALUES
from ssgen.groq.parser.traversal import MAX_AST_DEPTH, TRAVERSAL_START, TraversalParser

__all__ = ["MAX_AST_DEPTH", "MAX_DEPTH", "parse"]


# Binding powers (spec section 10).
_PREFIX = {"+": 10, "!": 10, "-": 8}
_INFIX = {"**": 9, "*": 7, "/": 7, "%": 7, "+": 6, "-": 6, "==": 4, "!=": 4, "<": 4,
          "<=": 4, ">": 4, ">=": 4, "&&": 3, "||": 2}
_COMPARISON = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "match"})
_LITERAL_KINDS = frozenset({"num", "str"})
_ELEMENT_END = frozenset({",", "]"})



def parse(text: str, params: Mapping[str, Any] | None = None) -> n.Query:
    """Parse and validate a GROQ query; raises ``GroqSyntaxError``.

    ``params`` is only needed for queries whose slice bounds are parameters
    (``[$from..$to]``, as groq-js allows): they are read as constants at parse time.
    Without ``params`` the result is cached by text, so the same ``Query`` (and the
    evaluator's compiled form it carries) is shared by every caller.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() takes a str, not {type(text).__name__}")
    if params is None:
        return _parse_cached(text)
    return _Parser(text, params).parse_query()


@functools.lru_cache(maxsize=512)
def _parse_cached(text: str) -> n.Query:
    return _Parser(text, None).parse_query()


class _Parser(TraversalParser):
    """One parse of one query text."""

    # --- query and declarations ------------------------------------------------------------

    def parse_query(self) -> n.Query:
        while self.at_ident("fn") and self.tokens[self.i + 1].kind == "ident":
            self.parse_declaration()
        root = self.parse_expr(0)
        if self.tok.kind != "eof":
            raise self.error(f"unexpected {describe(self.tok)}, expected end of query")
        if self.may_be_too_tall() and ast_depth(root) > MAX_AST_DEPTH:
            raise GroqSyntaxError(f"query is too deeply nested (its syntax tree is taller "
                                  f"than {MAX_AST_DEPTH})", self.text, 0)
        return n.Query(root=root, text=self.text, functions=tuple(self.functions.values()))

    def may_be_too_tall(self) -> bool:
        """False when the tree is certainly short: every token adds at most 3 levels
        (a traversal step and its Map/This), except JSON literals, which nest."""
        return len(self.tokens) * 3 >= MAX_AST_DEPTH or any(
            token.kind == "json" for token in self.tokens)

    def parse_declaration(self) -> None:
        self.advance()  # "fn"
        ns_tok = self.advance()
        if ns_tok.kind != "ident" or not self.at("::"):
            raise self.error("a custom function needs a namespace: fn ns::name($arg) = ...;",
                             ns_tok)
        self.advance()
        name_tok = self.advance()
        if name_tok.kind != "ident":
            raise self.error("expected a function name after '::'", name_tok)
        key = (str(ns_tok.value), str(name_tok.value))
        if key in self.functions:
            raise self.error(f"function {key[0]}::{key[1]}() is declared twice", name_tok)
        params = self.parse_params()
        self.expect("=", "after the parameters of a function declaration")
        body_tok = self.tok
        self.declaring = key
        body = self.parse_expr(0)
        self.declaring = None
        self.expect(";", "after a function declaration")
        problem = custom_body_error(body, params[0])
        if problem is not None:
            raise self.error(problem, body_tok)
        self.functions[key] = n.CustomFunction(key[0], key[1], params, body)

    def parse_params(self) -> tuple[str, ...]:
        self.expect("(", "after the function name")
        params: list[str] = []
        while self.tok.kind == "param":
            params.append(str(self.advance().value))
            if not self.at(","):
                break
            self.advance()
        close = self.expect(")", "after the function parameters")
        if len(params) != 1:
            raise self.error("a custom function takes exactly one parameter", close)
        return tuple(params)

    # --- expressions ----------------------------------------------------------------------

    def parse_expr(self, min_level: int) -> n.Node:
        self.enter()
        try:
            lhs = self.parse_prefix()
            return self.parse_infix(lhs, 12, min_level)
        finally:
            self.depth -= 1

    def parse_prefix(self) -> n.Node:
        token = self.tok
        if token.kind == "num" or token.kind == "str":
            self.advance()
            return n.Value(token.value)
        if token.kind == "param":
            self.advance()
            return n.Parameter(str(token.value))
        if token.kind == "json":
            self.advance()
            return self.json_node(token.value, token, self.depth)
        if token.kind == "ident":
            return self.parse_identifier()
        if token.kind == "op":
            return self.parse_prefix_op(str(token.value))
        raise self.error("unexpected end of query, expected an expression")

    def parse_prefix_op(self, op: str) -> n.Node:
        token = self.advance()
        if op in _PREFIX:
            operand = self.parse_expr(_PREFIX[op])
            return n.Pos(operand) if op == "+" else n.Not(operand) if op == "!" else n.Neg(operand)
        if op == "*":
            return n.Everything()
        if op == "@":
            return n.This()
        if op == "^":
            return self.parse_parent()
        if op == "(":
            return self.parse_group(token)
        if op == "[":
            return self.parse_array()
        if op == "{":
            return self.parse_object()
        raise self.error(f"unexpected {describe(token)}, expected an expression", token)

    def json_node(self, value: Any, token: Token, depth: int) -> n.Node:
        """The AST of a JSON literal decoded by the lexer: what parsing it gives."""
        if isinstance(value, list):
            if depth >= MAX_DEPTH:
                raise self.error(f"query is nested too deeply (more than {MAX_DEPTH} levels)",
                                 token)
            if isinstance(value, JsonPairs):
                return n.Object(tuple(n.ObjectAttributeValue(k, self.json_node(v, token, depth + 1))
                                      for k, v in value))
            return n.Array(tuple(n.ArrayElement(self.json_node(v, token, depth + 1))
                                 for v in value))
        if isinstance(value, int | float) and not isinstance(value, bool) and (
            value < 0 or (value == 0 and math.copysign(1.0, value) < 0)  # -0.0 too
        ):
            return n.Neg(n.Value(-value))
        return n.Value(value)

    def parse_parent(self) -> n.Node:
        level = 1
        while self.at(".") and self.tokens[self.i + 1].kind == "op" \
                and self.tokens[self.i + 1].value == "^":
            self.i += 2
            level += 1
        return n.Parent(level)

    def parse_identifier(self) -> n.Node:
        token = self.advance()
        name = str(token.value)
        if self.at("::"):
            self.advance()
            fn_tok = self.advance()
            if fn_tok.kind != "ident":
                raise self.error("expected a function name after '::'", fn_tok)
            if not self.at("("):
                raise self.error(f"expected '(' after {name}::{fn_tok.value}")
            return self.parse_call(name, str(fn_tok.value), token)
        if self.at("("):
            return self.parse_call("global", name, token)
        if name in KEYWORD_VALUES:
            return n.Value(KEYWORD_VALUES[name])
        return n.AccessAttribute(None, name)

    def parse_group(self, open_tok: Token) -> n.Node:
        inner = self.parse_expr(0)
        if self.at(","):
            raise self.error("a tuple (a, b) is only allowed as a selector argument")
        if self.at("..") or self.at("..."):
            raise self.error("a range is only allowed after 'in' or in a slice")
        self.expect(")", f"to close the '(' at offset {open_tok.start}")
        return n.Group(inner)

    def parse_array(self) -> n.Node:
        elements: list[n.ArrayElement] = []
        tokens = self.tokens
        while not self.at("]"):
            token, after = tokens[self.i], tokens[self.i + 1]
            if token.kind in _LITERAL_KINDS and after.value in _ELEMENT_END \
                    and after.kind == "op":
                # Shortcut for big JSON literals: a lone number/string element.
                self.i += 1
                elements.append(n.ArrayElement(n.Value(token.value)))
            else:
                is_splat = self.at("...")
                if is_splat:
                    self.advance()
                elements.append(n.ArrayElement(self.parse_expr(0), is_splat))
            if not self.at(","):
                break
            self.advance()
        self.expect("]", "to close the array")
        return n.Array(tuple(elements))

    def parse_object(self) -> n.Object:
        attributes: list[n.ObjectAttribute] = []
        while not self.at("}"):
            attributes.append(self.parse_object_attribute())
            if not self.at(","):
                break
            self.advance()
        self.expect("}", "to close the object")
        return n.Object(tuple(attributes))

    def parse_object_attribute(self) -> n.ObjectAttribute:
        if self.at("..."):
            self.advance()
            if self.at("}") or self.at(","):
                return n.ObjectSplat(n.This())
            return n.ObjectSplat(self.parse_expr(0))
        start = self.tok
        if start.kind == "str" and self.tokens[self.i + 1].kind == "op" \
                and self.tokens[self.i + 1].value == ":":
            self.i += 2
            return n.ObjectAttributeValue(str(start.value), self.parse_expr(0))
        value = self.parse_expr(0)
        if self.at("=>"):
            self.advance()
            return n.ObjectConditionalSplat(value, self.parse_pair_value())
        name = attribute_name(value)
        if name is None:
            raise self.error("cannot tell the key of this object attribute; "
                             'write it as "key": expression', start)
        return n.ObjectAttributeValue(name, value)

    # --- infix operators and traversals ----------------------------------------------------

    def parse_infix(self, lhs: n.Node, lhs_level: int, min_level: int) -> n.Node:
        while True:
            token = self.tok
            op = token.value if token.kind in ("op", "ident") else None
            if lhs_level >= 11 and token.kind == "op" and (
                op in TRAVERSAL_START or (op == "|" and self.peek_is("{"))
            ):
                lhs = self.parse_traversals(lhs)
                continue
            if op == "|" and token.kind == "op":
                if min_level > 11 or lhs_level < 11:
                    return lhs
                lhs = self.parse_pipe(lhs)
                lhs_level = 11
                continue
            if not isinstance(op, str):
                return lhs
            if token.kind == "op" and op in _INFIX:
                level = _INFIX[op]
                if min_level > level or (lhs_level <= level if level in (9, 4) else
                                         lhs_level < level):
                    return lhs
                self.advance()
                right = self.parse_expr(level if op == "**" else level + 1)
                lhs, lhs_level = self.binary(op, lhs, right), level
                continue
            if token.kind == "ident" and op in ("in", "match"):
                if min_level > 4 or lhs_level <= 4:
                    return lhs
                self.advance()
                lhs = self.parse_in(lhs) if op == "in" else n.OpCall(
                    "match", lhs, self.parse_expr(5))
                lhs_level = 4
                continue
            if token.kind == "ident" and op in ("asc", "desc"):
                if min_level > 4 or lhs_level < 4:
                    return lhs
                lhs, lhs_level = self.parse_order_direction(lhs, op), 4
                continue
            return lhs

    def binary(self, op: str, left: n.Node, right: n.Node) -> n.Node:
        if op == "&&":
            return n.And(left, right)
        if op == "||":
            return n.Or(left, right)
        return n.OpCall(op, left, right)  # type: ignore[arg-type]

    def parse_in(self, lhs: n.Node) -> n.Node:
        if self.at("("):
            open_tok = self.advance()
            inner = self.parse_expr(5)
            if self.at("..") or self.at("..."):
                node = self.parse_range(lhs, inner)
                self.expect(")", f"to close the '(' at offset {open_tok.start}")
                return node
            self.expect(")", f"to close the '(' at offset {open_tok.start}")
            right = self.parse_infix(n.Group(inner), 12, 5)
        else:
            right = self.parse_expr(5)
        if self.at("..") or self.at("..."):
            return self.parse_range(lhs, right)
        return n.OpCall("in", lhs, right)

    def parse_range(self, base: n.Node, left: n.Node) -> n.Node:
        inclusive = self.advance().value == ".."
        return n.InRange(base, left, self.parse_expr(5), inclusive)

    def parse_order_direction(self, lhs: n.Node, op: str) -> n.Node:
        token = self.advance()
        if self.depth != self.order_arg_depth or isinstance(lhs, n.Asc | n.Desc):
            raise self.error(f"'{op}' is only allowed in the arguments of order()", token)
        node: n.Node = n.Asc(lhs) if op == "asc" else n.Desc(lhs)
        self.order_marker = (node, token)
        return node
