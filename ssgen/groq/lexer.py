"""The GROQ tokenizer: query text -> a flat list of tokens with their offsets.

Owns the lexical grammar of spec section 2 (whitespace, ``//`` comments, identifiers,
numbers with exponents, strings with every escape incl. ``\\uXXXX`` surrogate pairs and
``\\u{...}``, ``$params``, punctuation) and ``TokenStream``, the cursor the parser moves
over the tokens (lookahead, expectations, nesting guard). Every lexical error is a
``GroqSyntaxError`` with the offset of the offending character. Scanning is linear:
the only regexes are anchored single-pass character classes (no backtracking traps).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, NamedTuple

from ssgen.errors import GroqSyntaxError

TokenKind = Literal["num", "str", "ident", "param", "op", "json", "eof"]


class Token(NamedTuple):
    """One token: its kind, its value (the text of ops and identifiers, the decoded
    value of literals) and the offsets of its first and one-past-last characters."""

    kind: TokenKind
    value: object
    start: int
    end: int


_WHITESPACE = frozenset("\t\n\x0b\x0c\r \x85\xa0")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_DIGITS = re.compile(r"[0-9]+")
_PLAIN_STRING = {'"': re.compile(r'[^"\\]*'), "'": re.compile(r"[^'\\]*")}
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_HEX_BRACED = re.compile(r"\{([0-9A-Fa-f]{1,6})\}")
# Longest first: the scanner tries 3-, then 2-, then 1-character operators.
_OPS3 = frozenset({"..."})
_OPS2 = frozenset({"..", "==", "!=", "<=", ">=", "&&", "||", "=>", "->", "**", "::"})
_OPS1 = frozenset("()[]{},.:;@^*+-/%!<>=|")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t"}
# Doubles represent integers exactly up to 2**53; beyond that a literal is a float,
# as it is in JavaScript.
_MAX_EXACT_INT = 2**53


# Fast path: one regex call per token, space and comments included. Every alternative
# is unambiguous and every repetition possessive, so nothing backtracks. Whatever it
# does not take (escapes, $params, odd numbers, errors) goes through ``_scan``.
_FAST = re.compile(
    r"(?:[\t\n\x0b\x0c\r \x85\xa0]|//[^\n]*)*+"
    r"(?:(?P<num>[0-9]++(?:\.[0-9]++)?+(?:[eE][+-]?+[0-9]++)?+)(?![eE0-9])"
    r"|(?P<ident>[A-Za-z_][A-Za-z_0-9]*+)"
    r"|(?P<str>\"[^\"\\]*+\"|'[^'\\]*+')"
    r"|(?P<op>\.\.\.|\.\.|==|!=|<=|>=|&&|\|\||=>|->|\*\*|::|[()\[\]{},.:;@^*+\-/%!<>=|])"
    r")?+"
)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with one ``eof`` token."""
    tokens: list[Token] = []
    append = tokens.append
    fast = _FAST.match
    json_from = 0  # where the JSON shortcut may be tried again after a failure
    pos, n = 0, len(text)
    while True:
        match = fast(text, pos)
        assert match is not None  # every part of the pattern is optional
        kind = match.lastgroup
        if kind is None:
            pos = match.end()
            if pos >= n:
                append(Token("eof", None, n, n))
                return tokens
            token = _scan(text, pos)
        elif kind == "op" or kind == "ident":
            start = match.start(kind)
            literal = None
            if start >= json_from and text[start] in "[{":
                literal, json_from = _json_token(text, start, tokens)
            token = literal or Token(
                "op" if kind == "op" else "ident", match.group(kind), start, match.end())
        elif kind == "num":
            token = _number_token(match.group(kind), match.start(kind), match.end())
        else:
            lexeme = match.group(kind)
            token = Token("str", _join_surrogates(lexeme[1:-1]), match.start(kind), match.end())
        append(token)
        pos = token.end


