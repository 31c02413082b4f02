"""The crop and hotspot maths of Sanity image URLs, as @sanity/image-url computes it.

Owns the asset's size from its id (``Asset``), the source rectangle for a requested size
(``fit_rect``: the document's crop, then a cut around the hotspot to the requested aspect
ratio) and JavaScript ``Math.round`` semantics (``js_round``), so that URLs match the
official builder's to the pixel. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ssgen.fastclass import dataclass

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
    if _js_divide(crop.width, crop.height) > desired:
        return _cut_sides(asset, crop, hotspot, desired)
    return _cut_top_bottom(asset, crop, hotspot, desired)


def _js_divide(a: float, b: float) -> float:
    """``a / b`` as JavaScript divides: a crop that leaves no row (a tiny image cropped
    hard) gives Infinity or NaN there, and the builder carries on with an empty cut."""
    if b:
        return a / b
    return math.copysign(math.inf, a) if a else math.nan


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
    left = _around_hotspot(hotspot["x"], hotspot["width"], asset.width, width,
                           crop.left, crop.width)
    return Rect(left, max(0, crop.top), width, height)


def _cut_top_bottom(asset: Asset, crop: Rect, hotspot: dict[str, float], desired: float) -> Rect:
    width = crop.width
    height = js_round(width / desired)
    top = _around_hotspot(hotspot["y"], hotspot["height"], asset.height, height,
                          crop.top, crop.height)
    return Rect(max(0, crop.left), top, width, height)


def _around_hotspot(position: float, size: float, full: int, length: int, start: int,
                    span: int) -> int:
    """Where a cut of ``length`` starts on one axis: centred on the hotspot (``position``
    and ``size`` are fractions of the image's ``full`` length), kept inside the crop
    (``start``, ``span``). The arithmetic is the official builder's, step for step, so
    rounding matches it."""
    radius = size * full / 2
    centre = position * full
    hotspot_centre = js_round(((centre + radius) - (centre - radius)) / 2 + (centre - radius))
    at = max(0, js_round(hotspot_centre - length / 2))
    if at < start:
        return start
    if at + length > start + span:
        return start + span - length
    return at


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
