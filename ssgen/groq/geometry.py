"""Planar geometry for the GROQ geo extension: parse geo values, contains, intersects,
and the haversine distance between points. Pure Python, no dependencies."""

from __future__ import annotations

from typing import Any

Geometry = Any


def parse(value: Any) -> Geometry | None:
    """A normalised geometry for a geo value, or None when it is not one."""
    return None


def contains(a: Geometry, b: Geometry) -> bool | None:
    """Whether every point of b is within a."""
    return None


def intersects(a: Geometry, b: Geometry) -> bool | None:
    """Whether a and b share a point."""
    return None


def distance(a: Geometry, b: Geometry) -> float | None:
    """Metres between two points; None unless both are points."""
    return None
