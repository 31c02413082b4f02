"""Unit tests of the GROQ parser: every construct, precedence, lowering, validation, errors."""

from __future__ import annotations

from typing import Any

import pytest

from ssgen.errors import GroqSyntaxError
from ssgen.groq import nodes as n
from ssgen.groq.parser import parse

A = n.AccessAttribute
V = n.Value
THIS = n.This()
STAR = n.Everything()


def a(name: str, base: n.Node | None = None) -> n.AccessAttribute:
    return n.AccessAttribute(base, name)


def root(text: str, params: dict[str, Any] | None = None) -> n.Node:
    return parse(text, params).root


def error_of(text: str) -> GroqSyntaxError:
    with pytest.raises(GroqSyntaxError) as info:
        parse(text)
    return info.value


# --- literals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("3.25", 3.25),
        ("1e3", 1000.0),
        ("1.5E-2", 0.015),
        ("2e+2", 200.0),
        ("123456789012345678901234567890", 1.2345678901234568e29),
        ("null", None),
        ("true", True),
        ("false", False),
        ('"hi"', "hi"),
        ("'single'", "single"),
        ('""', ""),
    ],
)
def test_scalar_literals(text: str, value: Any) -> None:
    node = root(text)
    assert node == V(value)
    assert isinstance(node, n.Value) and type(node.value) is type(value)


def test_exponent_without_digits_is_an_error() -> None:
    err = error_of("1e+")
    assert err.offset == 3
    assert "exponent" in err.message


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r'"a\"b"', 'a"b'),
        (r"'a\'b'", "a'b"),
        (r'"\\ \/ \b \f \n \r \t"', "\\ / \b \f \n \r \t"),
        (r'"\u00e9"', "é"),
        (r'"\u{1F600}"', "😀"),
        (r'"\u{41}"', "A"),
        (r'"\ud83d\ude00"', "😀"),
        (r'"x\ud83dy"', "x\ufffdy"),
        ('"line\nbreak"', "line\nbreak"),
        ('"not // a comment"', "not // a comment"),
    ],
)
def test_string_escapes(text: str, value: str) -> None:
    assert root(text) == V(value)


@pytest.mark.parametrize(
    ("text", "offset", "fragment"),
    [
        (r'"abc\q"', 4, "invalid escape"),
        (r'"\u12"', 1, "unicode escape"),
        (r'"\u{110000}"', 1, "out of range"),
        ('"never closed', 0, "unterminated"),
        ("'x", 0, "unterminated"),
    ],
)
def test_bad_strings_point_at_the_problem(text: str, offset: int, fragment: str) -> None:
    err = error_of(text)
    assert err.offset == offset
    assert fragment in err.message


def test_whitespace_and_comments_are_ignored() -> None:
    text = "// leading\n{\n  // own line\n  \"k\": 1 // trailing\n}\x85\xa0\t\x0b\x0c\r"
    assert root(text) == n.Object((n.ObjectAttributeValue("k", V(1)),))


def test_array_literal_with_splats_and_trailing_comma() -> None:
    assert root("[1, ...x, [],]") == n.Array(
        (n.ArrayElement(V(1)), n.ArrayElement(a("x"), True), n.ArrayElement(n.Array(())))
    )


def test_object_attributes_of_every_kind() -> None:
    node = root('{title, "k": 1, ..., ...extra, author->, author->name, tags[]{x}, '
                'count > 1 => {n},}')
    assert isinstance(node, n.Object)
    kinds = [(type(attr).__name__, getattr(attr, "name", None)) for attr in node.attributes]
    assert kinds == [
        ("ObjectAttributeValue", "title"),
        ("ObjectAttributeValue", "k"),
        ("ObjectSplat", None),
        ("ObjectSplat", None),
        ("ObjectAttributeValue", "author"),
        ("ObjectAttributeValue", "author"),
        ("ObjectAttributeValue", "tags"),
        ("ObjectConditionalSplat", None),
    ]
    assert node.attributes[2] == n.ObjectSplat(THIS)
    assert node.attributes[5] == n.ObjectAttributeValue("author", a("name", n.Deref(a("author"))))
    assert node.attributes[7] == n.ObjectConditionalSplat(
        n.OpCall(">", a("count"), V(1)), n.Object((n.ObjectAttributeValue("n", a("n")),))
    )


@pytest.mark.parametrize("text", ["{1}", "{a + b}", '{"x" + "y": 1}', "{count(x)}", "{@}"])
def test_object_attribute_without_a_key_is_rejected(text: str) -> None:
    err = error_of(text)
    assert "key" in err.message
    assert err.offset == 1


# --- simple expressions ----------------------------------------------------------------------


