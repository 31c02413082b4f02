"""The ``ssgen`` command line: the typer app, one module per command group.

``common`` holds the shared options, the error -> exit-code mapping and the summary;
``build`` (build, query, revalidate), ``tools`` (init, inspect, pull), ``serve`` and
``deploy`` each register commands; ``app`` assembles them. Exposes ``app``, ``main``
and ``run`` (the console entry point). May import every other package.
"""

from ssgen.cli.app import app, main, run

__all__ = ["app", "main", "run"]
