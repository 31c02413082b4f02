"""Unit tests of GROQ call parsing: functions, pipes, select, order/score/boost,
custom functions and diff selectors."""

from __future__ import annotations

from typing import Any

import pytest

from ssgen.errors import GroqSyntaxError
from ssgen.groq import nodes as n
from ssgen.groq.analysis import parameters
from ssgen.groq.parser import parse

V = n.Value
THIS = n.This()
STAR = n.Everything()


def a(name: str, base: n.Node | None = None) -> n.AccessAttribute:
    return n.AccessAttribute(base, name)


def op(name: str, left: n.Node, right: n.Node) -> n.OpCall:
    return n.OpCall(name, left, right)  # type: ignore[arg-type]


def root(text: str, params: dict[str, Any] | None = None) -> n.Node:
    return parse(text, params).root


def error_of(text: str) -> GroqSyntaxError:
    with pytest.raises(GroqSyntaxError) as info:
        parse(text)
    return info.value


# --- functions -------------------------------------------------------------------------------


def test_function_calls_and_namespaces() -> None:
    assert root("count(*)") == n.FuncCall("global", "count", (STAR,))
    assert root("global::count(*)") == n.FuncCall("global", "count", (STAR,))
    assert root("string::split(a, ',')") == n.FuncCall("string", "split", (a("a"), V(",")))
    assert root("coalesce(a, b,)") == n.FuncCall("global", "coalesce", (a("a"), a("b")))
    assert root("now()") == n.FuncCall("global", "now", ())


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("nope(1)", "unknown function global::nope()"),
        ("zz::count(1)", "unknown function zz::count()"),
        ("count()", "count() takes 1 argument, got 0"),
        ("count(1, 2)", "count() takes 1 argument, got 2"),
        ("round(1, 2, 3)", "round() takes 1 to 2 arguments, got 3"),
        ("* | nope(a)", "unknown pipe function nope()"),
        ("* | order()", "order() takes at least 1 argument"),
        ("before(1)", "before() takes 0 arguments"),
    ],
)
def test_unknown_functions_and_arity(text: str, fragment: str) -> None:
    assert fragment in error_of(text).message


def test_arity_error_points_at_the_function_name() -> None:
    assert error_of("*{'n': count()}").offset == 7


def test_before_and_after_are_context() -> None:
    assert root("before()") == n.Context("before")
    assert root("after().title") == a("title", n.Context("after"))


def test_select() -> None:
    assert root("select(a => 1, b => 2, 3)") == n.Select(
        (n.SelectAlternative(a("a"), V(1)), n.SelectAlternative(a("b"), V(2))), V(3)
    )
    assert root("select()") == n.Select((), None)


@pytest.mark.parametrize(
    ("text", "offset"),
    [("select(1, a => 2)", 10), ("select(1, 2)", 10), ("select(true || (true => false))", 21),
     ("select(a => b => c)", 14)],
)
def test_select_fallback_must_be_last(text: str, offset: int) -> None:
    assert error_of(text).offset == offset


def test_order_with_directions() -> None:
    node = root("* | order(a asc, b desc, c)")
    assert isinstance(node, n.PipeFuncCall)
    assert node.args == (n.Asc(a("a")), n.Desc(a("b")), a("c"))
    assert root("* | order(a == b desc)") == n.PipeFuncCall(
        STAR, "order", (n.Desc(op("==", a("a"), a("b"))),))


@pytest.mark.parametrize(
    "text",
    ["a asc", "[1] | order(@ && true asc)", "[1] | order(@ && (true asc))",
     "[1] | order(count(a asc))", "* | order(a asc && b)", "* | score(a asc)",
     "* | order(a asc desc)"],
)
def test_asc_desc_only_as_order_arguments(text: str) -> None:
    error_of(text)


def test_boost_only_inside_score() -> None:
    node = root("* | score(boost(a == 1, 2), b match 'x')")
    assert isinstance(node, n.PipeFuncCall)
    assert node.args[0] == n.FuncCall("global", "boost", (op("==", a("a"), V(1)), V(2)))
    assert isinstance(root("* | score(a && boost(b, 2))"), n.PipeFuncCall)
    for text in ("boost(a, 1)", "*{'a': boost(a, 3)}", "* | order(boost(a, 1))"):
        assert "boost" in error_of(text).message


@pytest.mark.parametrize("text", ["*{foo} | score(a == 1)", "*[0] | score(a == 1)",
                                  "score(a == 1)"])
