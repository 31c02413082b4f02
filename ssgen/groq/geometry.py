"""Planar geometry for the GROQ geo extension, in pure Python.

``parse`` turns a geo value (``{"lat", "lng"|"lon"}`` or a GeoJSON geometry) into a
normalised GeoJSON dict, or None when it is not a valid one (bad coordinates, rings that
are not closed, too short, or self-intersecting). ``contains``/``intersects`` work on
the components of two geometries (points, line strings, polygons with holes) in the
plane, as the spec asks; ``distance`` is the haversine distance between two points on
a sphere of the WGS84 equatorial radius.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

Pt = tuple[float, float]
Ring = list[Pt]
Polygon = list[Ring]  # outer ring first, then holes
EARTH_RADIUS_M = 6378137.0

_COORD_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2,
                "Polygon": 2, "MultiPolygon": 3}


# --- parsing ---------------------------------------------------------------------------


def _is_num(v: Any) -> bool:
    return (type(v) is int or type(v) is float) and math.isfinite(v)


def _position(v: Any) -> Pt | None:
    if type(v) is list and 2 <= len(v) <= 3 and all(_is_num(x) for x in v):
        return (float(v[0]), float(v[1]))
    return None


def _positions(v: Any, minimum: int) -> list[Pt] | None:
    if type(v) is not list or len(v) < minimum:
        return None
    out = [_position(p) for p in v]
    return None if any(p is None for p in out) else out  # type: ignore[return-value]


def _ring(v: Any) -> Ring | None:
    ring = _positions(v, 4)
    if ring is None or ring[0] != ring[-1]:
        return None
    if any(ring[i] == ring[i + 1] for i in range(len(ring) - 1)):
        return None
    if _self_intersects_cached(tuple(ring)):
        return None
    return ring


def _polygon(v: Any) -> Polygon | None:
    if type(v) is not list or not v:
        return None
    rings = [_ring(r) for r in v]
    return None if any(r is None for r in rings) else rings  # type: ignore[return-value]


def _valid_coordinates(kind: str, coords: Any) -> bool:
    if kind == "Point":
        return _position(coords) is not None
    if kind == "MultiPoint":
        return _positions(coords, 0) is not None
    if kind == "LineString":
        return _positions(coords, 2) is not None
    if kind == "MultiLineString":
        return type(coords) is list and all(_positions(c, 2) is not None for c in coords)
    if kind == "Polygon":
        return _polygon(coords) is not None
    return type(coords) is list and all(_polygon(c) is not None for c in coords)


def parse(value: Any) -> dict[str, Any] | None:
    """The normalised GeoJSON geometry of a geo value, or None."""
    if type(value) is not dict:
        return None
    kind = value.get("type")
    if kind in _COORD_DEPTH:
        coords = value.get("coordinates")
        if not _valid_coordinates(kind, coords):
            return None
        return {"type": kind, "coordinates": coords}
    if kind == "GeometryCollection":
        members = value.get("geometries")
        if type(members) is not list:
            return None
        parsed = [parse(m) for m in members]
        if any(p is None for p in parsed):
            return None
        return {"type": kind, "geometries": parsed}
    return _lat_lng(value)


def _lat_lng(value: dict[str, Any]) -> dict[str, Any] | None:
    if "lat" not in value or ("lng" in value) == ("lon" in value):
        return None
    lat, lng = value["lat"], value.get("lng", value.get("lon"))
    if not _is_num(lat) or not _is_num(lng):
        return None
    return {"type": "Point", "coordinates": [lng, lat]}


# --- components --------------------------------------------------------------------------


def _components(geo: dict[str, Any]) -> tuple[list[Pt], list[list[Pt]], list[Polygon]]:
    """(points, line strings, polygons) of a parsed geometry."""
    points: list[Pt] = []
    lines: list[list[Pt]] = []
    polygons: list[Polygon] = []
    _collect(geo, points, lines, polygons)
    return points, lines, polygons


def _collect(geo: dict[str, Any], points: list[Pt], lines: list[list[Pt]],
             polygons: list[Polygon]) -> None:
    kind = geo["type"]
    coords: Any = geo.get("coordinates")
    if kind == "Point":
        points.append(_pt(coords))
    elif kind == "MultiPoint":
        points.extend(_pt(c) for c in coords)
    elif kind == "LineString":
        lines.append([_pt(c) for c in coords])
    elif kind == "MultiLineString":
        lines.extend([_pt(c) for c in line] for line in coords)
    elif kind == "Polygon":
        polygons.append([[_pt(c) for c in ring] for ring in coords])
    elif kind == "MultiPolygon":
        polygons.extend([[_pt(c) for c in ring] for ring in poly] for poly in coords)
    else:
        for member in geo["geometries"]:
            _collect(member, points, lines, polygons)


def _pt(c: list[Any]) -> Pt:
    return (float(c[0]), float(c[1]))


# --- primitives ----------------------------------------------------------------------------


def _orient(a: Pt, b: Pt, c: Pt) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(p: Pt, a: Pt, b: Pt) -> bool:
    return (_orient(a, b, p) == 0 and min(a[0], b[0]) <= p[0] <= max(a[0], b[0])
            and min(a[1], b[1]) <= p[1] <= max(a[1], b[1]))


def _segments_intersect(a: Pt, b: Pt, c: Pt, d: Pt) -> bool:
    d1, d2 = _orient(c, d, a), _orient(c, d, b)
    d3, d4 = _orient(a, b, c), _orient(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (_on_segment(a, c, d) or _on_segment(b, c, d) or _on_segment(c, a, b)
            or _on_segment(d, a, b))


def _segments_cross(a: Pt, b: Pt, c: Pt, d: Pt) -> bool:
    """A proper crossing: the segments' interiors cross at one point."""
    d1, d2 = _orient(c, d, a), _orient(c, d, b)
    d3, d4 = _orient(a, b, c), _orient(a, b, d)
    return ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4))


