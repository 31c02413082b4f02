"""Robustness of the GROQ parser: whatever the input, parse() returns a Query or raises
GroqSyntaxError (never another exception, never RecursionError), quickly."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ssgen.errors import GroqSyntaxError
from ssgen.groq import nodes as n
from ssgen.groq.analysis import ast_depth, derefs, parameters, scanned_types
from ssgen.groq.lexer import tokenize
from ssgen.groq.parser import MAX_AST_DEPTH, parse

# A generous per-example bound: it catches hangs and exponential blow-ups, not speed.
FUZZ = settings(max_examples=300, deadline=timedelta(seconds=2),
                suppress_health_check=[HealthCheck.too_slow])
# Structured inputs cost more to generate; fewer of them cover the same ground.
STRUCTURED = settings(FUZZ, max_examples=100)

TOKENS = [
    "*", "@", "^", "^.^", "$p", "$", "a", "_type", "title", "in", "match", "asc", "desc",
    "fn", "ns", "::", "count", "order", "score", "boost", "select", "before", "after",
    "diff", "changedAny", "anywhere", "true", "false", "null", "0", "1", "-1", "2.5",
    "1e3", "1e", "'s'", '"x"', '"\\u{1F600}"', '"\\ud83d"', '"\\q"', "(", ")", "[", "]",
    "{", "}", ",", ":", ";", ".", "..", "...", "->", "=>", "==", "!=", "<", "<=", ">",
    ">=", "&&", "||", "|", "!", "+", "-", "**", "/", "%", "=", "//c\n", " ", "\n", "~",
    "#", "\x00", "é",
]


def check(text: str) -> None:
    """The parser's contract on arbitrary input."""
    try:
        query = parse(text)
    except GroqSyntaxError as exc:
        assert 0 <= exc.offset <= len(text)
        assert exc.render().count("\n") == 2
        return
    assert query.text == text
    assert ast_depth(query.root) <= MAX_AST_DEPTH
    tokens = tokenize(text)
    if not any(token.kind == "json" for token in tokens):
        # The parser skips the height check of short queries on this bound.
        assert ast_depth(query.root) <= 3 * len(tokens)
    # The static analyses accept whatever the parser accepts.
    scanned_types(query)
    derefs(query)
    parameters(query)


@FUZZ
@given(st.text(max_size=200))
def test_random_text(text: str) -> None:
    check(text)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("*@^$[](){}.,:;!=<>|&+-/%'\"\\ a_1e\n")),
               max_size=120))
def test_random_groq_characters(text: str) -> None:
    check(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60), st.sampled_from(["", " "]))
def test_random_token_soup(tokens: list[str], sep: str) -> None:
    check(sep.join(tokens))


@pytest.mark.parametrize(
    "text",
    [
        "(" * 10_000,
        "[" * 10_000 + "]" * 10_000,
        "{" * 5_000,
        "-" * 10_000 + "1",
        "!" * 10_000 + "true",
        "a" + ".b" * 10_000,
        "a" + "[]" * 10_000,
        "a" + "->" * 10_000,
        "1" + " + 1" * 10_000,
        "a" + " || a" * 10_000,
        "*" + " | order(a)" * 10_000,
        "[" + "1 + " * 10_000 + "1]",
        "x[" + "1+" * 10_000 + "1]",
        "^" + ".^" * 10_000,
        "[" * 5_000 + "1" + "]" * 5_000,
        "fn a::b($x) = $x{y}; " * 2_000 + "1",
        '"' + "\\" * 10_001,
        "1" * 10_000,
        "select(" * 5_000,
        "diff::changedAny({}, {}, " + "(" * 5_000,
        "diff::changedAny({}, {}, a" + ".(a" * 5_000,
    ],
)
def test_pathological_inputs_raise_syntax_errors_not_recursion_errors(text: str) -> None:
    check(text)


# --- grammar-generated queries: valid ones parse, and the JSON shortcut is exact -----------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=5), inner, max_size=5),
    max_leaves=40,
)


@STRUCTURED
@given(json_values)
# Found by this property (round 28): the shortcut kept -(2**53 + 1) an int (JSON gave the
# sign with the digits), the token path made its magnitude a float.
@example([None, -9007199254740993])
def test_json_literals_parse_the_same_through_either_path(value: Any) -> None:
    # Vertical tabs are GROQ whitespace but not JSON: they force the token-by-token path.
    compact = json.dumps(value, separators=(",", ":"))
    spaced = json.dumps(value, separators=(",\x0b", ":\x0b"))
    assert parse(compact).root == parse(spaced).root
    assert parse(f"[{compact}, {compact}, {compact}]").root == \
        parse(f"[{spaced}, {spaced}, {spaced}]").root


def _json_value(node: n.Node) -> Any:
    match node:
        case n.Value(value=value):
            return value
        case n.Neg(base=n.Value(value=value)):
            return -value
        case n.Array(elements=elements):
            return [_json_value(e.value) for e in elements]
        case n.Object(attributes=attributes):
            return {a.name: _json_value(a.value) for a in attributes}  # type: ignore[union-attr]
    raise AssertionError(node)


@STRUCTURED
@given(json_values)
def test_json_literals_keep_their_values(value: Any) -> None:
    text = json.dumps(value)
    decoded = json.loads(text, parse_int=lambda s: int(s) if abs(int(s)) <= 2**53 else float(s))
    assert _json_value(parse(text).root) == decoded


atoms = st.sampled_from(["a", "b.c", "@", "^.x", "$p", "1", "'s'", "null", "*[_type == 't']",
                         "count(*)", "c[]->d", "e[0]", "f[1..2]", "g{h}", "[1, 2]", "{'k': 1}"])


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%", "**", "==", "!=", "<",
                                                "&&", "||", "in", "match"]), inner)
    return (
        binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})")
        | inner.map(lambda s: f"!({s})")
        | inner.map(lambda s: f"-({s})")
        | inner.map(lambda s: f"*[{s}]")
        | inner.map(lambda s: f"{{'x': {s}, ...}}")
        | inner.map(lambda s: f"[{s}, ...[{s}]]")
        | inner.map(lambda s: f"select({s} => {s}, {s})")
        | inner.map(lambda s: f"* | order({s} desc)")
        | inner.map(lambda s: f"* | score(boost({s}, 2))")
        | inner.map(lambda s: f"coalesce({s}, {s})")
        | inner.map(lambda s: f"({s}).x[0]")
    )


@STRUCTURED
@given(st.recursive(atoms, _combine, max_leaves=12))
def test_generated_valid_queries_parse(text: str) -> None:
    parse(text)
    check(text)
