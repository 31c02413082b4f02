"""Robustness: random ASTs and random query text only ever raise ssgen's GROQ errors.

The time bound is pytest-timeout's (no timed assertions): inputs are small, so any
pathological slowness shows up as a timeout failure.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssgen.errors import GroqError
from ssgen.groq import Dataset, parse
from ssgen.groq import nodes as n
from ssgen.groq.functions import FUNCTIONS, PIPE_FUNCTIONS, lookup

NOW = datetime(2024, 1, 1, tzinfo=UTC)
DATA = Dataset([
    {"_id": "a", "_type": "post", "title": "Hello world", "n": 3, "ref": {"_ref": "b"},
     "tags": ["x", "y"], "loc": {"lat": 1, "lng": 2}, "when": "2020-01-01T00:00:00Z",
     "body": [{"_type": "block", "children": [{"_type": "span", "text": "hi"}]}]},
    {"_id": "b", "_type": "author", "name": "B", "n": -1.5, "refs": [{"_ref": "a"}]},
    {"_id": "drafts.a", "_type": "post", "title": None},
])
PARAMS = {"p": 1, "s": "a", "l": [1, "a", None], "o": {"k": "v"}}

lookup("global", "count")  # load the registry
NAMES = st.sampled_from(["_id", "_type", "title", "n", "ref", "refs", "tags", "loc", "when",
                         "body", "name", "missing"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                    st.floats(allow_nan=False, allow_infinity=False, width=32),
                    st.sampled_from([1e308, -0.0, 2**60]), st.text(max_size=6))
LEAVES: st.SearchStrategy[Any] = st.one_of(
    SCALARS.map(n.Value), st.just(n.Everything()), st.just(n.This()),
    st.integers(1, 3).map(n.Parent), st.sampled_from(list(PARAMS)).map(n.Parameter),
    st.sampled_from(["before", "after"]).map(n.Context),
    NAMES.map(lambda name: n.AccessAttribute(None, name)),
)
OPS = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "**", "in",
                       "match"])
FUNCS = sorted(FUNCTIONS.values(), key=lambda s: (s.namespace, s.name))


def _func(spec: Any, args: list[Any]) -> n.FuncCall:
    count = min(max(len(args), spec.min_args),
                spec.max_args if spec.max_args is not None else 3)
    args = (args + [n.Value(1)] * count)[:count]
    return n.FuncCall(spec.namespace, spec.name, tuple(args))


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    lists = st.lists(children, max_size=3)
    obj_attr = st.one_of(
        st.builds(n.ObjectAttributeValue, NAMES, children),
        st.builds(n.ObjectSplat, children),
        st.builds(n.ObjectConditionalSplat, children, children),
    )
    obj = st.lists(obj_attr, max_size=3).map(lambda a: n.Object(tuple(a)))
    return st.one_of(
        st.builds(n.AccessAttribute, children, NAMES),
        st.builds(n.AccessElement, children, st.integers(-3, 3)),
        st.builds(n.Slice, children, st.integers(-3, 3), st.integers(-3, 3), st.booleans()),
        st.builds(n.Filter, children, children),
        st.builds(n.Projection, children, obj),
        st.builds(n.Deref, children), st.builds(n.ArrayCoerce, children),
        st.builds(n.Map, children, children), st.builds(n.FlatMap, children, children),
        st.builds(n.Group, children), obj,
        lists.map(lambda xs: n.Array(tuple(n.ArrayElement(x, i % 2 == 1)
                                           for i, x in enumerate(xs)))),
        st.builds(n.OpCall, OPS, children, children),
        st.builds(n.And, children, children), st.builds(n.Or, children, children),
        st.builds(n.Not, children), st.builds(n.Neg, children), st.builds(n.Pos, children),
        st.builds(n.InRange, children, children, children, st.booleans()),
        st.builds(lambda alts, fb: n.Select(tuple(n.SelectAlternative(c, v) for c, v in alts),
                                            fb),
                  st.lists(st.tuples(children, children), max_size=2),
                  st.none() | children),
        st.builds(_func, st.sampled_from(FUNCS), lists),
        st.builds(lambda base, name, args: n.PipeFuncCall(base, name, tuple(args)), children,
                  st.sampled_from(sorted(PIPE_FUNCTIONS)),
                  st.lists(st.one_of(children, children.map(n.Desc), children.map(n.Asc)),
                           min_size=1, max_size=2)),
    )


ASTS = st.recursive(LEAVES, _extend, max_leaves=12)


@pytest.mark.timeout(120)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ASTS)
def test_random_asts_raise_only_groq_errors(root: Any) -> None:
    query = n.Query(root, "<generated>")
    with contextlib.suppress(GroqError):
        query.evaluate(DATA, PARAMS, NOW, trace=set())


TOKENS = ["*", "[", "]", "{", "}", "(", ")", "_type", "_id", "title", "==", "!=", "<", ">=",
          '"post"', "'a'", "1", "2.5", "-", "+", "**", "%", "/", "->", ".", "..", "...", "^",
          "@", "$p", "$l", "|", "order", "score", "count", "&&", "||", "!", "in", "match",
          ",", ":", "=>", "select", "coalesce", "defined", "references", "asc", "desc",
          "string::split", "math::sum", "geo::distance", "pt::text", "dateTime", "now",
          "array::unique", "diff::changedAny", "anywhere", "boost", "...", "null", "true",
          "fn", "f::g", "=", ";", "$x", "// c\n", "round", "lower", "path"]


@pytest.mark.timeout(120)
@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=14).map(" ".join))
def test_random_token_queries_raise_only_groq_errors(text: str) -> None:
    try:
        query = parse(text)
        query.evaluate(DATA, PARAMS, NOW)
    except GroqError:
        pass


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_random_text_raises_only_groq_errors(text: str) -> None:
    with contextlib.suppress(GroqError):
        parse(text).evaluate(DATA, PARAMS, NOW)
