"""GROQ ``dateTime::`` functions: now."""

from __future__ import annotations

from typing import Any

from ssgen.groq.functions.registry import FunctionSpec, register
from ssgen.groq.runtime import Scope


def now(scope: Scope) -> Any:
    """``dateTime::now()``: the evaluation's ``now`` as a datetime."""
    return scope.ctx.now


register(FunctionSpec("dateTime", "now", 0, 0, now))