def test_score_needs_an_array_of_documents(text: str) -> None:
    error_of(text)


# --- custom functions ------------------------------------------------------------------------


def test_custom_function_declaration_and_call() -> None:
    query = parse("fn ex::names($refs) = $refs[]->{name}; *{'n': ex::names(friends)}")
    assert len(query.functions) == 1
    function = query.functions[0]
    assert (function.namespace, function.name, function.params) == ("ex", "names", ("refs",))
    assert function.body == n.Map(
        n.ArrayCoerce(n.Parameter("refs")),
        n.Projection(n.Deref(THIS), n.Object((n.ObjectAttributeValue("name", a("name")),))),
    )
    obj = query.root
    assert isinstance(obj, n.Map) and isinstance(obj.expr, n.Projection)
    attr = obj.expr.expr
    assert isinstance(attr, n.Object)
    assert attr.attributes[0] == n.ObjectAttributeValue(
        "n", n.CustomFuncCall(function, (a("friends"),)))
    assert parameters(query) == frozenset()


def test_custom_function_overrides_a_builtin() -> None:
    node = root("fn math::sum($x) = $x{a}; math::sum(@)")
    assert isinstance(node, n.CustomFuncCall)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("fn foo::bar($baz) = $baz[]->{name}; foo::bar(a, b)", "takes 1 argument, got 2"),
        ("fn foo::bar($a, $b) = $a{x}; 1", "exactly one parameter"),
        ("fn foo::bar() = $a{x}; 1", "exactly one parameter"),
        ("fn foo::bar($a) = $a{x, 'v': $a}; 1", "$a cannot be used"),
        ("fn foo::bar($a) = $a{'x': {'y': *{z, 'v': $a}}}; 1", "$a cannot be used"),
        ("fn foo::bar($a) = $a{'x': $other}; 1", "$other cannot be used"),
        ("fn foo::bar($a) = $a{'v': ^.name}; 1", "^ cannot refer"),
        ("fn foo::bar($a) = $a{'v': *[^.^.x]}; 1", "^ cannot refer"),
        ("fn foo::bar($a) = $a.x; 1", "body must be"),
        ("fn foo::bar($a) = $b{x}; 1", "body must be"),
        ("fn bar($a) = $a{x}; 1", "namespace"),
        ("fn foo::bar($a) = $a{x} 1", "';'"),
        ("fn foo::bar($a) = $a{'r': foo::bar(x)}; 1", "cannot call itself"),
        ("fn foo::f($a) = $a{x}; fn foo::f($a) = $a{y}; 1", "declared twice"),
    ],
)
def test_bad_custom_functions(text: str, fragment: str) -> None:
    assert fragment in error_of(text).message


def test_custom_function_parent_inside_a_subquery_is_allowed() -> None:
    parse("fn f::g($b) = $b[]->{'foo': *[_type == ^.bar], 'o': * | order(^.foo)}; 1")


def test_fn_as_an_attribute_name() -> None:
    assert root("fn") == a("fn")


# --- selectors (diff::) -------------------------------------------------------------------


def test_selectors_are_encoded_with_expression_nodes() -> None:
    node = root("diff::changedAny({}, {}, attr.(a, b[]).c)")
    assert isinstance(node, n.FuncCall)
    assert node.args[2] == a("c", n.Map(a("attr"), n.Tuple((a("a"), n.ArrayCoerce(a("b"))))))
    node = root("diff::changedAny({}, {}, anywhere(_type == 'x')[k == 1])")
    assert isinstance(node, n.FuncCall)
    assert node.args[2] == n.Filter(
        n.FuncCall("global", "anywhere", (op("==", a("_type"), V("x")),)),
        op("==", a("k"), V(1)))
    node = root("diff::changedAny({}, {}, ((a), b['c']))")
    assert isinstance(node, n.FuncCall)
    assert node.args[2] == n.Tuple((a("a"), a("c", a("b"))))


@pytest.mark.parametrize(
    "selector", ["foo + 1", "foo{bar}", "(foo + 1)", "(foo, foo + 1)", "foo.(foo + 1)",
                 "foo[0]", "[foo + 1]", "'foo'", "123", "1 + 1 == 2", "$p", "@"])
def test_invalid_selectors(selector: str) -> None:
    error_of(f"diff::changedAny({{}}, {{}}, {selector})")
