"""GROQ ``math::`` functions: sum, avg, min, max over arrays of numbers (nulls skipped)."""

from __future__ import annotations

from typing import Any

from ssgen.groq.functions.registry import FunctionSpec, register
from ssgen.groq.runtime import Scope
from ssgen.groq.values import is_number, number


def _numbers(value: Any) -> list[int | float] | None:
    """The non-null elements when all are numbers, else None."""
    if type(value) is not list:
        return None
    out: list[int | float] = []
    for item in value:
        if item is None:
            continue
        if not is_number(item):
            return None
        out.append(item)
    return out


def sum_(scope: Scope, value: Any) -> Any:
    """``math::sum(array)``: 0 for an empty array."""
    nums = _numbers(value)
    if nums is None:
        return None
    total = 0.0
    for n in nums:
        total += n
    return number(total)


def avg(scope: Scope, value: Any) -> Any:
    """``math::avg(array)``: null for an empty array."""
    nums = _numbers(value)
    if not nums:
        return None
    total = 0.0
    for n in nums:
        total += n
    return number(total / len(nums))


def min_(scope: Scope, value: Any) -> Any:
    """``math::min(array)``: null for an empty array."""
    nums = _numbers(value)
    return min(nums) if nums else None


def max_(scope: Scope, value: Any) -> Any:
    """``math::max(array)``: null for an empty array."""
    nums = _numbers(value)
    return max(nums) if nums else None


register(FunctionSpec("math", "sum", 1, 1, sum_))
register(FunctionSpec("math", "avg", 1, 1, avg))
register(FunctionSpec("math", "min", 1, 1, min_))
register(FunctionSpec("math", "max", 1, 1, max_))
