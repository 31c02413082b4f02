"""The ``[check]`` table of ``ssgen.toml``: how ``ssgen check`` and ``ssgen build --check``
treat external links.

Owns ``CheckConfig`` and its validation. ``external`` (default false): also look up
off-site URLs; ``external_ttl`` seconds a looked-up result is reused (default a day);
``external_concurrency`` requests at once (16), ``external_per_host`` at once to any one
host (2), ``external_timeout`` seconds per request (10); ``ignore``: URL prefixes never
checked (internal paths such as ``/drafts/`` or external ones such as
``https://www.linkedin.com/``). Not part of the site's fingerprint: it changes no page.
"""

from __future__ import annotations

from typing import Any

from ssgen.config.toml import BOOL, INT, STRS, TomlContext, take
from ssgen.fastclass import dataclass

_CHECK = {"external": (BOOL, False), "external_ttl": (INT, 86_400),
          "external_concurrency": (INT, 16), "external_per_host": (INT, 2),
          "external_timeout": (INT, 10), "ignore": (STRS, ())}


@dataclass(frozen=True)
class CheckConfig:
    """``[check]``: see the module doc."""

    external: bool = False
    external_ttl: int = 86_400
    external_concurrency: int = 16
    external_per_host: int = 2
    external_timeout: int = 10
    ignore: tuple[str, ...] = ()


def parse_check(raw: dict[str, Any] | None, ctx: TomlContext) -> CheckConfig:
    """Validate ``[check]``."""
    values = take(dict(raw or {}), _CHECK, "check", ctx)
    if values["external_ttl"] < 0:
        raise ctx.error("check.external_ttl", "must be 0 or more seconds")
    for key in ("external_concurrency", "external_per_host", "external_timeout"):
        if values[key] < 1:
            raise ctx.error(f"check.{key}", f"must be a positive integer, not {values[key]}")
    values["ignore"] = tuple(values["ignore"])
    return CheckConfig(**values)


__all__ = ["CheckConfig", "parse_check"]
