"""Make the starter site's images with Pillow, and its dataset around them.

Owns the bundled images: a dozen small landscape scenes (covers) and five portraits,
drawn from a seed, saved as JPEG under ``content/images/<sha1>-<w>x<h>.jpg`` (the layout
of a ``sanity dataset export``), and their ``sanity.imageAsset`` documents as Sanity
stores them: sha1 id, size, dimensions, ``lqip`` (a 20 px wide JPEG as a data URL),
``palette`` (dominant, vibrant, muted and their dark/light swatches) and ``altText``.
The dataset is then ``bench/gen_dataset.py`` with these assets as its pool, and the
``ssgen init`` scaffold gets the few it uses:

    python scripts/make_starter_images.py            # rewrites content/ and the scaffold
"""

from __future__ import annotations

import base64
import colorsys
import hashlib
import importlib.util
import io
import math
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
Doc = dict[str, Any]
COVER_SIZE = (1440, 960)
PORTRAIT_SIZE = (640, 640)
CREATED = "2023-01-09T08:30:00Z"
SCENES = [  # (file name, alt text, sky top, sky bottom, hill colour)
    ("harbour-at-dusk", "Hills under a violet dusk sky with a low orange sun",
     (58, 42, 110), (246, 150, 96), (38, 36, 70)),
    ("morning-fields", "Green rolling fields under a pale morning sky",
     (150, 196, 232), (236, 240, 214), (64, 120, 72)),
    ("desert-noon", "Sand dunes under a bright blue sky",
     (40, 110, 190), (170, 210, 236), (206, 150, 90)),
    ("northern-night", "Dark ridges under a deep blue night sky with a pale moon",
     (8, 18, 48), (40, 70, 120), (14, 28, 40)),
    ("autumn-valley", "A valley of rust-coloured hills under a warm haze",
     (236, 190, 140), (250, 230, 196), (150, 70, 40)),
    ("coastal-fog", "Grey-blue hills fading into fog",
     (170, 184, 196), (226, 230, 234), (92, 110, 126)),
    ("spring-meadow", "Bright green meadows under a clear sky",
     (96, 170, 236), (210, 236, 250), (90, 170, 80)),
    ("red-canyon", "Layers of red rock at sunset",
     (240, 120, 80), (252, 200, 140), (130, 40, 30)),
    ("lake-evening", "Teal hills by a lake in the evening",
     (30, 70, 100), (240, 170, 120), (20, 90, 90)),
    ("winter-ridge", "Snowy white ridges under a cold sky",
     (120, 160, 200), (220, 232, 244), (236, 240, 246)),
    ("city-glow", "Dark blocks against a glowing magenta sky",
     (70, 20, 80), (230, 90, 130), (30, 20, 40)),
    ("olive-grove", "Olive-green slopes under a soft yellow sky",
     (226, 214, 150), (248, 240, 206), (100, 110, 50)),
]
PORTRAITS = [  # (file name, alt text, background, skin, clothes)
    ("maya-okafor", "Illustrated portrait on a teal background", (40, 130, 140),
     (120, 80, 60), (240, 200, 80)),
    ("tomas-lindqvist", "Illustrated portrait on an orange background", (230, 120, 60),
     (236, 200, 170), (40, 60, 90)),
    ("priya-raman", "Illustrated portrait on a violet background", (110, 80, 170),
     (170, 120, 90), (230, 90, 90)),
    ("jonah-whitfield", "Illustrated portrait on a green background", (70, 140, 80),
     (220, 180, 150), (250, 250, 245)),
    ("aiko-tanaka", "Illustrated portrait on a blue background", (50, 100, 180),
     (240, 210, 180), (200, 60, 80)),
]


# --- drawing ------------------------------------------------------------------------------


def gradient(size: tuple[int, int], top: tuple[int, ...], bottom: tuple[int, ...]) -> Image.Image:
    """A vertical gradient from ``top`` to ``bottom``."""
    ramp = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), ramp)


