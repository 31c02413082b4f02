"""The ``responsive_image`` filter: one ``<img>`` (or ``<picture>``) with everything a
responsive image needs.

Owns the HTML: ``srcset`` over the widths that the source can fill (never upscaled, at
most twice the displayed width), ``sizes``, ``width``/``height`` from the displayed size
or the cropped asset's aspect ratio (no layout shift), ``loading="lazy"`` unless
``eager``, ``decoding="async"``, the asset's LQIP as a placeholder background, and the
alt text from the argument, the image field's ``alt`` or the asset's ``altText``. With
several formats (local pipeline: AVIF then WebP) the better ones are ``<source>``s of a
``<picture>``. URLs come from the given ``url_for`` (local variants or CDN URLs), so the
crop maths is ``ssgen.render.images.crop``'s in both. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from ssgen.render.images.crop import fit_rect, js_round
from ssgen.render.images.url import parse_asset_id, parse_source

UrlFor = Callable[..., str]
_MIME = {"avif": "image/avif", "webp": "image/webp", "jpg": "image/jpeg", "png": "image/png"}


def responsive_image(
    source: Any,
    *,
    url_for: UrlFor,
    formats: Sequence[str | None],
    default_widths: Sequence[int],
    width: int | None = None,
    height: int | None = None,
    widths: Sequence[int] | None = None,
    sizes: str = "100vw",
    alt: str | None = None,
    eager: bool = False,
    class_name: str | None = None,
    fit: str = "crop",
    quality: int | None = None,
) -> Markup:
    """The HTML of a responsive image of ``source`` (see the module docstring).

    ``width``/``height``: the displayed size in CSS pixels (both: cropped to that aspect
    ratio around the hotspot). ``formats``: best first, the last one is the ``<img>``'s
    (``None``: the pipeline's default, e.g. ``auto=format`` on the CDN).
    """
    asset_id, crop, hotspot = parse_source(source)
    asset = parse_asset_id(asset_id)
    natural = fit_rect(asset, crop, hotspot, None, None)
    aspect = width / height if width and height else natural.width / natural.height
    cut = fit_rect(asset, crop, hotspot, 1000 * aspect, 1000) if width and height else natural
    fixed = bool(width and height)
    candidates = _widths(widths or default_widths, cut.width, width)

    def url(w: int, fmt: str | None) -> str:
        options: dict[str, Any] = {"width": w, "quality": quality}
        if fixed:
            options.update(height=max(1, js_round(w / aspect)), fit=fit)
        if fmt is None:
            options["auto"] = "format"
        else:
            options["format"] = fmt
        return url_for(source, **options)

    shown = width or candidates[-1]
    fallback = formats[-1]
    src = url(next((w for w in candidates if w >= shown), candidates[-1]), fallback)
    attrs = {
        "src": src,
        "srcset": _srcset(url, candidates, fallback) if len(candidates) > 1 else None,
        "sizes": sizes if len(candidates) > 1 else None,
        "width": str(shown), "height": str(max(1, js_round(shown / aspect))),
        "alt": alt_text(source, alt), "class": class_name,
        "loading": None if eager else "lazy", "fetchpriority": "high" if eager else None,
        "decoding": "async", "style": _placeholder(source),
    }
    # f-strings of escaped parts, not ``Markup.format``: the same HTML, without a
    # ``string.Formatter`` pass in Python per attribute (~40 us an image, ~36 a round).
    img = Markup(f"<img{_attributes(attrs)}>")
    if len(formats) == 1:
        return img
    sources = "".join(
        f'<source type="{escape(_MIME.get(fmt or "", "image/webp"))}" '
        f'srcset="{escape(_srcset(url, candidates, fmt))}" sizes="{escape(sizes)}">'
        for fmt in formats[:-1])
    return Markup(f"<picture>{sources}{img}</picture>")


def _widths(wanted: Sequence[int], available: int, shown: int | None) -> list[int]:
    cap = min(available, 2 * shown) if shown else available
    found = sorted({int(w) for w in wanted if 0 < w <= cap})
    return found or [max(1, min(available, shown or available))]


def _srcset(url: Callable[[int, str | None], str], widths: list[int], fmt: str | None) -> str:
    return ", ".join(f"{url(w, fmt)} {w}w" for w in widths)


def alt_text(source: Any, alt: str | None = None) -> str:
    """The alt text: the argument, else the image field's ``alt``, else the dereferenced
    asset's ``altText``, else empty (a decorative image)."""
    if alt is not None:
        return str(alt)
    if isinstance(source, Mapping):
        if isinstance(source.get("alt"), str):
            return str(source["alt"])
        asset = source.get("asset")
        if isinstance(asset, Mapping) and isinstance(asset.get("altText"), str):
            return str(asset["altText"])
        if isinstance(source.get("altText"), str):
            return str(source["altText"])
    return ""


def _placeholder(source: Any) -> str | None:
    """A CSS background of the asset's LQIP (when the query dereferenced the asset)."""
    asset = source.get("asset") if isinstance(source, Mapping) else None
    meta = asset.get("metadata") if isinstance(asset, Mapping) else None
    lqip = meta.get("lqip") if isinstance(meta, Mapping) else None
    if not isinstance(lqip, str) or not lqip.startswith("data:image/") or '"' in lqip \
            or ")" in lqip:
        return None
    return f"background:url({lqip}) center/cover no-repeat"


def _attributes(attrs: Mapping[str, str | None]) -> Markup:
    return Markup("".join(f' {escape(name)}="{escape(value)}"'
                          for name, value in attrs.items() if value is not None))