# Big JSON literals (geometries, fixtures) in an expression position are decoded by the
# C JSON decoder in one call: same values as the token-by-token path, far less work.
_JSON_MIN_LENGTH = 64
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_EXPRESSION_START = frozenset({"(", "[", ",", ":", "{", "=>", "==", "!=", "<", "<=", ">",
                               ">=", "&&", "||", "+", "-", "/", "%", "!", "..", "...", "=",
                               "**", ";"})


class JsonPairs(list[tuple[str, Any]]):
    """A decoded JSON object as its (key, value) pairs, in source order."""


def _json_int(literal: str) -> int | float:
    # JSON hands over the sign with the digits; the token path reads ``-`` as negation of
    # the magnitude, so the 2**53 limit applies to the magnitude on both paths.
    magnitude = _number_value(literal.removeprefix("-"))
    return -magnitude if literal.startswith("-") else magnitude


def _json_constant(name: str) -> Any:
    raise ValueError(name)  # NaN/Infinity are not GROQ


_JSON = json.JSONDecoder(object_pairs_hook=JsonPairs, parse_int=_json_int,
                         parse_constant=_json_constant)


def _json_token(text: str, start: int, tokens: list[Token]) -> tuple[Token | None, int]:
    """A ``json`` token for the literal at ``start``, or None; and the offset before
    which the shortcut is not worth trying again (literals nested in a failed one)."""
    if text.find("]" if text[start] == "[" else "}", start + _JSON_MIN_LENGTH) < 0:
        return None, start
    if tokens and not (tokens[-1].kind == "op" and tokens[-1].value in _EXPRESSION_START):
        return None, start
    try:
        value, end = _JSON.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        return None, exc.pos
    except (ValueError, RecursionError):
        return None, len(text)
    # Surrogate escapes go the token path, which joins pairs and replaces lone ones.
    if end - start < _JSON_MIN_LENGTH or _SURROGATE_ESCAPE.search(text, start, end):
        return None, end
    return Token("json", value, start, end), end


def _scan(text: str, pos: int) -> Token:
    ch = text[pos]
    if ch == '"' or ch == "'":
        return _scan_string(text, pos)
    if "0" <= ch <= "9":
        return _scan_number(text, pos)
    if ch == "$":
        match = _IDENT.match(text, pos + 1)
        if match is None:
            raise GroqSyntaxError("expected a parameter name after '$'", text, pos + 1)
        return Token("param", match.group(), pos, match.end())
    match = _IDENT.match(text, pos)
    if match is not None:
        return Token("ident", match.group(), pos, match.end())
    for width, ops in ((3, _OPS3), (2, _OPS2), (1, _OPS1)):
        op = text[pos : pos + width]
        if op in ops:
            return Token("op", op, pos, pos + width)
    raise GroqSyntaxError(f"unexpected character {ch!r}", text, pos)


def _scan_number(text: str, pos: int) -> Token:
    end = _match_end(_DIGITS, text, pos)
    if text.startswith(".", end):
        frac = _DIGITS.match(text, end + 1)
        if frac is not None:
            end = frac.end()
    if end < len(text) and text[end] in "eE":
        end += 1
        if end < len(text) and text[end] in "+-":
            end += 1
        exp = _DIGITS.match(text, end)
        if exp is None:
            raise GroqSyntaxError("expected digits in the exponent", text, end)
        end = exp.end()
    return _number_token(text[pos:end], pos, end)


def _number_token(literal: str, start: int, end: int) -> Token:
    return Token("num", _number_value(literal), start, end)


def _number_value(literal: str) -> int | float:
    # Long digit strings go straight to float: int() refuses over 4300 digits.
    if "." in literal or "e" in literal or "E" in literal or len(literal) > 20:
        return float(literal)
    value = int(literal)
    return float(literal) if value > _MAX_EXACT_INT else value


def _match_end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    match = pattern.match(text, pos)
    return pos if match is None else match.end()


