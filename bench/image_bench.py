"""The local image pipeline on a site of N source images, and the starter's page weight.

1. Pipeline: a generated site of ``--images`` source JPEGs (1600x1067, Pillow-drawn) and
   one page per image that uses it in three variants (400, 800 and 1200 px wide WebP,
   16:9 around a hotspot). Per run, in a fresh folder and its own cache: a full build
   with ``--jobs`` workers (variants rendered, image stage time, time per variant), a
   second build (must render 0 variants), then one asset file rewritten under the same
   name (must render exactly its 3 variants and no page). ``--runs`` runs.
2. Page weight (``--weight``): the default site (this checkout) and the one at
   ``--before`` (a git ref) built into temporary folders, served on 127.0.0.1 and loaded
   in headless Debian chromium at 360 and 1280 px; the bytes of the HTML, CSS and images
   the browser fetched (lazy images below the fold are not fetched, as for a reader),
   and how many images failed to load.

    .venv/bin/python bench/image_bench.py --images 200 --runs 3 --jobs 2 --weight --before main
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ssgen.build.pipeline as pipeline  # noqa: E402
from ssgen.build import build  # noqa: E402
from ssgen.config import load_config  # noqa: E402

SIZE = (1600, 1067)
TOML = """
[site]
title = "Images"
base_url = "https://example.com"

[source]
type = "local"
files = ["content/data.ndjson"]

[images]
formats = ["webp"]

[[routes]]
name = "photo"
path = "/{slug}/"
template = "photo.html"
query = '*[_type == "photo"]{title, "slug": slug.current, image}'
"""
TEMPLATE = ("<h1>{{ page.title }}</h1>{% for w in [400, 800, 1200] %}"
            "<img src=\"{{ page.image|image_url(width=w, height=(w * 9 // 16), fit='crop', "
            "auto='format') }}\" alt=\"\">{% endfor %}")


def source_image(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize(SIZE).convert("RGB")
    tint = Image.new("RGB", SIZE, tuple(rng.randrange(256) for _ in range(3)))
    image = Image.blend(image, tint, 0.6)
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x, y, r = rng.randrange(SIZE[0]), rng.randrange(SIZE[1]), rng.randrange(40, 260)
        draw.ellipse((x - r, y - r, x + r, y + r),
                     fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(1)).save(out, "JPEG", quality=82)
    return out.getvalue()


def make_site(folder: Path, count: int) -> list[Path]:
    (folder / "templates").mkdir(parents=True)
    (folder / "content" / "images").mkdir(parents=True)
    (folder / "ssgen.toml").write_text(TOML)
    (folder / "templates" / "photo.html").write_text(TEMPLATE)
    docs: list[dict[str, Any]] = []
    files = []
    for i in range(count):
        data = source_image(i)
        sha = hashlib.sha1(data).hexdigest()
        path = folder / "content" / "images" / f"{sha}-{SIZE[0]}x{SIZE[1]}.jpg"
        path.write_bytes(data)
        files.append(path)
        asset_id = f"image-{sha}-{SIZE[0]}x{SIZE[1]}-jpg"
        docs.append({"_id": asset_id, "_type": "sanity.imageAsset", "assetId": sha})
        docs.append({"_id": f"photo-{i}", "_type": "photo", "title": f"Photo {i}",
                     "slug": {"current": f"photo-{i}"},
                     "image": {"_type": "image", "asset": {"_ref": asset_id},
                               "hotspot": {"x": 0.3 + (i % 5) / 10, "y": 0.5,
                                           "width": 0.3, "height": 0.3}}})
    (folder / "content" / "data.ndjson").write_text("".join(json.dumps(d) + "\n" for d in docs))
    return files


class StageTimer:
    """Times ``sync_images`` inside the build (the image stage alone): wall time, and CPU
    time of this process plus its finished worker processes (the machine is shared, so
    CPU time is the comparable figure)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu = 0.0
        self.original = pipeline.sync_images

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        started, cpu = time.perf_counter(), _cpu()
        try:
            self.original(*args, **kwargs)
        finally:
            self.seconds = time.perf_counter() - started
            self.cpu = _cpu() - cpu


