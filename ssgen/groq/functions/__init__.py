"""The built-in GROQ functions, by namespace: ``lookup`` and ``lookup_pipe``.

The parser checks every call against this registry (unknown function or wrong arity is
a syntax error at parse time); the evaluator calls ``FunctionSpec.impl`` (the calling
convention is in registry.py). Each namespace lives in its own module that registers
its functions in ``registry``; they are imported here on first lookup.
"""

from __future__ import annotations

import threading

from ssgen.groq.functions.registry import FUNCTIONS, PIPE_FUNCTIONS, FunctionSpec

__all__ = ["FUNCTIONS", "PIPE_FUNCTIONS", "FunctionSpec", "lookup", "lookup_pipe"]


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
            if info.name != "registry":
                importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
