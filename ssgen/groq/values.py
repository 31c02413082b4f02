"""GROQ values: type names, equality, ordering, numbers, datetimes and paths.

Values are plain JSON data (``None``, ``bool``, ``int``, ``float``, ``str``, ``list``,
``dict``) plus two internal types that only exist during evaluation: ``DateTime`` and
``Path``. ``to_json`` turns a result into plain JSON for callers.

Numbers are IEEE doubles as in the spec: ``bool`` is *not* a number (beware Python's
``isinstance(True, int)``), arithmetic that yields NaN, infinity or a complex number
gives null, and integral results are returned as ``int`` so JSON output matches
JavaScript's (``3`` rather than ``3.0``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from datetime import datetime
from itertools import compress
from typing import Any

# Re-exported: the non-JSON value types live in valuetypes.py.
from ssgen.groq.chunks import Chunks, listed
from ssgen.groq.valuetypes import DateTime as DateTime
from ssgen.groq.valuetypes import Path as Path

_MAX_SAFE = 2**53


# --- types ------------------------------------------------------------------------------


def is_number(value: Any) -> bool:
    """True for int/float (and never for bool)."""
    t = type(value)
    return t is int or t is float


def type_name(value: Any) -> str:
    """The GROQ type of a value: null, boolean, number, string, array, object, datetime, path."""
    if value is None:
        return "null"
    t = type(value)
    if t is bool:
        return "boolean"
    if t is int or t is float:
        return "number"
    if t is str:
        return "string"
    if t is list:
        return "array"
    if t is dict:
        return "object"
    if t is DateTime:
        return "datetime"
    if t is Path:
        return "path"
    return "null"


# --- numbers ----------------------------------------------------------------------------


def number(value: float | int) -> int | float | None:
    """Normalise an arithmetic result: NaN/inf -> None, integral doubles -> int."""
    if type(value) is int:
        if -_MAX_SAFE <= value <= _MAX_SAFE:
            return value
        value = float(value)
    if value != value or value in (math.inf, -math.inf):
        return None
    if float(value).is_integer() and -_MAX_SAFE <= value <= _MAX_SAFE:
        return int(value)
    return value


def format_number(value: int | float) -> str:
    """Format a number as JavaScript's ``String(n)`` does."""
    if type(value) is int:
        if -_MAX_SAFE <= value <= _MAX_SAFE:
            return str(value)
        value = float(value)
    f = float(value)
    if f != f:
        return "NaN"
    if f in (math.inf, -math.inf):
        return "Infinity" if f > 0 else "-Infinity"
    if f == 0:
        return "0"
    return _format_float(f)


def _format_float(f: float) -> str:
    # repr gives the shortest round-tripping digits as JS does; only the layout differs.
    sign = "-" if f < 0 else ""
    digits, exponent = _shortest_digits(abs(f))
    n = exponent + 1  # position of the decimal point relative to the digits
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp = f"e+{e}" if e >= 0 else f"e-{-e}"
    if k == 1:
        return sign + digits + exp
    return sign + digits[0] + "." + digits[1:] + exp


def _shortest_digits(f: float) -> tuple[str, int]:
    """The shortest decimal digits of f (no leading/trailing zeros) and its exponent."""
    text = repr(f)
    mant, _, exp = text.partition("e")
    exponent = int(exp) if exp else 0
    if "." in mant:
        whole, frac = mant.split(".")
    else:
        whole, frac = mant, ""
    if frac == "0":
        frac = ""
    digits = whole + frac
    exponent += len(whole) - 1
    stripped = digits.lstrip("0")
    exponent -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    return digits, exponent


def js_round(value: float | int, precision: int = 0) -> int | float | None:
    """``round()``: half away from zero, optionally to ``precision`` decimals."""
    if precision == 0:
        r = math.floor(abs(value) + 0.5)
        return number(-r if value < 0 else r)
    # toFixed semantics: decimal rounding of the exact binary value, half away from zero.
    from decimal import ROUND_HALF_UP, Decimal

    quant = Decimal(1).scaleb(-precision)
    try:
        rounded = Decimal(float(value)).quantize(quant, rounding=ROUND_HALF_UP)
    except ArithmeticError:
        return number(value)
    return number(float(rounded))


# --- equality and ordering --------------------------------------------------------------

_SCALARS = frozenset({int, float, str, bool})


def equal(a: Any, b: Any) -> bool:
    """The spec's ``Equal``: same type and same simple value (arrays/objects never equal)."""
    if a is None:
        return b is None
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta in _SCALARS:
            return bool(a == b)
        if ta is DateTime:
            return bool(a.ms == b.ms)
        return False
    if (ta is int and tb is float) or (ta is float and tb is int):
        return bool(a == b)
    return False


