"""Parsing of calls: functions ``ns::f(...)``, pipe functions ``| order(...)``,
``select(...)``, custom function calls and the selector arguments of ``diff::``/``delta::``.

Owns the call-site validation: unknown functions and wrong arity (against
``ssgen.groq.functions``), ``boost()`` only inside ``score()``, ``asc``/``desc`` only as
the last word of an ``order()`` argument, the ``select()`` fallback last, ``score()``
only on arrays of documents. ``CallParser`` is the base of the parser in ``ssgen.groq.parser``.

Selectors are encoded with expression nodes: ``a`` AccessAttribute(None, a), ``s.a``
AccessAttribute(s, a), ``s[]`` ArrayCoerce, ``s[cond]`` Filter, ``(s1, s2)`` Tuple,
``anywhere(cond)`` FuncCall("global", "anywhere"), and ``s.(nested)`` Map(s, nested).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ssgen.groq import nodes as n
from ssgen.groq.analysis import constant_value
from ssgen.groq.functions import lookup, lookup_pipe
from ssgen.groq.lexer import Token, TokenStream

KEYWORD_VALUES = {"true": True, "false": False, "null": None}
# Functions whose argument at this index is a selector, not an expression.
SELECTOR_ARGS = {("diff", "changedAny"): 2, ("diff", "changedOnly"): 2,
                 ("delta", "changedAny"): 0, ("delta", "changedOnly"): 0}


class CallParser(TokenStream):
    """Call parsing on top of the token stream; ``parse_expr`` comes from the subclass."""

    def __init__(self, text: str, params: Mapping[str, Any] | None) -> None:
        super().__init__(text)
        self.params = params
        self.score_depth = 0
        self.functions: dict[tuple[str, str], n.CustomFunction] = {}
        self.declaring: tuple[str, str] | None = None
        self.order_arg_depth = -1
        self.order_marker: tuple[n.Node, Token] | None = None

    def parse_expr(self, min_level: int) -> n.Node:
        """An expression binding at least as tightly as ``min_level``."""
        raise NotImplementedError

    def parse_pair_value(self) -> n.Node:
        """The value after ``=>`` (another ``=>`` after it is an error)."""
        value = self.parse_expr(0)
        if self.at("=>"):
            raise self.error("unexpected '=>'")
        return value

    def parse_identifier(self) -> n.Node:
        """An identifier: attribute, keyword literal or function call."""
        raise NotImplementedError

    def parse_pipe(self, base: n.Node) -> n.Node:
        self.advance()
        name_tok = self.advance()
        if name_tok.kind != "ident":
            raise self.error("expected a pipe function after '|'", name_tok)
        name = str(name_tok.value)
        if self.at("::"):
            if name != "global":
                raise self.error(f"unknown namespace for a pipe function: {name}", name_tok)
            self.advance()
            name_tok = self.advance()
            name = str(name_tok.value)
        if not self.at("("):
            raise self.error(f"expected '(' after the pipe function {name}")
        self.advance()
        args = self.parse_pipe_args(name)
        spec = lookup_pipe(name)
        if spec is None:
            raise self.error(f"unknown pipe function {name}()", name_tok)
        self.check_arity(f"{name}()", spec.min_args, spec.max_args, len(args), name_tok)
        if name == "score" and _not_documents(base):
            raise self.error("score() must be applied to an array of documents", name_tok)
        return n.PipeFuncCall(base, name, args)

    def parse_pipe_args(self, name: str) -> tuple[n.Node, ...]:
        saved = (self.order_arg_depth, self.order_marker)
        self.score_depth += name == "score"
        try:
            args: list[n.Node] = []
            while not self.at(")"):
                self.order_arg_depth = self.depth + 1 if name == "order" else -1
                self.order_marker = None
                arg = self.parse_expr(0)
                if self.order_marker is not None and self.order_marker[0] is not arg:
                    raise self.error("asc/desc must come last in an order() argument",
                                     self.order_marker[1])
                args.append(arg)
                if not self.at(","):
                    break
                self.advance()
            self.expect(")", f"to close the arguments of {name}()")
            return tuple(args)
        finally:
            self.score_depth -= name == "score"
            self.order_arg_depth, self.order_marker = saved

    def parse_call(self, namespace: str, name: str, token: Token) -> n.Node:
        self.advance()  # "("
        if namespace == "global" and name == "select":
            return self.parse_select()
        custom = self.functions.get((namespace, name))
        if (namespace, name) == self.declaring:
            raise self.error(f"custom function {namespace}::{name}() cannot call itself", token)
        args = self.parse_call_args(namespace, name)
        if custom is not None:
            self.check_arity(f"{namespace}::{name}()", len(custom.params), len(custom.params),
                             len(args), token)
            return n.CustomFuncCall(custom, args)
        if namespace == "global" and name in ("before", "after"):
            self.check_arity(f"{name}()", 0, 0, len(args), token)
            return n.Context(name)  # type: ignore[arg-type]
        spec = lookup(namespace, name)
        if spec is None:
            raise self.error(f"unknown function {namespace}::{name}()", token)
        self.check_arity(f"{namespace}::{name}()", spec.min_args, spec.max_args, len(args), token)
        if namespace == "global" and name == "boost" and self.score_depth == 0:
            raise self.error("boost() is only allowed in the arguments of score()", token)
        return n.FuncCall(namespace, name, args)

    def parse_call_args(self, namespace: str, name: str) -> tuple[n.Node, ...]:
        saved = self.order_arg_depth
        self.order_arg_depth = -1
        selector_at = SELECTOR_ARGS.get((namespace, name))
        args: list[n.Node] = []
        while not self.at(")"):
            if len(args) == selector_at:
                args.append(self.parse_selector())
            else:
                args.append(self.parse_expr(0))
            if not self.at(","):
                break
            self.advance()
        self.expect(")", f"to close the arguments of {name}()")
        self.order_arg_depth = saved
        return tuple(args)

    # --- diff selectors (spec section 2, "Selector") --------------------------------------
    # Encoded with expression nodes: ``a`` AccessAttribute(None, a), ``s.a``
    # AccessAttribute(s, a), ``s[]`` ArrayCoerce, ``s[cond]`` Filter, ``(s1, s2)`` Tuple,
    # ``anywhere(cond)`` FuncCall("global", "anywhere"), and ``s.(nested)`` Map(s, nested).

    def parse_selector(self) -> n.Node:
        start = self.tok
        self.enter()
        try:
            node = self.parse_selector_primary()
            while self.tok.kind == "op" and self.tok.value in (".", "["):
                node = self.parse_selector_step(node)
        finally:
            self.depth -= 1
        if not (self.at(",") or self.at(")")):
            raise self.error("invalid selector: expected attribute names, '.', '[]', "
                             "filters, (a, b) groups or anywhere()", start)
        return node

    def parse_selector_primary(self) -> n.Node:
        token = self.tok
        if token.kind == "ident" and token.value == "anywhere" and self.peek_is("("):
            node = self.parse_identifier()
            assert isinstance(node, n.FuncCall)
            return node
        if token.kind == "ident" and not self.peek_is("(") and not self.peek_is("::") \
                and token.value not in KEYWORD_VALUES:
            self.advance()
            return n.AccessAttribute(None, str(token.value))
        if self.at("("):
            self.advance()
            members = [self.parse_selector()]
            while self.at(","):
                self.advance()
                members.append(self.parse_selector())
            self.expect(")", "to close the selector group")
            return members[0] if len(members) == 1 else n.Tuple(tuple(members))
        raise self.error("invalid selector: expected an attribute name, (...) or anywhere()")

    def parse_selector_step(self, base: n.Node) -> n.Node:
        if self.advance().value == ".":
            if self.at("("):
                return n.Map(base, self.parse_selector_primary())
            name_tok = self.advance()
            if name_tok.kind != "ident":
                raise self.error("expected an attribute name after '.'", name_tok)
            return n.AccessAttribute(base, str(name_tok.value))
        if self.at("]"):
            self.advance()
            return n.ArrayCoerce(base)
        expr_tok = self.tok
        expr = self.parse_expr(0)
        self.expect("]", "to close '['")
        value = constant_value(expr, self.params)
        if isinstance(value, str):
            return n.AccessAttribute(base, value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise self.error("a selector cannot index an array", expr_tok)
        return n.Filter(base, expr)

    def parse_select(self) -> n.Node:
        alternatives: list[n.SelectAlternative] = []
        fallback: n.Node | None = None
        while not self.at(")"):
            arg_tok = self.tok
            if fallback is not None:
                raise self.error("the fallback of select() must be its last argument", arg_tok)
            value = self.parse_expr(0)
            if self.at("=>"):
                self.advance()
                alternatives.append(n.SelectAlternative(value, self.parse_pair_value()))
            else:
                fallback = value
            if not self.at(","):
                break
            self.advance()
        self.expect(")", "to close the arguments of select()")
        return n.Select(tuple(alternatives), fallback)

    def check_arity(self, what: str, low: int, high: int | None, count: int,
                    token: Token) -> None:
        if count < low or (high is not None and count > high):
            expected = (f"{low}" if low == high else f"at least {low}" if high is None
                        else f"{low} to {high}")
            raise self.error(f"{what} takes {expected} argument{'s' * (expected != '1')}, "
                             f"got {count}", token)



def _not_documents(node: n.Node) -> bool:
    """True when ``node`` cannot be an array of documents (a projection, an element)."""
    if isinstance(node, n.Map | n.FlatMap):
        return isinstance(node.expr, n.Projection)
    return isinstance(node, n.AccessElement | n.Projection | n.Object | n.Value)