def test_simple_expressions() -> None:
    assert root("@") == THIS
    assert root("*") == STAR
    assert root("^") == n.Parent(1)
    assert root("^.^.^") == n.Parent(3)
    assert root("^.^.name") == a("name", n.Parent(2))
    assert root("$slug") == n.Parameter("slug")
    assert root("title") == a("title")


def test_parameter_needs_a_name() -> None:
    assert error_of("$ x").offset == 1


# --- operators and precedence (spec section 10) ----------------------------------------------


def op(name: str, left: n.Node, right: n.Node) -> n.OpCall:
    return n.OpCall(name, left, right)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", op("+", V(1), op("*", V(2), V(3)))),
        ("1 - 2 - 3", op("-", op("-", V(1), V(2)), V(3))),
        ("8 / 4 % 3", op("%", op("/", V(8), V(4)), V(3))),
        ("2 ** 3 ** 2", op("**", V(2), op("**", V(3), V(2)))),
        ("-2 ** 2", n.Neg(op("**", V(2), V(2)))),
        ("-2 * 3", op("*", n.Neg(V(2)), V(3))),
        ("+2 ** 2", op("**", n.Pos(V(2)), V(2))),
        ("2 ** -1", op("**", V(2), n.Neg(V(1)))),
        ("!a == b", op("==", n.Not(a("a")), a("b"))),
        ("!a.b", n.Not(a("b", a("a")))),
        ("a || b && c", n.Or(a("a"), n.And(a("b"), a("c")))),
        ("a && b || c", n.Or(n.And(a("a"), a("b")), a("c"))),
        ("a && b && c", n.And(n.And(a("a"), a("b")), a("c"))),
        ("a == 1 + 2", op("==", a("a"), op("+", V(1), V(2)))),
        ("a < b && c >= d", n.And(op("<", a("a"), a("b")), op(">=", a("c"), a("d")))),
        ("a != b || c <= d", n.Or(op("!=", a("a"), a("b")), op("<=", a("c"), a("d")))),
        ("a > b", op(">", a("a"), a("b"))),
        ("x match \"foo*\"", op("match", a("x"), V("foo*"))),
        ("x in [1, 2]", op("in", a("x"), n.Array((n.ArrayElement(V(1)), n.ArrayElement(V(2)))))),
        ("x in 1..5", n.InRange(a("x"), V(1), V(5), True)),
        ("x in 1...5", n.InRange(a("x"), V(1), V(5), False)),
        ("x in (1..5)", n.InRange(a("x"), V(1), V(5), True)),
        ("x in 1 + 1..2 * 3", n.InRange(a("x"), op("+", V(1), V(1)), op("*", V(2), V(3)), True)),
        ("x in (y)", op("in", a("x"), n.Group(a("y")))),
        ("(1 + 2) * 3", op("*", n.Group(op("+", V(1), V(2))), V(3))),
        ("a in b && c", n.And(op("in", a("a"), a("b")), a("c"))),
    ],
)
def test_precedence_and_associativity(text: str, expected: n.Node) -> None:
    assert root(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "a == b == c",
        "a < b < c",
        "a in b in c",
        "a match b == c",
        '"a" .. "b"',
        "1 ... 2",
        "3 in (1 + (2 .. 3))",
        "(2 in 1) .. 4",
        "1 => 2",
        "(1, 2)",
        "a ~ b",
        "a b",
        "1 +",
        "",
        "   // only a comment",
    ],
)
def test_invalid_operator_use_is_rejected(text: str) -> None:
    error_of(text)


def test_trailing_input_is_reported_where_it_starts() -> None:
    err = error_of("a == b == c")
    assert err.offset == 7
    assert "expected end of query" in err.message


def test_unexpected_character_offset() -> None:
    assert error_of("*[a ~ 1]").offset == 4


