"""The crop and hotspot maths of Sanity image URLs, as @sanity/image-url computes it.

Owns the asset's size from its id (``Asset``), the source rectangle for a requested size
(``fit_rect``: the document's crop, then a cut around the hotspot to the requested aspect
ratio) and JavaScript ``Math.round`` semantics (``js_round``), so that URLs match the
official builder's to the pixel. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_DEFAULT_CROP = {"left": 0.0, "top": 0.0, "right": 0.0, "bottom": 0.0}
_DEFAULT_HOTSPOT = {"x": 0.5, "y": 0.5, "width": 1.0, "height": 1.0}


@dataclass(frozen=True)
class Asset:
    """The parts of an image asset id ``image-<id>-<W>x<H>-<format>``."""

    id: str
    width: int
    height: int
    format: str


@dataclass(frozen=True)
class Rect:
    """A rectangle of the source image, in pixels."""

    left: int
    top: int
    width: int
    height: int


def js_round(value: float) -> int:
    """JavaScript ``Math.round``: halves go up (towards +infinity)."""
    floor = math.floor(value)
    return floor + 1 if value - floor >= 0.5 else floor


def fit_rect(
    asset: Asset,
    crop_spec: Mapping[str, Any] | None,
    hotspot_spec: Mapping[str, Any] | None,
    width: float | None,
    height: float | None,
) -> Rect:
    """The source rectangle for the requested size, as the official builder computes it."""
    crop = _crop_rect(asset, _fractions("crop", crop_spec, _DEFAULT_CROP))
    hotspot = _fractions("hotspot", hotspot_spec, _DEFAULT_HOTSPOT)
    if not (width and height):
        return crop
    desired = width / height
    if crop.width / crop.height > desired:
        return _cut_sides(asset, crop, hotspot, desired)
    return _cut_top_bottom(asset, crop, hotspot, desired)


def _crop_rect(asset: Asset, crop: dict[str, float]) -> Rect:
    left = js_round(crop["left"] * asset.width)
    top = js_round(crop["top"] * asset.height)
    return Rect(
        left,
        top,
        js_round(asset.width - crop["right"] * asset.width - left),
        js_round(asset.height - crop["bottom"] * asset.height - top),
    )


def _cut_sides(asset: Asset, crop: Rect, hotspot: dict[str, float], desired: float) -> Rect:
    height = js_round(crop.height)
    width = js_round(height * desired)
    radius = hotspot["width"] * asset.width / 2
    centre = hotspot["x"] * asset.width
    hotspot_centre = js_round(((centre + radius) - (centre - radius)) / 2 + (centre - radius))
    left = max(0, js_round(hotspot_centre - width / 2))
    if left < crop.left:
        left = crop.left
    elif left + width > crop.left + crop.width:
        left = crop.left + crop.width - width
    return Rect(left, max(0, crop.top), width, height)


def _cut_top_bottom(asset: Asset, crop: Rect, hotspot: dict[str, float], desired: float) -> Rect:
    width = crop.width
    height = js_round(width / desired)
    radius = hotspot["height"] * asset.height / 2
    centre = hotspot["y"] * asset.height
    hotspot_centre = js_round(((centre + radius) - (centre - radius)) / 2 + (centre - radius))
    top = max(0, js_round(hotspot_centre - height / 2))
    if top < crop.top:
        top = crop.top
    elif top + height > crop.top + crop.height:
        top = crop.top + crop.height - height
    return Rect(max(0, crop.left), top, width, height)


def _fractions(
    name: str, spec: Mapping[str, Any] | None, defaults: dict[str, float]
) -> dict[str, float]:
    if spec is None:
        return dict(defaults)
    result: dict[str, float] = {}
    for key, default in defaults.items():
        value = spec.get(key, default)
        if value is None:
            value = default
        if not is_number(value) or not math.isfinite(value):
            raise ValueError(f"image {name}.{key} must be a number, got {value!r}")
        result[key] = float(value)
    return result


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