def _scan_string(text: str, start: int) -> Token:
    quote = text[start]
    plain = _PLAIN_STRING[quote]
    parts: list[str] = []
    pos = start + 1
    while True:
        end = _match_end(plain, text, pos)
        parts.append(text[pos:end])
        if end >= len(text):
            raise GroqSyntaxError("unterminated string", text, start)
        if text[end] == quote:
            return Token("str", _join_surrogates("".join(parts)), start, end + 1)
        char, pos = _scan_escape(text, end)
        parts.append(char)


def _scan_escape(text: str, pos: int) -> tuple[str, int]:
    """Decode the escape at ``text[pos] == '\\'``; return it and the offset after it."""
    code = text[pos + 1 : pos + 2]
    if code in _ESCAPES:
        return _ESCAPES[code], pos + 2
    if code != "u":
        shown = code.encode("unicode_escape").decode("ascii")  # a newline must not break the caret
        raise GroqSyntaxError(f"invalid escape sequence '\\{shown}'", text, pos)
    braced = _HEX_BRACED.match(text, pos + 2)
    if braced is not None:
        point = int(braced.group(1), 16)
        if point > 0x10FFFF:
            raise GroqSyntaxError("unicode escape out of range", text, pos)
        return chr(point), braced.end()
    hex4 = _HEX4.match(text, pos + 2)
    if hex4 is None:
        raise GroqSyntaxError("invalid unicode escape, expected \\uXXXX or \\u{X...}", text, pos)
    return chr(int(hex4.group(), 16)), hex4.end()


def _join_surrogates(value: str) -> str:
    """Combine UTF-16 surrogate pairs written as two escapes into one code point."""
    if not any("\ud800" <= ch <= "\udfff" for ch in value):
        return value
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


MAX_DEPTH = 100
"""Deepest nesting of brackets/operators accepted; deeper input is a syntax error
rather than a RecursionError (in the parser or in whoever walks the tree later)."""


class TokenStream:
    """A cursor over the tokens of one query, with the helpers every parser step uses."""

    def __init__(self, text: str) -> None:
        self.text = text
        # Two eof tokens: one token of lookahead is always there to look at.
        self.tokens = tokenize(text)
        self.tokens.append(self.tokens[-1])
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        """The current token (``eof`` at the end)."""
        return self.tokens[self.i]

    def advance(self) -> Token:
        """Consume and return the current token (``eof`` is never consumed)."""
        token = self.tokens[self.i]
        if token.kind != "eof":
            self.i += 1
        return token

    def at(self, op: str) -> bool:
        """Is the current token the operator/punctuation ``op``?"""
        token = self.tokens[self.i]
        return token.kind == "op" and token.value == op

    def at_ident(self, name: str) -> bool:
        """Is the current token the identifier ``name``?"""
        token = self.tokens[self.i]
        return token.kind == "ident" and token.value == name

    def peek_is(self, op: str) -> bool:
        """Is the token after the current one the operator ``op``?"""
        token = self.tokens[self.i + 1]
        return token.kind == "op" and token.value == op

    def expect(self, op: str, context: str) -> Token:
        """Consume ``op`` or fail naming what was expected and what was found."""
        if not self.at(op):
            raise self.error(f"expected '{op}' {context}, got {describe(self.tok)}")
        return self.advance()

    def error(self, message: str, token: Token | None = None) -> GroqSyntaxError:
        """A syntax error located at ``token`` (default: the current token)."""
        return GroqSyntaxError(message, self.text, (token or self.tok).start)

    def enter(self) -> None:
        """Count one more level of nesting; refuse beyond ``MAX_DEPTH``."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"query is nested too deeply (more than {MAX_DEPTH} levels)")


def describe(token: Token) -> str:
    """A token as an error message names it."""
    if token.kind == "eof":
        return "end of query"
    if token.kind == "str":
        return "a string"
    if token.kind == "num":
        return f"number {token.value}"
    if token.kind == "param":
        return f"${token.value}"
    return f"'{token.value}'"