# --- traversals: lowered as groq-js lowers them ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a.b", a("b", a("a"))),
        ("a.b.c", a("c", a("b", a("a")))),
        ("*._id", n.Map(STAR, a("_id", THIS))),
        ("*[_type == 'x']", n.Filter(STAR, op("==", a("_type"), V("x")))),
        ("*[0]", n.AccessElement(STAR, 0)),
        ("*[-1]", n.AccessElement(STAR, -1)),
        ("*[1 + 1]", n.AccessElement(STAR, 2)),
        ("*[0..2]", n.Slice(STAR, 0, 2, True)),
        ("*[0...-1]", n.Slice(STAR, 0, -1, False)),
        ("a['x']", a("x", a("a"))),
        ("a['x' + 'y']", a("xy", a("a"))),
        ("a[]", n.ArrayCoerce(a("a"))),
        ("a[].b", n.Map(n.ArrayCoerce(a("a")), a("b", THIS))),
        ("a[].b[].c", n.FlatMap(n.ArrayCoerce(a("a")),
                                n.Map(n.ArrayCoerce(a("b", THIS)), a("c", THIS)))),
        ("a[x].b", n.Map(n.Filter(a("a"), a("x")), a("b", THIS))),
        ("a[true]", n.Filter(a("a"), V(True))),
        ("(a.b)[0]", n.AccessElement(n.Group(a("b", a("a"))), 0)),
        ("a.b[0]", n.AccessElement(a("b", a("a")), 0)),
        ("a->", n.Deref(a("a"))),
        ("a->b", a("b", n.Deref(a("a")))),
        ("a[]->", n.Map(n.ArrayCoerce(a("a")), n.Deref(THIS))),
        ("a[]->b", n.Map(n.ArrayCoerce(a("a")), a("b", n.Deref(THIS)))),
        ("a{b}", n.Projection(a("a"), n.Object((n.ObjectAttributeValue("b", a("b")),)))),
        ("a | {b}", n.Projection(a("a"), n.Object((n.ObjectAttributeValue("b", a("b")),)))),
        ("a[]{b}", n.Map(n.ArrayCoerce(a("a")),
                         n.Projection(THIS, n.Object((n.ObjectAttributeValue("b", a("b")),))))),
        ("[1][0]", n.AccessElement(n.Array((n.ArrayElement(V(1)),)), 0)),
        ("[{}].a", n.Map(n.Array((n.ArrayElement(n.Object(())),)), a("a", THIS))),
        ("$p.x", a("x", n.Parameter("p"))),
        ("@.x", a("x", THIS)),
    ],
)
def test_traversal_lowering(text: str, expected: n.Node) -> None:
    assert root(text) == expected


def test_route_query_shape() -> None:
    node = root('*[_type == "post" && slug.current == $slug][0]{..., author->, categories[]->}')
    assert isinstance(node, n.Projection)
    element = node.base
    assert isinstance(element, n.AccessElement) and element.index == 0
    assert isinstance(element.base, n.Filter) and element.base.base == STAR
    obj = node.expr
    assert isinstance(obj, n.Object)
    assert obj.attributes[2] == n.ObjectAttributeValue(
        "categories", n.Map(n.ArrayCoerce(a("categories")), n.Deref(THIS))
    )


def test_pipe_then_traversal_wraps_the_pipe() -> None:
    node = root("*[_type == 'x'] | order(a desc) [0..9] {a}")
    assert isinstance(node, n.Map)
    assert isinstance(node.base, n.Slice)
    pipe = node.base.base
    assert isinstance(pipe, n.PipeFuncCall) and pipe.name == "order"
    assert pipe.args == (n.Desc(a("a")),)


@pytest.mark.parametrize(
    ("text", "fragment", "offset"),
    [
        ("*[a..b]", "constant", 2),
        ("*[0..$n]", "constant", 5),
        ("*[1.5]", "integer", 2),
        ("*[0..1.5]", "integer", 5),
        ("a.", "attribute name", 2),
        ("a.1", "attribute name", 2),
        ("*[0", "']'", 3),
    ],
)
def test_bad_traversals(text: str, fragment: str, offset: int) -> None:
    err = error_of(text)
    assert fragment in err.message
    assert err.offset == offset


def test_slice_bounds_from_params() -> None:
    assert root("*[$from..$to]", {"from": 1, "to": 3}) == n.Slice(STAR, 1, 3, True)
    assert root("*[$i]", {"i": -1}) == n.AccessElement(STAR, -1)
    assert root("*[$i]") == n.Filter(STAR, n.Parameter("i"))
    assert "pass its value as parse(text, params)" in error_of("*[$from..2]").message
    with pytest.raises(GroqSyntaxError, match="integer"):
        parse("*[0..$to]", {"to": 1.5})


# --- errors ----------------------------------------------------------------------------------


def test_error_rendering_shows_the_line_and_a_caret() -> None:
    err = error_of('*[_type == "post"]{\n  title,\n  "n": nope(1)\n}')
    assert (err.line, err.column) == (3, 8)
    assert err.render().splitlines() == [
        "GROQ syntax error: unknown function global::nope() at line 3, column 8",
        '    "n": nope(1)',
        "         ^",
    ]


def test_error_at_end_of_input_renders_after_the_text() -> None:
    err = error_of("*[_type == 'a'")
    assert err.offset == 14
    assert "expected ']'" in err.message
    assert err.render().splitlines()[-1] == "  " + " " * 14 + "^"


def test_parses_are_cached_by_text_and_errors_are_not() -> None:
    text = "*[_type == 'cached']{title}"
    assert parse(text) is parse(text)
    assert parse(text, {}) is not parse(text)
    assert parse(text, {}) == parse(text)
    first, second = error_of("cached("), error_of("cached(")
    assert first is not second


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        parse(b"*")  # type: ignore[arg-type]
