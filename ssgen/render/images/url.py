"""Sanity image URLs: ``image_url`` builds ``cdn.sanity.io`` URLs like @sanity/image-url.

Owns source parsing (image objects, asset documents, ``_ref`` strings, CDN URLs and the
``_sanityAsset`` form of a dataset export) and the query parameters in the official
order; the crop/hotspot rectangle maths is ``ssgen.render.images.crop``'s. Pure: invalid input
raises ``ValueError`` with a message for the user.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from ssgen.render.images.crop import Asset, Rect, fit_rect, is_number, js_round

CDN_URL = "https://cdn.sanity.io"
FITS = ("clip", "crop", "fill", "fillmax", "max", "scale", "min")
CROPS = ("top", "bottom", "left", "right", "center", "focalpoint", "entropy")
FORMATS = ("jpg", "pjpg", "png", "webp")
AUTO_MODES = ("format",)
ORIENTATIONS = (0, 90, 180, 270)
_EXAMPLE_ID = "image-Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000-jpg"
_EXPORT_ASSET = re.compile(r"^image@file://.*?([^/]+)-(\d+x\d+)\.([A-Za-z0-9]+)$")
_PROJECT_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DATASET = re.compile(r"^[a-z0-9~][a-z0-9_-]*$")
_URI_SAFE = "-_.!~*'()"  # what encodeURIComponent leaves alone
# Sanity's image asset id grammar: the id part is the file's hash (hex, or the base62 with
# underscores of older uploads). Anything else would reach the CDN URL's path unencoded.
_ASSET_ID = re.compile(r"image-([A-Za-z0-9_]{1,128})-([1-9][0-9]{0,5})x([1-9][0-9]{0,5})"
                       r"-([A-Za-z0-9]{1,8})")


def image_url(
    source: Any,
    *,
    project_id: str,
    dataset: str,
    vanity_name: str | None = None,
    base_url: str = CDN_URL,
    **options: Any,
) -> str:
    """The CDN URL of an image, sized and cropped as asked (``options``: those of
    ``image_query``)."""
    _check_project(project_id, dataset)
    asset, query = image_query(source, **options)
    filename = f"{asset.id}-{asset.width}x{asset.height}.{asset.format}"
    url = f"{base_url.rstrip('/')}/images/{project_id}/{dataset}/{filename}"
    if vanity_name:
        url += "/" + quote(vanity_name, safe="")
    return f"{url}?{query}" if query else url


def image_query(
    source: Any,
    *,
    width: float | None = None,
    height: float | None = None,
    fit: str | None = None,
    auto: str | None = None,
    format: str | None = None,
    quality: float | None = None,
    dpr: float | None = None,
    blur: float | None = None,
    bg: str | None = None,
    crop: str | None = None,
    rect: tuple[int, int, int, int] | None = None,
    focal_point: tuple[float, float] | None = None,
    flip_horizontal: bool = False,
    flip_vertical: bool = False,
    download: str | bool | None = None,
    sharpen: float | None = None,
    invert: bool | None = None,
    orientation: int | None = None,
    min_width: float | None = None,
    max_width: float | None = None,
    min_height: float | None = None,
    max_height: float | None = None,
    saturation: float | None = None,
    pad: float | None = None,
    frame: int | None = None,
    ignore_image_params: bool = False,
) -> tuple[Asset, str]:
    """The asset and the image API query string (``rect=...&w=...``) for ``source``.

    ``source``: an image object (``{"asset": {"_ref"|"_id"|"url"}, "crop", "hotspot"}``),
    an asset document (``_id`` or ``url``), an asset id string, a CDN URL, or an export's
    ``{"_sanityAsset": "image@file://./images/<id>-<w>x<h>.<ext>", ...}``. The image's
    crop and hotspot decide the ``rect`` unless ``rect``, ``focal_point``, ``crop`` or
    ``ignore_image_params`` is given. The local pipeline renders exactly this query.
    """
    asset_id, crop_spec, hotspot_spec = parse_source(source)
    asset = parse_asset_id(asset_id)
    _check_choice("fit", fit, FITS)
    _check_choice("crop", crop, CROPS)
    _check_choice("auto", auto, AUTO_MODES)
    _check_choice("format", format, FORMATS)
    _check_choice("orientation", orientation, ORIENTATIONS)
    _check_choice("frame", frame, (1,))
    if rect is not None:
        rect_value: Rect | None = _user_rect(rect)
    elif focal_point is not None or ignore_image_params or crop is not None:
        rect_value = None
    else:
        rect_value = fit_rect(asset, crop_spec, hotspot_spec, width, height)
    params = _leading_params(asset, rect_value, bg, focal_point, flip_horizontal, flip_vertical)
    named: list[tuple[str, Any]] = [
        ("w", _positive("width", width)),
        ("h", _positive("height", height)),
        ("fm", format),
        ("dl", download),
        ("blur", _ranged("blur", blur, 0, 2000)),
        ("sharp", _ranged("sharpen", sharpen, 0, 100)),
        ("invert", invert),
        ("or", orientation),
        ("min-h", _positive("min_height", min_height)),
        ("max-h", _positive("max_height", max_height)),
        ("min-w", _positive("min_width", min_width)),
        ("max-w", _positive("max_width", max_width)),
        ("q", _ranged("quality", quality, 0, 100)),
        ("fit", fit),
        ("crop", crop),
        ("sat", _ranged("saturation", saturation, -100, 100)),
        ("auto", auto),
        ("dpr", None if dpr in (None, 1) else _positive("dpr", dpr)),
        ("pad", _ranged("pad", pad, 0, math.inf)),
        ("frame", frame),
    ]
    params += [
        f"{name}={quote(_js_string(value), safe=_URI_SAFE)}"
        for name, value in named
        if value is not None
    ]
    return asset, "&".join(params)


def image_srcset(
    source: Any,
    *,
    project_id: str,
    dataset: str,
    widths: Sequence[int],
    aspect: float | None = None,
    **options: Any,
) -> str:
    """A ``srcset`` value: one ``image_url`` per width (``"<url> 400w, <url> 800w"``).

    ``aspect`` (width / height) crops every candidate to the same shape around the
    hotspot; other keyword options are those of ``image_url``.
    """
    if not widths or not all(is_number(w) and w > 0 for w in widths):
        raise ValueError(f"image srcset widths must be positive numbers, got {widths!r}")
    if aspect is not None and (not is_number(aspect) or not aspect > 0):
        raise ValueError(f"image srcset aspect must be a positive number, got {aspect!r}")
    candidates = []
    for width in widths:
        height = None if aspect is None else max(1, js_round(width / aspect))
        url = image_url(
            source, project_id=project_id, dataset=dataset, width=width, height=height, **options
        )
        candidates.append(f"{url} {_js_string(width)}w")
    return ", ".join(candidates)


# --- sources ---------------------------------------------------------------------------


def parse_source(source: Any) -> tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """``(asset id, crop or None, hotspot or None)`` from any accepted image source."""
    if not source:
        raise ValueError(f"no image to build a URL for (got {source!r})")
    if isinstance(source, str):
        return (_url_to_id(source) if re.match(r"^https?://", source) else source), None, None
    if not isinstance(source, Mapping):
        raise ValueError(
            f"an image must be an object, an asset id or a URL, not {type(source).__name__}"
        )
    asset_id = _asset_id_of(source)
    if asset_id is None and isinstance(source.get("asset"), Mapping):
        asset_id = _asset_id_of(source["asset"])
    if asset_id is None:
        raise ValueError(
            "not an image: expected an object with asset._ref, asset._id, asset.url, "
            f"_ref, _id, url or _sanityAsset; got keys {sorted(map(str, source))}"
        )
    return asset_id, _mapping_or_none(source.get("crop")), _mapping_or_none(source.get("hotspot"))


def _asset_id_of(node: Mapping[str, Any]) -> str | None:
    for key in ("_ref", "_id"):
        if isinstance(node.get(key), str) and node[key]:
            return str(node[key])
    if isinstance(node.get("_sanityAsset"), str):
        return _export_to_id(node["_sanityAsset"])
    if isinstance(node.get("url"), str) and node["url"]:
        return _url_to_id(node["url"])
    return None


def _export_to_id(value: str) -> str:
    match = _EXPORT_ASSET.match(value)
    if not match:
        raise ValueError(
            f"malformed _sanityAsset {value!r}: expected one like "
            "'image@file://./images/<sha1>-<w>x<h>.<ext>'"
        )
    return f"image-{match.group(1)}-{match.group(2)}-{match.group(3)}"


def _url_to_id(url: str) -> str:
    filename = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return "image-" + re.sub(r"\.([a-zA-Z0-9]+)$", r"-\1", filename)


def _mapping_or_none(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def parse_asset_id(ref: str) -> Asset:
    """Split ``image-<id>-<W>x<H>-<format>``; ``ValueError`` naming ``ref`` for anything else.

    The whole id must match Sanity's grammar, so a crafted one (``image-../x?y#-1x1-jpg``)
    fails the page instead of reaching the CDN URL.
    """
    match = _ASSET_ID.fullmatch(ref) if isinstance(ref, str) else None
    if match is None:
        raise ValueError(f"malformed image asset id {ref!r}: expected one like {_EXAMPLE_ID!r} "
                         "(image-<id>-<width>x<height>-<format>, id of letters, digits and _)")
    asset_id, width, height, fmt = match.groups()
    return Asset(asset_id, int(width), int(height), fmt)


# --- parameters --------------------------------------------------------------------------


def _leading_params(
    asset: Asset,
    rect: Rect | None,
    bg: str | None,
    focal_point: tuple[float, float] | None,
    flip_horizontal: bool,
    flip_vertical: bool,
) -> list[str]:
    params: list[str] = []
    whole = Rect(0, 0, asset.width, asset.height)
    if rect is not None and rect != whole:
        params.append(f"rect={rect.left},{rect.top},{rect.width},{rect.height}")
    if bg is not None:
        if not isinstance(bg, str) or not re.fullmatch(r"[0-9A-Fa-f]{3,8}", bg):
            raise ValueError(f"image bg must be a hex colour such as 'bf1942', got {bg!r}")
        params.append(f"bg={bg}")
    if focal_point is not None:
        x, y = _focal_point(focal_point)
        params += [f"fp-x={_js_string(x)}", f"fp-y={_js_string(y)}"]
    flip = ("h" if flip_horizontal else "") + ("v" if flip_vertical else "")
    if flip:
        params.append(f"flip={flip}")
    return params


def _focal_point(value: Any) -> tuple[float, float]:
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(is_number(v) and 0 <= v <= 1 for v in value)
    ):
        raise ValueError(
            f"image focal_point must be (x, y) fractions between 0 and 1, got {value!r}"
        )
    return value[0], value[1]


def _user_rect(value: Any) -> Rect:
    if (
        not isinstance(value, tuple | list)
        or len(value) != 4
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
    ):
        raise ValueError(f"image rect must be (left, top, width, height) in pixels, got {value!r}")
    return Rect(*value)


def _check_project(project_id: Any, dataset: Any) -> None:
    if not isinstance(project_id, str) or not _PROJECT_ID.match(project_id):
        raise ValueError(
            f"image_url needs a Sanity project id (set [source] project_id or "
            f"SANITY_PROJECT_ID), got {project_id!r}"
        )
    if not isinstance(dataset, str) or not _DATASET.match(dataset):
        raise ValueError(
            f"image_url needs a Sanity dataset name (set [source] dataset or "
            f"SANITY_DATASET), got {dataset!r}"
        )


def _check_choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    if value is not None and (isinstance(value, bool) or value not in allowed):
        choices = ", ".join(map(str, allowed))
        raise ValueError(f"invalid image {name} {value!r}: use one of {choices}")


def _positive(name: str, value: Any) -> Any:
    if value is not None and (not is_number(value) or not value > 0 or math.isinf(value)):
        raise ValueError(f"image {name} must be a positive number, got {value!r}")
    return value


def _ranged(name: str, value: Any, low: float, high: float) -> Any:
    if value is not None and (not is_number(value) or not low <= value <= high):
        raise ValueError(f"image {name} must be a number from {low} to {high}, got {value!r}")
    return value


def _js_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)