def hash_key(value: Any) -> Any:
    """A dict key such that equal(a, b) implies hash_key(a) == hash_key(b), or None."""
    t = type(value)
    if t is str:
        return value
    if t is int or t is float:
        return ("n", float(value))
    if t is bool:
        return ("b", value)
    if t is DateTime:
        return ("d", value.ms)
    if value is None:
        return ("null",)
    return None


def partial_compare(a: Any, b: Any) -> int | None:
    """The spec's ``PartialCompare``: -1/0/1, or None when incomparable."""
    ta, tb = type(a), type(b)
    if ta is not tb:
        if (ta is int or ta is float) and (tb is int or tb is float):
            return int((a > b) - (a < b))
        return None
    if ta is str or ta is int or ta is float or ta is bool:
        return int((a > b) - (a < b))
    if ta is DateTime:
        return int((a.ms > b.ms) - (a.ms < b.ms))
    return None


def _type_order(value: Any) -> int:
    t = type(value)
    if t is DateTime:
        return 1
    if t is int or t is float:
        return 2
    if t is str:
        return 3
    if t is bool:
        return 4
    return 5


def total_compare(a: Any, b: Any) -> int:
    """The spec's ``TotalCompare``: a consistent order across types (used by order())."""
    oa, ob = _type_order(a), _type_order(b)
    if oa != ob:
        return -1 if oa < ob else 1
    result = partial_compare(a, b)
    return 0 if result is None else result


class SortKey:
    """Wraps a value so that Python's sort uses ``total_compare`` (for order())."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: SortKey) -> bool:
        return total_compare(self.value, other.value) < 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SortKey) and total_compare(self.value, other.value) == 0

    __hash__ = None  # type: ignore[assignment]


def sort_key(value: Any) -> tuple[int, Any]:
    """A fast tuple key equivalent to ``total_compare`` for one value."""
    order = _type_order(value)
    if order == 1:
        return (1, int(value.ms))
    if order in (2, 3, 4):
        return (order, value)
    return (5, 0)


# --- conversion -------------------------------------------------------------------------


def to_json(value: Any, frozen: Callable[[dict[str, Any]], bool] | None = None) -> Any:
    """Turn an evaluation result into plain JSON data (datetimes as RFC 3339 strings).

    ``frozen(obj)`` says an object is known to hold plain JSON only (a dataset document),
    so it is neither walked nor copied: results stay cheap to return.
    """
    if not _needs_conversion(value, frozen):
        return value
    return _convert(value)


def _convert(value: Any) -> Any:
    t = type(value)
    if t is list:
        return [_convert(v) for v in value]
    if t is dict:
        return {k: _convert(v) for k, v in value.items()}
    if t is DateTime:
        return str(value)
    if t is Path:
        return value.pattern
    return value


def _needs_conversion(value: Any, frozen: Callable[[dict[str, Any]], bool] | None) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is list:
            stack.extend(v)
        elif t is dict:
            if frozen is None or not frozen(v):
                stack.extend(v.values())
        elif t is DateTime or t is Path:
            return True
    return False


def from_json(value: Any) -> Any:
    """Normalise caller-provided data (params): tuples to lists, bool kept, others as is."""
    t = type(value)
    if t is tuple or t is list:
        return [from_json(v) for v in value]
    if t is dict:
        return {str(k): from_json(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return str(DateTime.from_datetime(value))
    return value


def to_string(value: Any) -> str | None:
    """``string()``: numbers JS-style, booleans as true/false, datetimes RFC 3339."""
    t = type(value)
    if t is str:
        return str(value)
    if t is bool:
        return "true" if value else "false"
    if t is int or t is float:
        return format_number(value)
    if t is DateTime:
        return str(value)
    return None


_JSON_SCALARS = (str, int, float, bool, type(None))


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON data with the same types (1 and 1.0 differ, as they print apart);
    identical objects are equal at once, so comparing a result with the last one for
    the same query costs only what changed."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b) or kind is Chunks:  # a kept list in an item: as its list
        if kind is not Chunks and type(b) is not Chunks:
            return False
        a, b, kind = listed(a), listed(b), list
        if type(a) is not list or type(b) is not list:
            return False
    if kind is list:
        # Only the pairs that are not the same object are compared (found in C).
        return len(a) == len(b) and all(
            same_json(a[i], b[i]) for i in compress(range(len(a)), map(operator.is_not, a, b)))
    if kind is dict:
        return bool(a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a))
    return kind in _JSON_SCALARS and bool(a == b)


def slice_bounds(size: int, left: int, right: int, inclusive: bool) -> slice:
    """The Python slice of GROQ's ``[left..right]`` (inclusive) or ``[left...right]``
    over a list of ``size`` items (negative bounds count from the end)."""
    lo = left + size if left < 0 else left
    hi = right + size if right < 0 else right
    if inclusive:
        hi += 1
    return slice(max(lo, 0), max(hi, 0))
