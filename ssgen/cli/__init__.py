"""The ``ssgen`` command line: the typer app, one module per command group.

``common`` holds the shared options, the error -> exit-code mapping and the summary;
``build`` (build, query, revalidate), ``tools`` (init, inspect, pull), ``serve`` and
``deploy`` each register commands; ``app`` assembles them; ``entry.run`` is the console
entry point (a plain ``ssgen build`` skips typer, see ``argv``). Exposes ``app``, ``main``
and ``run``, loaded on first use so the entry point does not import typer. May import
every other package.
"""

from typing import Any

__all__ = ["app", "main", "run"]


def __getattr__(name: str) -> Any:
    if name in ("app", "main"):
        from ssgen.cli import app as module

        return getattr(module, name)
    if name == "run":
        from ssgen.cli.entry import run

        return run
    raise AttributeError(f"module 'ssgen.cli' has no attribute {name!r}")