def _cpu() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def pipeline_run(count: int, jobs: int) -> dict[str, float]:
    timer = StageTimer()
    pipeline.sync_images = timer  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="image-bench-") as tmp:
        site = Path(tmp) / "site"
        files = make_site(site, count)
        started = time.perf_counter()
        first = build(load_config(site), jobs=jobs, full=True)
        total = time.perf_counter() - started
        assert first.ok, first.failures[:3]
        stage, cpu = timer.seconds, timer.cpu
        second = build(load_config(site), jobs=jobs)
        files[0].write_bytes(source_image(10_000))  # same name, other bytes
        third = build(load_config(site), jobs=jobs)
    pipeline.sync_images = timer.original
    return {"variants": first.images_rendered, "build_s": total, "stage_s": stage,
            "per_variant_ms": 1000 * stage / max(1, first.images_rendered),
            "stage_cpu_s": cpu, "cpu_per_variant_ms": 1000 * cpu / max(1, first.images_rendered),
            "second_variants": second.images_rendered, "second_s": second.seconds,
            "changed_variants": third.images_rendered, "changed_pages": third.rendered,
            "changed_s": third.seconds}


# --- page weight ---------------------------------------------------------------------------


def checkout(ref: str | None, target: Path) -> Path:
    target.mkdir(parents=True)
    names = ["ssgen.toml", "content", "templates", "static"]
    if ref is None:
        for name in names:
            source = ROOT / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, target / name)
    else:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, *names],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def weigh(site: Path, widths: tuple[int, ...] = (360, 1280)) -> dict[int, dict[str, int]]:
    from playwright.sync_api import sync_playwright

    build(load_config(site), jobs=2)
    handler = partial(_Quiet, directory=str(site / "public"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    results: dict[int, dict[str, int]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=["--headless", "--no-sandbox", "--disable-gpu"])
            for width in widths:
                page = browser.new_page(viewport={"width": width, "height": 900})
                sizes: dict[str, int] = {"document": 0, "stylesheet": 0, "image": 0}
                failed = [0]

                def counted(response: Any, sizes: dict[str, int] = sizes) -> None:
                    kind = response.request.resource_type
                    if kind in sizes and response.ok:
                        sizes[kind] += len(response.body())

                page.on("response", counted)
                page.on("requestfailed", lambda request, failed=failed: failed.__setitem__(
                    0, failed[0] + (request.resource_type == "image")))
                page.goto(url, wait_until="load")
                page.wait_for_timeout(300)
                broken = page.evaluate("[...document.images].filter(i => i.complete && "
                                       "i.naturalWidth === 0).length")
                results[width] = {**sizes, "broken": broken,
                                  "images_in_page": page.evaluate("document.images.length")}
                page.close()
            browser.close()
    finally:
        server.shutdown()
    return results


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--weight", action="store_true")
    parser.add_argument("--before", default=None, help="git ref of the 'before' site")
    args = parser.parse_args()
    runs = [pipeline_run(args.images, args.jobs) for _ in range(args.runs)]
    for run in runs:
        print(json.dumps({k: round(v, 3) for k, v in run.items()}))
    for key in ("build_s", "stage_s", "per_variant_ms", "stage_cpu_s", "cpu_per_variant_ms",
                "second_s", "changed_s"):
        values = [r[key] for r in runs]
        print(f"{key}: median {statistics.median(values):.3f}, min {min(values):.3f}, "
              f"max {max(values):.3f}")
    if args.weight:
        with tempfile.TemporaryDirectory(prefix="weight-") as tmp:
            sites = {"after": checkout(None, Path(tmp) / "after")}
            if args.before:
                sites["before"] = checkout(args.before, Path(tmp) / "before")
            for name, site in sites.items():
                print(name, json.dumps(weigh(site)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
