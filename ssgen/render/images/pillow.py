"""Rendering an image variant with Pillow, as Sanity's image API would serve it.

Owns the meaning of the API's parameters for the local pipeline: ``rect`` (the source
rectangle, which ``ssgen.render.images.crop`` computed from the crop and hotspot for the URL
builder: one implementation for both), ``flip``, ``or``, the size from ``w``/``h``/``dpr``
/``min-*``/``max-*`` under each ``fit`` mode (clip by default, crop with ``crop`` and
``fp-x``/``fp-y``, fill, fillmax, max, min, scale), ``blur``, ``sharp``, ``sat``,
``invert``, ``pad``, ``bg``, ``q``, and the output format. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from urllib.parse import unquote

from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from ssgen.render.images.crop import js_round

_PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF", "gif": "GIF"}
_QUALITY = {"jpg": 75, "webp": 75, "avif": 60}
_ALPHA = frozenset({"png", "webp", "avif", "gif"})
Size = tuple[int, int]


def parse_query(query: str) -> dict[str, str]:
    """``a=1&b=x`` -> ``{"a": "1", "b": "x"}`` (values unquoted)."""
    return {k: unquote(v) for k, _, v in (p.partition("=") for p in query.split("&") if p)}


def open_image(data: bytes) -> Image.Image:
    """Decode an asset file (EXIF orientation applied, as the API does)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return ImageOps.exif_transpose(image)


def render_variant(source: Image.Image, query: str, ext: str) -> bytes:
    """The bytes of the variant of ``source`` that ``query`` asks for, encoded as ``ext``."""
    params = parse_query(query)
    image, box = _select(source, params)
    image = _resize(image, box, params)
    image = _effects(image, params)
    return _encode(image, ext, params)


Box = tuple[int, int, int, int]


def _select(image: Image.Image, params: Mapping[str, str]) -> tuple[Image.Image, Box]:
    """The image and the box of it to use: ``rect`` stays a box for the resize (no copy)
    unless a flip or rotation must see the cropped pixels."""
    box = (0, 0, image.width, image.height)
    if "rect" in params:
        left, top, width, height = (int(v) for v in params["rect"].split(","))
        right = min(image.width, left + width)
        bottom = min(image.height, top + height)
        if right > left and bottom > top:
            box = (left, top, right, bottom)
    flip = params.get("flip", "")
    turn = int(params.get("or", "0"))
    if not flip and not turn:
        return image, box
    image = image.crop(box)
    if "h" in flip:
        image = ImageOps.mirror(image)
    if "v" in flip:
        image = ImageOps.flip(image)
    if turn:
        image = image.rotate(-turn, expand=True)  # clockwise, as the API rotates
    return image, (0, 0, image.width, image.height)


def _number(params: Mapping[str, str], name: str) -> float | None:
    value = params.get(name)
    return float(value) if value is not None else None


def target_size(size: Size, params: Mapping[str, str]) -> tuple[Size, Size]:
    """(the scaled image size, the canvas size) for ``w``/``h``/``fit`` and friends."""
    iw, ih = size
    dpr = _number(params, "dpr") or 1.0
    w, h = _number(params, "w"), _number(params, "h")
    w = _bounded(w, params, "w") * dpr if w is not None else None
    h = _bounded(h, params, "h") * dpr if h is not None else None
    fit = params.get("fit", "clip")
    if w is None and h is None:
        return size, size
    if w is None or h is None:
        scale = (w / iw) if w is not None else (h or ih) / ih
        if fit in ("max", "fillmax", "min"):
            scale = min(scale, 1.0)
        out = (max(1, js_round(iw * scale)), max(1, js_round(ih * scale)))
        return out, out
    box = (max(1, js_round(w)), max(1, js_round(h)))
    if fit == "scale":
        return box, box
    if fit in ("crop", "min"):
        scale = max(box[0] / iw, box[1] / ih)
        if fit == "min" and scale > 1:
            box = _shrink(box, iw, ih)
            scale = max(box[0] / iw, box[1] / ih)
        return (max(box[0], js_round(iw * scale)), max(box[1], js_round(ih * scale))), box
    scale = min(box[0] / iw, box[1] / ih)
    if fit in ("max", "fillmax"):
        scale = min(scale, 1.0)
    inner = (max(1, js_round(iw * scale)), max(1, js_round(ih * scale)))
    return inner, (box if fit in ("fill", "fillmax") else inner)


def _bounded(value: float, params: Mapping[str, str], axis: str) -> float:
    low, high = _number(params, f"min-{axis}"), _number(params, f"max-{axis}")
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value


