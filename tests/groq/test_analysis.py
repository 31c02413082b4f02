"""Tests of the static analysis of GROQ queries: scanned types, derefs, parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.groq import nodes as n
from ssgen.groq.analysis import (
    NOT_CONSTANT,
    attribute_name,
    constant_value,
    derefs,
    parameters,
    pinned_types,
    scanned_types,
)
from ssgen.groq.parser import parse


def types(text: str, params: dict[str, object] | None = None) -> frozenset[str] | None:
    return scanned_types(parse(text), params)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('*[_type == "post"]', {"post"}),
        ('*["post" == _type]', {"post"}),
        ('*[@._type == "post"]', {"post"}),
        ('*[_type == "post" && slug.current == $slug][0]{..., author->, categories[]->}',
         {"post"}),
        ('*[_type in ["a", "b"]]', {"a", "b"}),
        ('*[_type == "a" || _type == "b"]', {"a", "b"}),
        ('*[(_type == "a" || _type in ["b"]) && defined(x)]', {"a", "b"}),
        ('*[_type == "a" && _type == "b"]', set()),
        ('*[_type == "a" && (_type == "b" || _type == "a")]', {"a"}),
        ('*[x > 1][_type == "a"]', {"a"}),
        ('*[_type == "a"][x > 1] | order(x) [0..9] {x}', {"a"}),
        ('*[_type == 1]', set()),
        ('{"posts": *[_type == "post"], "n": count(*[_type == "author"])}', {"post", "author"}),
        ('*[_type == "post"]{"related": *[_type == "tag" && references(^._id)]}', {"post", "tag"}),
        ('*[_type == "a"]{"x": select(true => *[_type == "b"])}', {"a", "b"}),
        ("1 + 2", set()),
        ("$doc.title", set()),
        ("releases::all()", {"system.release"}),
        ("fn q::f($r) = $r->{'s': *[_type == 'z']}; *[_type == 'y']{'f': q::f(ref)}",
         {"y", "z"}),
    ],
)
def test_pinned_scans(text: str, expected: set[str]) -> None:
    assert types(text) == frozenset(expected)


@pytest.mark.parametrize(
    "text",
    [
        "*",
        "*[0]",
        "count(*)",
        '*[_id == "x"]',
        '*[_type == "a" || x]',
        '*[!(_type == "a")]',
        '*[_type != "a"]',
        '*[_type match "a*"]',
        "*[_type == $t]",
        "*[_type in $types]",
        '*[_type in ["a", ...$more]]',
        '*[_type == "a"]{"all": *}',
        '*[_type == "a"]{"n": *[references(^._id)]}',
        "fn q::f($r) = $r->{'s': *[x]}; q::f(ref)",
        "*._id",
        '*[_type == "a"] + *',
        'documents::incomingGlobalDocumentReferenceCount()',
    ],
)
def test_unpinned_scans_are_any_type(text: str) -> None:
    assert types(text) is None


def test_params_pin_types_when_known() -> None:
    assert types("*[_type == $t]", {"t": "post"}) == frozenset({"post"})
    assert types("*[_type in $ts]", {"ts": ["a", "b"]}) == frozenset({"a", "b"})
    assert types("*[_type in $ts]", {"ts": "a"}) is None
    assert types("*[_type == $t]", {"other": 1}) is None


def test_derefs() -> None:
    assert derefs(parse("*[_type == 'post']{author->}"))
    assert derefs(parse("*[_type == 'post']{'a': author->name}"))
    assert derefs(parse("*{'c': categories[]->title}"))
    assert derefs(parse("documents::get($id)"))
    assert derefs(parse("fn q::f($r) = $r->{name}; *{'x': q::f(ref)}"))
    assert not derefs(parse("*[_type == 'post']{author}"))
    assert not derefs(parse("a - b"))


def test_parameters() -> None:
    assert parameters(parse("*[slug.current == $slug && $x > 1]{'n': $n}")) == {"slug", "x", "n"}
    assert parameters(parse("fn q::f($r) = $r{a}; q::f($arg)")) == {"arg"}
    assert parameters(parse("1")) == frozenset()


def test_constant_value() -> None:
    def value(text: str) -> object:
        return constant_value(parse(text).root)

    assert value("1 + 2 * 3") == 7
    assert value("-(2 ** 3)") == -8
    assert value("'a' + 'b'") == "ab"
    assert value("(7 % 3)") == 1
    assert value("-7 % 3") == -1
    assert value("7.5 % 2") == 1.5
    assert value("2 ** -1") == 0.5
    assert value("1 / 0") is NOT_CONSTANT
    assert value("9 ** 9 ** 9") is NOT_CONSTANT  # overflows a double; must not hang
    assert value("(-8) ** 0.5") is NOT_CONSTANT
    assert value("1e308 * 10") is NOT_CONSTANT
    assert value("4 / 2") == 2.0
    assert value("2 ** 3") == 8
    assert value("a + 1") is NOT_CONSTANT
    assert value("'a' * 2") is NOT_CONSTANT
    assert value("+'a'") is NOT_CONSTANT
    assert value("true") is True
    assert constant_value(n.Parameter("p"), {"p": 3}) == 3


def test_attribute_name() -> None:
    def name(text: str) -> str | None:
        return attribute_name(parse(text).root)

    assert name("title") == "title"
    assert name("author->") == "author"
    assert name("author->name") == "author"
    assert name("tags[]") == "tags"
    assert name("tags[0]") == "tags"
    assert name("tags[x == 1]") == "tags"
    assert name("tags[1..2]") == "tags"
    assert name("tags[]{a}") == "tags"
    assert name("author{name}") == "author"
    assert name("(title)") == "title"
    assert name("a.b") is None
    assert name("count(x)") is None
    assert name("1") is None


# --- soundness: a pinned result covers every type a document can have and still match ------

TYPES = ["a", "b", "c"]
Truth = Callable[[str, tuple[bool, ...]], bool]


@dataclass(frozen=True)
class Formula:
    """A filter over ``_type`` atoms and free boolean atoms (``x0``, ``x1``), with its
    truth as a function of the document's type and the free atoms' values."""

    text: str
    truth: Truth


def _type_is(name: str) -> Formula:
    return Formula(f'_type == "{name}"', lambda t, free: t == name)


def _type_in(names: list[str]) -> Formula:
    listed = ", ".join(f'"{t}"' for t in names)
    return Formula(f"_type in [{listed}]", lambda t, free: t in names)


def _free(i: int) -> Formula:
    return Formula(f"x{i}", lambda t, free: free[i])


def _both(a: Formula, op: str, b: Formula) -> Formula:
    if op == "&&":
        return Formula(f"({a.text} && {b.text})",
                       lambda t, free: a.truth(t, free) and b.truth(t, free))
    return Formula(f"({a.text} || {b.text})",
                   lambda t, free: a.truth(t, free) or b.truth(t, free))


def _not(a: Formula) -> Formula:
    return Formula(f"!({a.text})", lambda t, free: not a.truth(t, free))


formulas = st.recursive(
    st.sampled_from(TYPES).map(_type_is)
    | st.lists(st.sampled_from(TYPES), max_size=3).map(_type_in)
    | st.sampled_from([0, 1]).map(_free),
    lambda inner: st.builds(_both, inner, st.sampled_from(["&&", "||"]), inner)
    | inner.map(_not),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(formulas)
def test_pinned_types_are_sound(formula: Formula) -> None:
    query = parse(f"*[{formula.text}]")
    result = scanned_types(query)
    assert isinstance(query.root, n.Filter)
    assert pinned_types(query.root.expr) == result
    if result is None:
        return
    for doc_type, free in product([*TYPES, "other"], product([False, True], repeat=2)):
        if formula.truth(doc_type, free):
            assert doc_type in result, (formula.text, doc_type, free)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([*TYPES, "d", "e.f", "sanity.imageAsset"]), min_size=1))
def test_type_lists_pin_exactly(names: list[str]) -> None:
    listed = ", ".join(f'"{t}"' for t in names)
    assert types(f"*[_type in [{listed}]]") == frozenset(names)
    either = " || ".join(f'_type == "{t}"' for t in names)
    assert types(f"*[({either}) && defined(slug)]") == frozenset(names)
