"""GROQ ``string::`` functions: lower, upper, split, startsWith."""

from __future__ import annotations

from typing import Any

from ssgen.groq.functions.registry import FunctionSpec, register
from ssgen.groq.runtime import Scope


def lower(scope: Scope, value: Any) -> Any:
    """``string::lower(s)`` (also global ``lower``)."""
    return value.lower() if type(value) is str else None


def upper(scope: Scope, value: Any) -> Any:
    """``string::upper(s)`` (also global ``upper``)."""
    return value.upper() if type(value) is str else None


def split(scope: Scope, value: Any, sep: Any) -> Any:
    """``string::split(s, sep)``; an empty separator splits into code points."""
    if type(value) is not str or type(sep) is not str:
        return None
    if not value:
        return []
    if not sep:
        return list(value)
    return value.split(sep)


def starts_with(scope: Scope, value: Any, prefix: Any) -> Any:
    """``string::startsWith(s, prefix)``."""
    if type(value) is not str or type(prefix) is not str:
        return None
    return value.startswith(prefix)


register(FunctionSpec("string", "lower", 1, 1, lower))
register(FunctionSpec("string", "upper", 1, 1, upper))
register(FunctionSpec("string", "split", 2, 2, split))
register(FunctionSpec("string", "startsWith", 2, 2, starts_with))