def _shrink(box: Size, iw: int, ih: int) -> Size:
    """The largest box of ``box``'s aspect ratio that fits in the image."""
    scale = min(iw / box[0], ih / box[1], 1.0)
    return max(1, math.floor(box[0] * scale)), max(1, math.floor(box[1] * scale))


def _resize(image: Image.Image, box: Box, params: Mapping[str, str]) -> Image.Image:
    size = (box[2] - box[0], box[3] - box[1])
    scaled, canvas = target_size(size, params)
    if scaled != size:
        image = image.resize(scaled, Image.Resampling.LANCZOS, box=box, reducing_gap=2.0)
    elif box != (0, 0, image.width, image.height):
        image = image.crop(box)
    if canvas == scaled:
        return image
    if scaled[0] >= canvas[0] and scaled[1] >= canvas[1]:
        left, top = _crop_origin(scaled, canvas, params)
        return image.crop((left, top, left + canvas[0], top + canvas[1]))
    background = Image.new("RGBA", canvas, _colour(params.get("bg"), (255, 255, 255, 0)))
    background.paste(image.convert("RGBA"), ((canvas[0] - scaled[0]) // 2,
                                             (canvas[1] - scaled[1]) // 2))
    return background


def _crop_origin(scaled: Size, canvas: Size, params: Mapping[str, str]) -> Size:
    """Where the ``fit=crop`` window starts: by ``crop`` edges or the focal point."""
    spare_x, spare_y = scaled[0] - canvas[0], scaled[1] - canvas[1]
    modes = set(params.get("crop", "center").split(","))
    fx, fy = 0.5, 0.5
    if "focalpoint" in modes:
        fx = float(params.get("fp-x", "0.5"))
        fy = float(params.get("fp-y", "0.5"))
        left = js_round(fx * scaled[0] - canvas[0] / 2)
        top = js_round(fy * scaled[1] - canvas[1] / 2)
        return max(0, min(spare_x, left)), max(0, min(spare_y, top))
    fx = 0.0 if "left" in modes else 1.0 if "right" in modes else 0.5
    fy = 0.0 if "top" in modes else 1.0 if "bottom" in modes else 0.5
    return js_round(spare_x * fx), js_round(spare_y * fy)


def _effects(image: Image.Image, params: Mapping[str, str]) -> Image.Image:
    sat = _number(params, "sat")
    if sat:
        image = _rgb_op(image, lambda rgb: ImageEnhance.Color(rgb).enhance(1 + sat / 100))
    sharp = _number(params, "sharp")
    if sharp:
        image = image.filter(ImageFilter.UnsharpMask(radius=2, percent=int(sharp * 3)))
    blur = _number(params, "blur")
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur / 10))
    if params.get("invert") == "true":
        image = _rgb_op(image, ImageOps.invert)
    pad = _number(params, "pad")
    if pad:
        fill = _colour(params.get("bg"), (255, 255, 255, 0))
        image = ImageOps.expand(image.convert("RGBA"), border=int(pad), fill=fill)
    return image


def _rgb_op(image: Image.Image, op: object) -> Image.Image:
    """Apply an RGB-only operation, keeping any alpha channel."""
    assert callable(op)
    if image.mode == "RGBA":
        alpha = image.getchannel("A")
        out: Image.Image = op(image.convert("RGB"))
        out.putalpha(alpha)
        return out
    result: Image.Image = op(image.convert("RGB"))
    return result


def _colour(value: str | None, default: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """An API ``bg`` (``RGB``, ``ARGB``, ``RRGGBB`` or ``AARRGGBB`` hex) as RGBA."""
    if not value:
        return default
    if len(value) in (3, 4):
        value = "".join(c * 2 for c in value)
    alpha = 255
    if len(value) == 8:
        alpha, value = int(value[:2], 16), value[2:]
    if len(value) != 6:
        return default
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), alpha


def _encode(image: Image.Image, ext: str, params: Mapping[str, str]) -> bytes:
    fmt = _PIL_FORMATS[ext]
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if ext not in _ALPHA or not has_alpha:
        if has_alpha:
            flat = Image.new("RGB", image.size, _colour(params.get("bg"), (255, 255, 255, 255))[:3])
            flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
            image = flat
        elif image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
    options: dict[str, object] = {}
    quality = _number(params, "q")
    if ext in _QUALITY:
        options["quality"] = int(quality) if quality is not None else _QUALITY[ext]
    if ext == "jpg":
        options.update(optimize=True, progressive=params.get("fm") == "pjpg")
    elif ext == "webp":
        options["method"] = 4
    elif ext == "avif":
        options["speed"] = 8
    elif ext == "png":
        options["optimize"] = True
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()
