"""Checks several tables of ``ssgen.toml`` share: a GROQ string parses, a number is positive."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssgen.config.toml import TomlContext
from ssgen.errors import GroqSyntaxError

if TYPE_CHECKING:
    from ssgen.groq.nodes import Query


def parse_groq(text: str, key: str, ctx: TomlContext) -> Query:
    """``text`` parsed, or a ConfigError at ``key`` showing where the GROQ is wrong."""
    from ssgen.groq.parser import parse

    try:
        return parse(text)
    except GroqSyntaxError as exc:
        raise ctx.error(key, f"invalid GROQ query\n{exc.render()}") from exc


def positive(value: int | None, key: str, ctx: TomlContext) -> None:
    """A ConfigError at ``key`` unless ``value`` is None or at least 1."""
    if value is not None and value < 1:
        raise ctx.error(key, f"must be a positive integer, not {value}")
