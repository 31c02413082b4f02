"""Site configuration: ``ssgen.toml`` -> frozen dataclasses, every mistake named with file:line.

Owns the TOML reader with positions (``toml``), the ``[source]``, ``[deploy]`` and
``[images]`` tables (``source``, ``deploy``, ``images``), the whole-site ``Config`` (the
``load`` package: one module a table, ``assemble`` on top) and ``preread``, a guess at
``[source]`` made before any of those is imported. Exposes ``load_config`` and ``Config``,
loaded on first use: importing ``ssgen.config.preread`` imports nothing else. May import
groq (to check queries while loading) and errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ssgen.config.load import Config, load_config

__all__ = ["Config", "load_config"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ssgen.config import load

        return getattr(load, name)
    raise AttributeError(f"module 'ssgen.config' has no attribute {name!r}")
