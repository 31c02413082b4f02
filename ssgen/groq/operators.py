"""GROQ binary and unary operators on values (spec section 9), as plain functions.

Each binary operator is ``(left, right) -> value``. Numbers are IEEE doubles: results
that are NaN or infinite (division by zero, overflow, complex powers) are null; ``%``
keeps the dividend's sign (``math.fmod``), as JavaScript does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ssgen.groq import matching
from ssgen.groq.values import DateTime, Path, equal, hash_key, number, partial_compare

BinaryOp = Callable[[Any, Any], Any]


def _is_num(value: Any) -> bool:
    t = type(value)
    return t is int or t is float


def op_eq(a: Any, b: Any) -> Any:
    """``==``."""
    return equal(a, b)


def op_ne(a: Any, b: Any) -> Any:
    """``!=``."""
    return not equal(a, b)


def op_lt(a: Any, b: Any) -> Any:
    """``<``."""
    c = partial_compare(a, b)
    return None if c is None else c < 0


def op_le(a: Any, b: Any) -> Any:
    """``<=``."""
    c = partial_compare(a, b)
    return None if c is None else c <= 0


def op_gt(a: Any, b: Any) -> Any:
    """``>``."""
    c = partial_compare(a, b)
    return None if c is None else c > 0


def op_ge(a: Any, b: Any) -> Any:
    """``>=``."""
    c = partial_compare(a, b)
    return None if c is None else c >= 0


def op_in(a: Any, b: Any) -> Any:
    """``a in array`` / ``a in path(...)``."""
    t = type(b)
    if t is list:
        key = hash_key(a)
        if key is None:
            return False
        return any(equal(a, item) for item in b)
    if t is Path:
        if type(a) is Path:
            return b.matches(a.pattern)
        return b.matches(a) if type(a) is str else None
    return None


def op_match(a: Any, b: Any) -> Any:
    """``text match pattern``."""
    return matching.match(a, b)


def op_add(a: Any, b: Any) -> Any:
    """``+``: numbers, strings, arrays, objects, datetime + seconds."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return number(a + b)
    if ta is str and tb is str:
        return a + b
    if ta is list and tb is list:
        return a + b
    if ta is dict and tb is dict:
        return {**a, **b}
    if ta is DateTime and (tb is int or tb is float):
        return a.add_seconds(b)
    if tb is DateTime and (ta is int or ta is float):
        return b.add_seconds(a)
    return None


def op_sub(a: Any, b: Any) -> Any:
    """``-``: numbers, datetime - datetime (seconds), datetime - seconds."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return number(a - b)
    if ta is DateTime:
        if tb is DateTime:
            return number((a.ms - b.ms) / 1000)
        if tb is int or tb is float:
            return a.add_seconds(-b)
    return None


def op_mul(a: Any, b: Any) -> Any:
    """``*``."""
    if _is_num(a) and _is_num(b):
        return number(float(a) * b) if type(a) is float or type(b) is float else number(a * b)
    return None


def op_div(a: Any, b: Any) -> Any:
    """``/``: division by zero gives null."""
    if _is_num(a) and _is_num(b):
        if b == 0:
            return None
        return number(a / b)
    return None


def op_mod(a: Any, b: Any) -> Any:
    """``%``: the remainder has the dividend's sign; modulo zero gives null."""
    if _is_num(a) and _is_num(b):
        if b == 0:
            return None
        if type(a) is int and type(b) is int:
            r = abs(a) % abs(b)
            return number(-r if a < 0 else r)
        return number(math.fmod(a, b))
    return None


def op_pow(a: Any, b: Any) -> Any:
    """``**``: overflow, complex and undefined results give null."""
    if _is_num(a) and _is_num(b):
        try:
            return number(math.pow(a, b))
        except (OverflowError, ValueError):
            return None
    return None


BINARY: dict[str, BinaryOp] = {
    "==": op_eq, "!=": op_ne, "<": op_lt, "<=": op_le, ">": op_gt, ">=": op_ge,
    "in": op_in, "match": op_match, "+": op_add, "-": op_sub, "*": op_mul, "/": op_div,
    "%": op_mod, "**": op_pow,
}


def op_not(value: Any) -> Any:
    """``!``: three-valued."""
    if value is True:
        return False
    if value is False:
        return True
    return None


def op_neg(value: Any) -> Any:
    """Unary ``-``."""
    return number(-value) if _is_num(value) else None


def op_pos(value: Any) -> Any:
    """Unary ``+``."""
    return value if _is_num(value) else None


def in_range(value: Any, low: Any, high: Any, inclusive: bool) -> Any:
    """``value in low..high`` (inclusive) / ``value in low...high``."""
    left = partial_compare(value, low)
    if left is None:
        return None
    right = partial_compare(value, high)
    if right is None:
        return None
    if inclusive:
        return left >= 0 and right <= 0
    return left >= 0 and right < 0