def shade(colour: tuple[int, ...], factor: float) -> tuple[int, int, int]:
    r, g, b = (max(0, min(255, round(c * factor))) for c in colour[:3])
    return r, g, b


def scene(rng: random.Random, top: tuple[int, ...], bottom: tuple[int, ...],
          hill: tuple[int, ...]) -> Image.Image:
    """A sky, a sun or moon, and three layers of hills, softened."""
    w, h = COVER_SIZE
    image = gradient(COVER_SIZE, top, bottom)
    draw = ImageDraw.Draw(image)
    r = rng.randint(60, 110)
    x, y = rng.randint(w // 5, 4 * w // 5), rng.randint(h // 6, h // 2)
    draw.ellipse((x - r, y - r, x + r, y + r), fill=shade(bottom, 1.15))
    for layer in range(3):
        base = h * (0.55 + 0.14 * layer)
        amp = h * (0.12 - 0.03 * layer)
        phase = rng.uniform(0, 6.28)
        points = [(0, h)]
        for i in range(0, w + 48, 48):
            turn = i / w
            wave = amp * (0.6 * math.sin(turn * 5 + phase) + 0.4 * math.sin(turn * 11 + 2 * phase))
            points.append((i, base - wave + rng.uniform(-6, 6)))
        points.append((w, h))
        draw.polygon(points, fill=shade(hill, 1.5 - 0.3 * layer))
    return image.filter(ImageFilter.GaussianBlur(1.5))


def portrait(bg: tuple[int, ...], skin: tuple[int, ...], clothes: tuple[int, ...]) -> Image.Image:
    """A flat illustrated bust: background, shoulders, neck and head."""
    w, h = PORTRAIT_SIZE
    image = gradient(PORTRAIT_SIZE, shade(bg, 1.2), shade(bg, 0.8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((w * 0.18, h * 0.70, w * 0.82, h * 1.30), fill=clothes)
    draw.rectangle((w * 0.44, h * 0.52, w * 0.56, h * 0.74), fill=shade(skin, 0.9))
    draw.ellipse((w * 0.33, h * 0.22, w * 0.67, h * 0.62), fill=skin)
    draw.chord((w * 0.31, h * 0.18, w * 0.69, h * 0.50), 180, 360, fill=shade(skin, 0.4))
    return image.filter(ImageFilter.GaussianBlur(1))


# --- metadata as Sanity stores it ---------------------------------------------------------


def jpeg(image: Image.Image, quality: int = 78) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def lqip(image: Image.Image) -> str:
    """Sanity's low-quality placeholder: a 20 px wide JPEG as a base64 data URL."""
    small = image.resize((20, max(1, round(20 * image.height / image.width))), Image.BILINEAR)
    return "data:image/jpeg;base64," + base64.b64encode(jpeg(small, 60)).decode()


def swatch(rgb: tuple[int, int, int], population: float) -> Doc:
    light = colorsys.rgb_to_hls(*(c / 255 for c in rgb))[1]
    text = "#000" if light > 0.6 else "#fff"
    return {"_type": "sanity.imagePaletteSwatch", "background": "#{:02x}{:02x}{:02x}".format(*rgb),
            "foreground": text, "population": round(population, 2), "title": text}


def palette(image: Image.Image) -> Doc:
    """Dominant, vibrant and muted swatches (and their dark and light kinds) from an
    8-colour quantisation, shaped like Sanity's ``sanity.imagePalette``."""
    small = image.resize((64, 64)).quantize(8)
    flat = small.getpalette() or []
    counts = sorted(small.getcolors() or [], reverse=True)
    total = sum(n for n, _ in counts)
    colours = [((flat[3 * i], flat[3 * i + 1], flat[3 * i + 2]), n / total) for n, i in counts]
    hls = [(rgb, share, colorsys.rgb_to_hls(*(c / 255 for c in rgb))) for rgb, share in colours]
    result: Doc = {"_type": "sanity.imagePalette", "dominant": swatch(*colours[0])}
    for name, (low, high), vivid in (
        ("darkMuted", (0.0, 0.45), False), ("darkVibrant", (0.0, 0.45), True),
        ("lightMuted", (0.55, 1.0), False), ("lightVibrant", (0.55, 1.0), True),
        ("muted", (0.3, 0.7), False), ("vibrant", (0.3, 0.7), True),
    ):
        fits = [c for c in hls if low <= c[2][1] <= high] or hls
        rgb, share, _ = max(fits, key=lambda c: c[2][2] if vivid else -c[2][2])
        result[name] = swatch(rgb, share)
    return result


def asset_document(data: bytes, image: Image.Image, name: str, alt: str) -> Doc:
    sha = hashlib.sha1(data).hexdigest()
    w, h = image.size
    path = f"images/demo1234/production/{sha}-{w}x{h}.jpg"
    return {
        "_id": f"image-{sha}-{w}x{h}-jpg", "_type": "sanity.imageAsset", "_rev": sha[:22],
        "_createdAt": CREATED, "_updatedAt": CREATED, "altText": alt,
        "assetId": sha, "extension": "jpg", "mimeType": "image/jpeg",
        "originalFilename": f"{name}.jpg", "path": path, "sha1hash": sha, "size": len(data),
        "uploadId": sha[-12:], "url": f"https://cdn.sanity.io/{path}",
        "metadata": {
            "_type": "sanity.imageMetadata", "hasAlpha": False, "isOpaque": True,
            "dimensions": {"_type": "sanity.imageDimensions", "width": w, "height": h,
                           "aspectRatio": w / h},
            "lqip": lqip(image), "palette": palette(image),
        },
    }


# --- writing ------------------------------------------------------------------------------


def make_images() -> list[tuple[Doc, bytes]]:
    """Every image (covers first, then portraits) with its asset document."""
    made = []
    for index, (name, alt, top, bottom, hill) in enumerate(SCENES):
        image = scene(random.Random(f"cover-{index}"), top, bottom, hill)
        data = jpeg(image)
        made.append((asset_document(data, image, name, alt), data))
    for name, alt, bg, skin, clothes in PORTRAITS:
        image = portrait(bg, skin, clothes)
        data = jpeg(image)
        made.append((asset_document(data, image, name, alt), data))
    return made


def write_images(folder: Path, made: list[tuple[Doc, bytes]]) -> None:
    """Write the images into ``folder`` (export layout) and delete any other image there."""
    folder.mkdir(parents=True, exist_ok=True)
    names = set()
    for doc, data in made:
        dims = doc["metadata"]["dimensions"]
        name = f"{doc['assetId']}-{dims['width']}x{dims['height']}.jpg"
        names.add(name)
        (folder / name).write_bytes(data)
    for stale in folder.glob("*.jpg"):
        if stale.name not in names:
            stale.unlink()


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_dataset", ROOT / "bench" / "gen_dataset.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    gen = load_generator()
    made = make_images()
    pool = {"cover": [d for d, _ in made if d["originalFilename"].startswith(
        tuple(s[0] for s in SCENES))], "portrait": [d for d, _ in made][len(SCENES):]}
    write_images(ROOT / "content" / "images", made)
    gen.write_ndjson(gen.generate(pool=pool), ROOT / "content" / "dataset.ndjson")
    starter = gen.starter_documents(pool)
    used = {d["_id"] for d in starter if d["_type"] == "sanity.imageAsset"}
    write_images(ROOT / "ssgen" / "cli" / "scaffold" / "content" / "images",
                 [(d, data) for d, data in made if d["_id"] in used])
    gen.write_ndjson(starter, ROOT / "ssgen" / "cli" / "scaffold" / "content" / "dataset.ndjson")
    total = sum(len(data) for _, data in made)
    print(f"wrote {len(made)} images ({total // 1024} KB) and the datasets", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
