"""The registry of built-in GROQ functions, by namespace, with their arity.

The parser checks every call against this registry (unknown function or wrong arity is
a syntax error at parse time); the evaluator calls ``FunctionSpec.impl``. Each
namespace lives in its own module that registers its functions with ``register``.

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

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ssgen.groq.nodes import Node
    from ssgen.groq.runtime import Closure

CompileFn = Callable[["Node"], "Closure"]


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One built-in: where it lives, how many arguments it takes, and its implementation.

    ``max_args`` None means variadic. ``pipe`` functions are called as ``base | name(...)``.
    The calling convention of ``impl`` is owned by the evaluator (see evaluate.py).
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
    """Add a built-in to the registry (called by the namespace modules at import)."""
    if spec.pipe:
        PIPE_FUNCTIONS[spec.name] = spec
    else:
        FUNCTIONS[(spec.namespace, spec.name)] = spec


def lookup(namespace: str, name: str) -> FunctionSpec | None:
    """The built-in ``namespace::name``, or None when there is none."""
    _load()
    return FUNCTIONS.get((namespace, name))


def lookup_pipe(name: str) -> FunctionSpec | None:
    """The pipe function ``name``, or None when there is none."""
    _load()
    return PIPE_FUNCTIONS.get(name)


_loaded = False
_load_lock = threading.RLock()


def _load() -> None:
    # Namespace modules import the evaluator's helpers; import them on first use to
    # keep the parser importable on its own. The flag is set only once every module
    # is imported, under a lock, so concurrent first parses (serve's threads) never
    # see a half-filled registry.
    global _loaded
    if _loaded:
        return
    with _load_lock:
        if _loaded:
            return
        import importlib
        import pkgutil

        for info in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
