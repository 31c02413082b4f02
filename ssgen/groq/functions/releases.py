"""GROQ ``releases::`` functions (contentReleases feature): all."""

from __future__ import annotations

from typing import Any

from ssgen import shells
from ssgen.groq.functions.registry import FunctionSpec, register
from ssgen.groq.runtime import Scope


def all_(scope: Scope) -> Any:
    """``releases::all()``: every ``system.release`` document."""
    return list(shells.filled_all(scope.ctx.dataset.of_type("system.release")))


register(FunctionSpec("releases", "all", 0, 0, all_))
