"""The table of built-in GROQ functions: ``FunctionSpec`` and ``register``.

The namespace modules next to this one register their functions here when imported;
the package (``ssgen.groq.functions``) imports them on first lookup. Keeping the table in
its own module lets the namespace modules import it without importing the package that
imports them.

Calling convention of ``impl`` (owned by the evaluator, ssgen/groq/compile.py):

- plain functions (``lazy=False, pipe=False``): ``impl(scope, *values) -> value``. The
  arguments are evaluated first (in the caller's scope) and passed as values; ``scope``
  gives ``scope.value`` (``@``) and ``scope.ctx`` (dataset, params, now, trace).
- lazy functions (``lazy=True``): ``impl(compile_node, args) -> Closure`` is called once
  at compile time with the argument *nodes*; ``compile_node(node)`` compiles a node
  into a ``Closure`` ``(scope) -> value``. The returned closure runs per evaluation.
- pipe functions (``pipe=True``): ``impl(compile_node, args) -> PipeClosure``, where a
  ``PipeClosure`` is ``(scope, base) -> value`` and ``base`` is already known to be a
  list (the evaluator returns null for other bases).

Values are those of ssgen.groq.values: JSON data plus ``DateTime`` and ``Path``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ssgen.fastclass import dataclass
from ssgen.groq.nodes import Node
from ssgen.groq.runtime import Closure

CompileFn = Callable[[Node], Closure]


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One built-in: where it lives, how many arguments it takes, and its implementation.

    ``max_args`` None means variadic. ``pipe`` functions are called as ``base | name(...)``.
    """

    namespace: str
    name: str
    min_args: int
    max_args: int | None
    impl: Callable[..., Any]
    pipe: bool = False
    lazy: bool = False


FUNCTIONS: dict[tuple[str, str], FunctionSpec] = {}
PIPE_FUNCTIONS: dict[str, FunctionSpec] = {}


def register(spec: FunctionSpec) -> None:
    """Add a built-in to the table (called by the namespace modules at import)."""
    if spec.pipe:
        PIPE_FUNCTIONS[spec.name] = spec
    else:
        FUNCTIONS[(spec.namespace, spec.name)] = spec
