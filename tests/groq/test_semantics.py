"""GROQ semantics that trip Python up: IEEE doubles, bool vs number, cross-type equality
and ordering, three-valued logic, datetimes, code-point string order, JS number format."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssgen.errors import GroqEvaluationError
from ssgen.groq import Dataset, evaluate, parse
from ssgen.groq.values import DateTime, format_number, js_round, total_compare

NOW = datetime(2024, 2, 29, 23, 59, 58, 250000, tzinfo=UTC)


def ev(text: str, docs: list[dict[str, Any]] | None = None, **params: Any) -> Any:
    return evaluate(text, docs or [], params, NOW)


# --- numbers are IEEE doubles -------------------------------------------------------------


@pytest.mark.parametrize("query", [
    "1 / 0", "-1 / 0", "0 / 0", "1 % 0", "2 ** 2000", "(-8) ** (1.0 / 3)", "0 ** -1",
    "1e308 * 10", "-1e308 * 10",
])
def test_nan_infinity_overflow_and_complex_are_null(query: str) -> None:
    assert ev(query) is None


def test_integers_beyond_2_53_round_like_doubles() -> None:
    assert ev("9007199254740992 + 1") == 9007199254740992
    assert ev("0.1 + 0.2") == 0.30000000000000004


def test_integral_results_are_ints_in_json() -> None:
    result = ev("[1.5 * 2, 10 / 4, 7 / 7]")
    assert result == [3, 2.5, 1]
    assert type(result[0]) is int and type(result[2]) is int


@pytest.mark.parametrize(("query", "expected"), [
    ("-7 % 3", -1), ("7 % -3", 1), ("-7 % -3", -1), ("7 % 3", 1),
    ("5.5 % 2", 1.5), ("-5.5 % 2", -1.5), ("0 % 5", 0),
])
def test_modulo_has_the_sign_of_the_dividend(query: str, expected: float) -> None:
    assert ev(query) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ("round(2.5)", 3), ("round(-2.5)", -3), ("round(0.5)", 1), ("round(-0.5)", -1),
    ("round(1.4999)", 1), ("round(-1.5)", -2), ("round(3.14159, 2)", 3.14),
    ("round(2.675, 2)", 2.67),  # 2.675 is 2.67499999... as a double, as in JS toFixed
    ("round(-3.14159, 3)", -3.142), ("round(5, 2)", 5),
    ("round(1, -1)", None), ("round(1, 1.5)", None), ("round(\"1\")", None),
    ("round(true)", None),
])
def test_round_is_half_away_from_zero(query: str, expected: Any) -> None:
    assert ev(query) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ("round(1.5, 100)", 1.5), ("round(1.23456, 20)", 1.23456), ("round(0, 17)", 0),
    ("round(1, 101.5)", None), ("round(1, 1e400)", None),
])
def test_round_precision_up_to_100_as_groq_js(query: str, expected: Any) -> None:
    assert ev(query) == expected


@pytest.mark.parametrize("precision", [101, 2000055, 10**20])
def test_round_precision_beyond_100_fails_the_query_with_its_range(precision: int) -> None:
    # groq-js: "toFixed() digits argument must be between 0 and 100"; this once raised
    # decimal.InvalidOperation out of the engine.
    with pytest.raises(GroqEvaluationError, match=r"round\(\): precision .* \(0 to 100\)"):
        ev(f"round(0, {precision})")


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_round_property_half_away_from_zero(x: float) -> None:
    r = js_round(x)
    assert r is not None
    assert abs(r - x) <= 0.5
    if abs(r - x) == 0.5:
        assert abs(r) > abs(x)


# --- bool is not a number -------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expected"), [
    ("true + 1", None), ("true * 2", None), ("-true", None), ("+false", None),
    ("true == 1", False), ("false == 0", False), ("1 in [true]", False),
    ("true in [1]", False), ("math::sum([true, 1])", None), ("true > 0", None),
    ("round(true)", None), ("string(true)", "true"), ("1 in 0..true", None),
])
def test_bool_is_not_a_number(query: str, expected: Any) -> None:
    assert ev(query) == expected
    if expected is not None:
        assert type(ev(query)) is type(expected)


# --- equality and ordering across types -------------------------------------------------------


@pytest.mark.parametrize(("query", "expected"), [
    ("1 == 1.0", True), ("\"1\" == 1", False), ("null == null", True), ("1 == null", False),
    ("[] == []", False), ("{} == {}", False), ("[1] == [1]", False),
    ("1 != \"1\"", True), ("1 < \"2\"", None), ("\"a\" < 1", None), ("null < 1", None),
    ("[1] < [2]", None), ("true > false", True), ("false < true", True),
    ("dateTime(\"2020-01-01T00:00:00Z\") == dateTime(\"2020-01-01T01:00:00+01:00\")", True),
    ("dateTime(\"2020-01-01T00:00:00Z\") < \"2021\"", None),
    ("2 in 1..3", True), ("3 in 1...3", False), ("\"b\" in \"a\"..\"c\"", True),
    ("1 in \"a\"..\"c\"", None),
])
def test_equality_and_partial_comparison(query: str, expected: Any) -> None:
    assert ev(query) == expected


def test_order_sorts_across_types_by_type_then_value_and_is_stable() -> None:
    docs = [
        {"_id": "a", "v": "b"}, {"_id": "b", "v": 2}, {"_id": "c", "v": True},
        {"_id": "d", "v": None}, {"_id": "e", "v": 1.5}, {"_id": "f", "v": "a"},
        {"_id": "g", "v": False}, {"_id": "h", "v": [1]}, {"_id": "i", "v": 2},
    ]
    assert ev("*|order(v)._id", docs) == ["e", "b", "i", "f", "a", "g", "c", "d", "h"]
    assert ev("*|order(v desc)._id", docs) == ["d", "h", "c", "g", "a", "f", "b", "i", "e"]


def test_order_multiple_keys_with_mixed_directions() -> None:
    docs = [{"_id": str(i), "a": i % 2, "b": i} for i in range(6)]
    assert ev("*|order(a desc, b asc).b", docs) == [1, 3, 5, 0, 2, 4]
    assert ev("*|order(a, b desc).b", docs) == [4, 2, 0, 5, 3, 1]


def test_total_compare_puts_datetimes_first() -> None:
    dt = DateTime.parse("2020-01-01T00:00:00Z")
    assert total_compare(dt, 1) < 0
    assert total_compare(1, "a") < 0
    assert total_compare("a", False) < 0
    assert total_compare(False, None) < 0
    assert total_compare([1], {"a": 1}) == 0


# --- three-valued logic -------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expected"), [
    ("null && false", False), ("false && null", False), ("null && true", None),
    ("true && null", None), ("true && true", True), ("1 && true", None),
    ("null || true", True), ("true || null", True), ("null || false", None),
    ("false || false", False), ("\"x\" || false", None),
    ("!null", None), ("!true", False), ("!1", None),
])
def test_three_valued_and_or_not(query: str, expected: Any) -> None:
    assert ev(query) is expected


def test_filters_keep_only_true() -> None:
    docs = [{"_id": "a", "x": 1}, {"_id": "b"}, {"_id": "c", "x": "1"}]
    assert ev("*[x == 1 || y == 2]._id", docs) == ["a"]
    assert ev("*[!(x == 1)]._id", docs) == ["b", "c"]
    assert ev("*[x > 0]._id", docs) == ["a"]


# --- datetimes ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2002-10-02T12:34:56Z", "2002-10-02T12:34:56Z"),
    ("2002-10-02T12:34:56+01:00", "2002-10-02T11:34:56Z"),
    ("2002-10-02T12:34:56.5Z", "2002-10-02T12:34:56.500Z"),
    ("2002-10-02T12:34:56.123456789-02:30", "2002-10-02T15:04:56.123Z"),
    ("2002-10-02T12:34:56.000Z", "2002-10-02T12:34:56Z"),
    ("2002-10-02 12:34:56Z", None), ("2002-10-02T12:34:56", None), ("2002-10-02", None),
    ("2002-13-02T12:34:56Z", None), ("2002-02-30T00:00:00Z", None),
    ("2002-10-02T12:34:56z", None), (" 2002-10-02T12:34:56Z", None),
])
def test_datetime_parsing_is_exact_rfc3339_with_ms_precision(text: str, expected: Any) -> None:
    assert ev("dateTime($t)", t=text) == expected


def test_datetime_arithmetic() -> None:
    assert ev('dateTime("2020-01-01T00:00:00Z") + 90') == "2020-01-01T00:01:30Z"
    assert ev('dateTime("2020-01-01T00:00:00Z") - 0.25') == "2019-12-31T23:59:59.750Z"
    assert ev('dateTime("2020-01-02T00:00:00Z") - dateTime("2020-01-01T00:00:00Z")') == 86400
    assert ev('dateTime("2020-01-01T00:00:00Z") + "x"') is None
    assert ev('string(dateTime("2020-01-01T00:00:00.5+00:00"))') == "2020-01-01T00:00:00.500Z"


def test_now_is_the_given_instant_read_once() -> None:
    assert ev("now()") == "2024-02-29T23:59:58.250Z"
    assert ev("dateTime::now() == dateTime(now())") is True
    offset = datetime(2024, 3, 1, 1, 59, 58, 250000, tzinfo=timezone(timedelta(hours=2)))
    assert evaluate("now()", [], None, offset) == "2024-02-29T23:59:58.250Z"
    many = evaluate("[now(), now(), now()]", [], None)
    assert len(set(many)) == 1


def test_naive_now_is_rejected() -> None:
    with pytest.raises(GroqEvaluationError, match="timezone-aware"):
        evaluate("now()", [], None, datetime(2024, 1, 1))


# --- strings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expected"), [
    ('"a" < "b"', True), ('"Z" < "a"', True), ('"z" < "é"', True), ('"ab" < "abc"', True),
    ('"abc" < "abd"', True), ('"" < "a"', True),
    # By code point: U+1F600 is above U+FFFF (UTF-16 code units would say the opposite).
    ('"\\uffff" < "😀"', True),
])
def test_string_comparison_by_code_point(query: str, expected: bool) -> None:
    assert ev(query) is expected


def test_length_counts_code_points() -> None:
    assert ev('length("héllo😀")') == 6
    assert ev('string::split("a😀b", "")') == ["a", "😀", "b"]


# --- JavaScript number formatting -----------------------------------------------------------------


@pytest.mark.parametrize(("value", "text"), [
    (1, "1"), (-1, "-1"), (3.0, "3"), (0.1, "0.1"), (-0.0, "0"), (1.5e-7, "1.5e-7"),
    (1e-7, "1e-7"), (0.000001, "0.000001"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
    (123456789012345680000.0, "123456789012345680000"), (1.7976931348623157e308,
                                                         "1.7976931348623157e+308"),
    (5e-324, "5e-324"), (2**60, "1152921504606847000"), (0.30000000000000004,
                                                         "0.30000000000000004"),
    (-123.456, "-123.456"), (1e300, "1e+300"), (12e-10, "1.2e-9"),
])
def test_string_formats_numbers_like_javascript(value: float, text: str) -> None:
    assert format_number(value) == text
    assert ev("string($n)", n=value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_format_round_trips_and_uses_exponent_only_outside_js_range(x: float) -> None:
    text = format_number(x)
    assert float(text) == x
    magnitude = abs(x)
    # JavaScript writes fixed notation for 1e-6 <= |x| < 1e21 (Number::toString).
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        assert "e" not in text
    else:
        assert "e" in text


# --- params ------------------------------------------------------------------------------------


def test_missing_param_is_an_error_that_names_it() -> None:
    with pytest.raises(GroqEvaluationError, match=r"\$slug"):
        evaluate('*[slug.current == $slug]', [], {})
    with pytest.raises(GroqEvaluationError, match=r"\$a, \$b"):
        evaluate('[$b, $a]', [], {"c": 1})


def test_params_are_json_values() -> None:
    assert ev("$p", p=(1, 2)) == [1, 2]
    assert ev("$p.a", p={"a": None}) is None
    assert ev("$p", p=datetime(2020, 1, 1, tzinfo=UTC)) == "2020-01-01T00:00:00Z"


def test_query_reused_with_different_params() -> None:
    query = parse("*[_id == $id][0].n")
    data = Dataset([{"_id": "a", "n": 1}, {"_id": "b", "n": 2}])
    assert [query.evaluate(data, {"id": i}) for i in "abc"] == [1, 2, None]


def test_math_functions_skip_nulls_and_reject_other_types() -> None:
    assert ev("math::sum([1, null, 2.5])") == 3.5
    assert ev("math::avg([])") is None
    assert ev("math::min([3, null, -1])") == -1
    assert ev('math::max([1, "2"])') is None
    assert math.isclose(ev("math::avg([1, 2, 2])"), 5 / 3)


# --- score() ---------------------------------------------------------------------------------


def test_score_starts_at_zero_adds_true_predicates_and_sorts_descending() -> None:
    docs = [{"_id": "x", "a": 0}, {"_id": "y", "a": 2}, {"_id": "z", "a": 5}]
    result = ev("*|score(a > 1, a > 3)", docs)
    assert [(r["_id"], r["_score"]) for r in result] == [("z", 2), ("y", 1), ("x", 0)]
    assert ev("*|score(a > 1)|score(a > 3)", docs) == result
    assert [r["_score"] for r in ev("*|score(a > 1 && a > 3)", docs)] == [2, 0, 0]


def test_score_with_match_and_boost_ranks_by_relevance() -> None:
    docs = [{"_id": "a", "t": "milk"}, {"_id": "b", "t": "milk milk bread"},
            {"_id": "c", "t": "bread"}]
    ranked = ev('*|score(t match "milk")._id', docs)
    assert ranked == ["b", "a", "c"]
    boosted = ev('*|score(boost(t match "bread", 10), t match "milk")._id', docs)
    assert boosted[0] == "b" and boosted[-1] == "a"