@lru_cache(maxsize=256)
def _self_intersects_cached(ring: tuple[Pt, ...]) -> bool:
    return _self_intersects(list(ring))


def _self_intersects(ring: Ring) -> bool:
    """Whether two non-adjacent edges of a closed ring touch (sweep over x extents)."""
    n = len(ring) - 1
    boxes = []
    for i in range(n):
        (ax, ay), (bx, by) = ring[i], ring[i + 1]
        boxes.append((min(ax, bx), max(ax, bx), min(ay, by), max(ay, by), i))
    boxes.sort()
    for k, (_x0, x1, y0, y1, i) in enumerate(boxes):
        for other in boxes[k + 1:]:
            if other[0] > x1:
                break
            j = other[4]
            if other[3] < y0 or other[2] > y1 or abs(i - j) == 1 or {i, j} == {0, n - 1}:
                continue
            if _segments_intersect(ring[i], ring[i + 1], ring[j], ring[j + 1]):
                return True
    return False


def _in_ring(p: Pt, ring: Ring) -> bool:
    """Point strictly inside or on the boundary of a closed ring (ray casting)."""
    inside = False
    x, y = p
    for i in range(len(ring) - 1):
        a, b = ring[i], ring[i + 1]
        if _on_segment(p, a, b):
            return True
        if (a[1] > y) != (b[1] > y):
            cross_x = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if x < cross_x:
                inside = not inside
    return inside


def _in_polygon(p: Pt, poly: Polygon) -> bool:
    if not _in_ring(p, poly[0]):
        return False
    return not any(_in_ring(p, hole) and not _on_ring(p, hole) for hole in poly[1:])


def _on_ring(p: Pt, ring: Ring) -> bool:
    return any(_on_segment(p, ring[i], ring[i + 1]) for i in range(len(ring) - 1))


def _edges(poly: Polygon) -> list[tuple[Pt, Pt]]:
    return [(ring[i], ring[i + 1]) for ring in poly for i in range(len(ring) - 1)]


def _path_in_polygon(path: list[Pt], poly: Polygon) -> bool:
    if not all(_in_polygon(p, poly) for p in path):
        return False
    edges = _edges(poly)
    for i in range(len(path) - 1):
        a, b = path[i], path[i + 1]
        if any(_segments_cross(a, b, c, d) for c, d in edges):
            return False
        mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        if not _in_polygon(mid, poly):
            return False
    return True


def _polygon_in_polygon(inner: Polygon, outer: Polygon) -> bool:
    if not _path_in_polygon(inner[0], outer):
        return False
    # A hole of the outer polygon inside the inner one leaves part of it uncovered.
    return not any(_in_polygon(hole[0], [inner[0]]) and not
                   any(_in_polygon(hole[0], [h]) for h in inner[1:]) for hole in outer[1:])


# --- predicates ----------------------------------------------------------------------------


def contains(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether every component of b lies within some polygon (or point) of a."""
    a_points, a_lines, a_polys = _components(a)
    b_points, b_lines, b_polys = _components(b)
    if not (b_points or b_lines or b_polys):
        return False
    for p in b_points:
        if not (any(_in_polygon(p, poly) for poly in a_polys) or p in a_points
                or any(_on_path(p, line) for line in a_lines)):
            return False
    for line in b_lines:
        if not any(_path_in_polygon(line, poly) for poly in a_polys):
            return False
    return all(any(_polygon_in_polygon(poly, outer) for outer in a_polys) for poly in b_polys)


def _on_path(p: Pt, path: list[Pt]) -> bool:
    return any(_on_segment(p, path[i], path[i + 1]) for i in range(len(path) - 1))


def _paths_intersect(a: list[Pt], b: list[Pt]) -> bool:
    return any(_segments_intersect(a[i], a[i + 1], b[j], b[j + 1])
               for i in range(len(a) - 1) for j in range(len(b) - 1))


def _path_hits_polygon(path: list[Pt], poly: Polygon) -> bool:
    if any(_in_polygon(p, poly) for p in path):
        return True
    return any(_paths_intersect(path, ring) for ring in poly)


def intersects(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether a and b share at least one point."""
    a_points, a_lines, a_polys = _components(a)
    b_points, b_lines, b_polys = _components(b)
    a_paths = a_lines + [[p] * 2 for p in a_points]
    b_paths = b_lines + [[p] * 2 for p in b_points]
    for pa in a_paths:
        if any(_paths_intersect(pa, pb) for pb in b_paths):
            return True
        if any(_path_hits_polygon(pa, poly) for poly in b_polys):
            return True
    for poly in a_polys:
        if any(_path_hits_polygon(pb, poly) for pb in b_paths):
            return True
        if any(_path_hits_polygon(other[0], poly) or _in_polygon(poly[0][0], other)
               for other in b_polys):
            return True
    return False


def distance(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    """Metres between two points (haversine); None unless both are points."""
    if a["type"] != "Point" or b["type"] != "Point":
        return None
    lng1, lat1 = _pt(a["coordinates"])
    lng2, lat2 = _pt(b["coordinates"])
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
