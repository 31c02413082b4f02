"""GROQ Geography extension: ``geo()``, ``geo::latLng``, ``contains``, ``intersects``,
``distance``. The geometry itself lives in ssgen/groq/geometry.py."""

from __future__ import annotations

from typing import Any

from ssgen.groq import geometry
from ssgen.groq.functions.registry import FunctionSpec, register
from ssgen.groq.runtime import Scope
from ssgen.groq.values import is_number, number


def geo(scope: Scope, value: Any) -> Any:
    """``geo(x)``: the GeoJSON geometry of a geo point (lat/lng) or geometry, else null."""
    return geometry.parse(value)


def lat_lng(scope: Scope, lat: Any, lng: Any) -> Any:
    """``geo::latLng(lat, lng)``: a GeoJSON point."""
    if not is_number(lat) or not is_number(lng):
        return None
    if not -90 <= lat <= 90 or not -180 <= lng <= 180:
        return None
    return {"type": "Point", "coordinates": [lng, lat]}


def contains(scope: Scope, first: Any, second: Any) -> Any:
    """``geo::contains(a, b)``: every point of b lies within a (planar)."""
    a, b = geometry.parse(first), geometry.parse(second)
    if a is None or b is None:
        return None
    return geometry.contains(a, b)


def intersects(scope: Scope, first: Any, second: Any) -> Any:
    """``geo::intersects(a, b)``: a and b share a point (planar)."""
    a, b = geometry.parse(first), geometry.parse(second)
    if a is None or b is None:
        return None
    return geometry.intersects(a, b)


def distance(scope: Scope, first: Any, second: Any) -> Any:
    """``geo::distance(a, b)``: metres between two points (haversine)."""
    a, b = geometry.parse(first), geometry.parse(second)
    if a is None or b is None:
        return None
    result = geometry.distance(a, b)
    return None if result is None else number(result)


register(FunctionSpec("global", "geo", 1, 1, geo))
register(FunctionSpec("geo", "latLng", 2, 2, lat_lng))
register(FunctionSpec("geo", "contains", 2, 2, contains))
register(FunctionSpec("geo", "intersects", 2, 2, intersects))
register(FunctionSpec("geo", "distance", 2, 2, distance))
