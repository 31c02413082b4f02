"""Site configuration: ``ssgen.toml`` -> frozen dataclasses, every mistake named with file:line.

Owns the TOML reader with positions (``toml``), the ``[source]``, ``[deploy]`` and
``[images]`` tables (``source``, ``deploy``, ``images``) and the whole-site ``Config``
(the ``load`` package: one module a table, ``assemble`` on top). Exposes ``load_config``
and ``Config``. May import groq (to check queries while loading) and errors.
"""

from ssgen.config.load import Config, load_config

__all__ = ["Config", "load_config"]
