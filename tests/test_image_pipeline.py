"""The local image pipeline: Pillow renders exactly the crop that the URL builder
computes, and the build keeps public/_img/ equal to the variants the pages use (rendered
once, cached, re-rendered only for a changed asset, deleted when unused)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sitekit import SITE_TOML

from ssgen.build import build
from ssgen.config import load_config
from ssgen.errors import ConfigError
from ssgen.render.images.crop import fit_rect
from ssgen.render.images.pillow import open_image, render_variant, target_size
from ssgen.render.images.url import parse_asset_id
from ssgen.render.images.variants import Variant, make_variant, recording, variant_url

# --- rendering: the URL builder's rectangle, to the pixel ---------------------------------


def coordinate_image(width: int, height: int) -> bytes:
    """A PNG whose pixel (x, y) is (x % 256, y % 256, x // 256 * 16 + y // 256)."""
    image = Image.new("RGB", (width, height))
    image.putdata([(x % 256, y % 256, (x // 256) * 16 + y // 256)
                   for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def decode(pixel: tuple[int, ...]) -> tuple[int, int]:
    return pixel[0] + 256 * (pixel[2] // 16), pixel[1] + 256 * (pixel[2] % 16)


fractions = st.floats(0, 0.3).map(lambda v: round(v, 3))


@settings(max_examples=40, deadline=None)
@given(
    size=st.tuples(st.integers(40, 300), st.integers(40, 300)),
    crop=st.tuples(fractions, fractions, fractions, fractions),
    hotspot=st.tuples(st.floats(0.1, 0.9), st.floats(0.1, 0.9), st.floats(0.05, 1)),
    aspect=st.floats(0.3, 3),
)
def test_the_rendered_variant_is_the_rect_the_url_names(
    size: tuple[int, int], crop: tuple[float, ...], hotspot: tuple[float, ...], aspect: float
) -> None:
    width, height = size
    image = {"asset": {"_ref": f"image-{'a' * 40}-{width}x{height}-png"},
             "crop": dict(zip(("top", "bottom", "left", "right"), crop, strict=True)),
             "hotspot": {"x": hotspot[0], "y": hotspot[1], "width": hotspot[2],
                         "height": hotspot[2]}}
    # The size is the rect's own, so no scaling blurs the coordinates: every pixel of
    # the output must be the source pixel at the rect's offset.
    asset = parse_asset_id(image["asset"]["_ref"])
    rect = fit_rect(asset, image["crop"], image["hotspot"], 1000 * aspect, 1000)
    variant = make_variant(image, width=rect.width, height=rect.height, fit="crop",
                           format="png")
    assert f"rect={rect.left},{rect.top},{rect.width},{rect.height}" in variant.query or (
        (rect.left, rect.top, rect.width, rect.height) == (0, 0, width, height))
    out = Image.open(io.BytesIO(render_variant(open_image(coordinate_image(width, height)),
                                               variant.query, variant.ext)))
    assert out.size == (rect.width, rect.height)
    assert decode(out.getpixel((0, 0))) == (rect.left, rect.top)
    assert decode(out.getpixel((rect.width - 1, rect.height - 1))) == (
        rect.left + rect.width - 1, rect.top + rect.height - 1)


@settings(max_examples=60, deadline=None)
@given(
    size=st.tuples(st.integers(1, 4000), st.integers(1, 4000)),
    box=st.tuples(st.integers(1, 2000), st.integers(1, 2000)),
    fit=st.sampled_from(["clip", "crop", "fill", "fillmax", "max", "min", "scale"]),
    dpr=st.sampled_from([1, 2, 3]),
)
def test_sizes_follow_the_fit_mode(size: tuple[int, int], box: tuple[int, int], fit: str,
                                   dpr: int) -> None:
    params = {"w": str(box[0]), "h": str(box[1]), "fit": fit, "dpr": str(dpr)}
    scaled, canvas = target_size(size, params)
    want = (box[0] * dpr, box[1] * dpr)
    if fit in ("crop", "scale", "fill"):
        assert canvas == want
    if fit in ("clip", "max"):
        assert canvas == scaled and scaled[0] <= want[0] + 1 and scaled[1] <= want[1] + 1
    if fit in ("max", "fillmax", "min"):
        assert scaled[0] <= size[0] + 1 and scaled[1] <= size[1] + 1  # never upscaled
    assert min(scaled) >= 1


def test_formats_and_effects_encode() -> None:
    source = open_image(coordinate_image(120, 80))
    for query, ext, kind in (("w=60&fm=jpg&q=50", "jpg", "JPEG"), ("w=60&auto=format", "webp",
                             "WEBP"), ("w=60&h=60&fit=fill&bg=f00", "png", "PNG"),
                             ("w=40&blur=20&sat=-100&invert=true&flip=hv&or=90", "webp", "WEBP"),
                             ("w=40&fm=avif", "avif", "AVIF")):
        data = render_variant(source, query, ext)
        assert Image.open(io.BytesIO(data)).format == kind, query


def test_variant_names_and_tags_round_trip() -> None:
    image = {"asset": {"_ref": f"image-{'b' * 40}-800x600-jpg"}}
    with recording() as used:
        url = variant_url(image, width=400, auto="format")
        again = variant_url(image, width=400, auto="format")
        jpeg = variant_url(image, width=400)
        avif = variant_url(image, width=400, format="avif")
    assert url == again and url.startswith(f"/_img/{'b' * 40}-800x600-") and url.endswith(".webp")
    assert jpeg.endswith(".jpg") and avif.endswith(".avif") and len({url, jpeg, avif}) == 3
    assert {"/" + Variant.from_tag(tag).file for tag in used} == {url, jpeg, avif}
    with pytest.raises(ValueError):
        Variant.from_tag("image:not-an-asset.webp?w=1")


# --- the build stage -----------------------------------------------------------------------


def photo(seed: int, size: tuple[int, int] = (320, 200)) -> bytes:
    image = Image.new("RGB", size, (seed * 40 % 256, 90, 200 - seed * 30 % 200))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def asset_doc(data: bytes, size: tuple[int, int] = (320, 200)) -> dict[str, Any]:
    sha = hashlib.sha1(data).hexdigest()
    return {"_id": f"image-{sha}-{size[0]}x{size[1]}-jpg", "_type": "sanity.imageAsset",
            "assetId": sha, "extension": "jpg", "altText": f"Photo {sha[:6]}",
            "metadata": {"dimensions": {"width": size[0], "height": size[1]}}}


IMAGE_TOML = SITE_TOML + """
[[routes]]
name = "post"
path = "/{slug}/"
template = "post.html"
query = '*[_type == "post"]{title, "slug": slug.current, cover{..., asset->}}'
"""
POST = ('<h1>{{ page.title }}</h1>{{ page.cover|responsive_image(width=100, height=100, '
        'widths=[100, 200], sizes="100px") }}')


def make_image_site(root: Path, images: int = 3) -> tuple[Path, list[bytes]]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "ssgen.toml").write_text(IMAGE_TOML)
    (root / "templates").mkdir()
    (root / "templates" / "post.html").write_text(POST)
    (root / "content" / "images").mkdir(parents=True)
    files = [photo(i) for i in range(images)]
    docs: list[dict[str, Any]] = []
    for i, data in enumerate(files):
        asset = asset_doc(data)
        name = f"{asset['assetId']}-320x200.jpg"
        (root / "content" / "images" / name).write_bytes(data)
        docs += [asset, {"_id": f"p{i}", "_type": "post", "title": f"Post {i}",
                         "slug": {"current": f"p{i}"},
                         "cover": {"_type": "image", "asset": {"_ref": asset["_id"]}}}]
    (root / "content" / "data.ndjson").write_text("".join(json.dumps(d) + "\n" for d in docs))
    return root, files


def variants(site: Path) -> dict[str, bytes]:
    folder = site / "public" / "_img"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


@pytest.fixture
def own_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSGEN_IMAGE_CACHE", raising=False)


def test_variants_render_once_and_only_for_a_changed_asset(tmp_path: Path,
                                                           own_cache: None) -> None:
    site, files = make_image_site(tmp_path / "site")
    config = load_config(site)
    assert config.images.pipeline == "local"
    first = build(config, jobs=2)
    assert first.ok, first.failures
    made = variants(site)
    assert first.images_rendered == len(made) == 3 * 2 * 2  # 3 assets, 2 widths, AVIF + WebP
    html = (site / "public/p0/index.html").read_text()
    assert 'alt="Photo ' in html and 'width="100" height="100"' in html
    assert all(f"/_img/{name}" in "".join((site / f"public/p{i}/index.html").read_text()
                                          for i in range(3)) for name in made)

    second = build(load_config(site), jobs=2)
    assert (second.images_rendered, second.rendered, second.written) == (0, 0, 0)

    # The same asset id, other bytes (a re-export): only its 4 variants render again,
    # no page does, and no other variant file is touched.
    asset = asset_doc(files[1])
    (site / "content/images" / f"{asset['assetId']}-320x200.jpg").write_bytes(photo(7))
    third = build(load_config(site), jobs=2)
    changed = {name for name, data in variants(site).items() if made[name] != data}
    assert third.images_rendered == 4 and third.rendered == 0
    assert changed == {n for n in made if n.startswith(asset["assetId"])}
    assert sorted(third.changed) == sorted(f"_img/{n}" for n in changed)


def test_unused_variants_are_deleted_and_damage_is_repaired(tmp_path: Path,
                                                             own_cache: None) -> None:
    site, _ = make_image_site(tmp_path / "site", images=2)
    build(load_config(site))
    before = variants(site)
    victim = site / "public/_img" / sorted(before)[0]
    victim.unlink()
    repaired = build(load_config(site))
    assert repaired.images_rendered == 0 and victim.read_bytes() == before[victim.name]

    (site / "templates/post.html").write_text("<h1>{{ page.title }}</h1>")
    report = build(load_config(site))
    assert report.ok and variants(site) == {}
    assert sorted(report.deleted) == sorted(f"_img/{n}" for n in before)
    assert list((site / ".ssgen/images").glob("*.webp")) == []  # the cache forgets them too


def test_a_missing_asset_file_fails_naming_it(tmp_path: Path, own_cache: None) -> None:
    site, files = make_image_site(tmp_path / "site", images=1)
    name = f"{asset_doc(files[0])['assetId']}-320x200.jpg"
    (site / "content/images" / name).rename(site / "content/images/elsewhere.jpg")
    report = build(load_config(site))
    assert not report.ok
    assert any(name in f.message and "content/images" in f.message for f in report.failures)


def test_export_archives_carry_their_images(tmp_path: Path, own_cache: None) -> None:
    site, _ = make_image_site(tmp_path / "site", images=2)
    export = tmp_path / "export.tar.gz"
    with tarfile.open(export, "w:gz") as archive:
        for path in sorted((site / "content").rglob("*")):
            if path.is_file():
                name = "data.ndjson" if path.suffix == ".ndjson" else f"images/{path.name}"
                archive.add(path, arcname=f"production-export-2026-01-01/{name}")
    for path in (site / "content/images").iterdir():
        path.unlink()
    (site / "content/images").rmdir()
    (site / "content/data.ndjson").unlink()
    (site / "content/export.tar.gz").write_bytes(export.read_bytes())
    toml = (site / "ssgen.toml").read_text().replace("content/data.ndjson", "content/export.tar.gz")
    (site / "ssgen.toml").write_text(toml)
    report = build(load_config(site))
    assert report.ok, report.failures
    assert len(variants(site)) == 2 * 2 * 2


def test_pipeline_setting_is_checked(tmp_path: Path) -> None:
    site, _ = make_image_site(tmp_path / "site", images=1)
    toml = site / "ssgen.toml"
    toml.write_text(IMAGE_TOML + '\n[images]\npipeline = "sanity"\n')
    assert load_config(site).images.pipeline == "sanity"
    toml.write_text(IMAGE_TOML + '\n[images]\npipeline = "cdn"\n')
    with pytest.raises(ConfigError, match=r"images\.pipeline"):
        load_config(site)
    toml.write_text(IMAGE_TOML + "\n[images]\nwidths = [0]\n")
    with pytest.raises(ConfigError, match=r"images\.widths"):
        load_config(site)
    for path in (site / "content/images").iterdir():
        path.unlink()
    (site / "content/images").rmdir()
    toml.write_text(IMAGE_TOML)
    assert load_config(site).images.pipeline == "sanity"  # no asset files: CDN URLs


def test_variant_urls_live_under_the_base_path(tmp_path: Path, own_cache: None) -> None:
    site, _ = make_image_site(tmp_path / "site", images=1)
    toml = site / "ssgen.toml"
    toml.write_text(toml.read_text().replace('"https://example.com"',
                                             '"https://example.com/docs/"'))
    assert build(load_config(site)).ok
    html = (site / "public/p0/index.html").read_text()
    assert 'src="/docs/_img/' in html and 'srcset="/_img/' not in html


def test_avif_support_is_pillows_answer_without_importing_pillow() -> None:
    """``avif_supported`` says what ``PIL.features.check("avif")`` says, in a process
    that has not imported ``PIL.Image`` and does not import it."""
    code = ("import sys; from ssgen.render.filters.images import _writable, avif_supported\n"
            "formats = _writable(('avif', 'webp'))\n"
            "assert 'PIL.Image' not in sys.modules, 'PIL.Image imported'\n"
            "from PIL import features\n"
            "assert avif_supported() == features.check('avif')\n"
            "assert formats == (('avif', 'webp') if features.check('avif') else ('webp',))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("error", "warns"), [(ModuleNotFoundError, False),
                                               (ImportError, True)])
def test_without_avif_variants_are_webp(monkeypatch: pytest.MonkeyPatch,
                                        error: type[ImportError], warns: bool) -> None:
    from ssgen.render.filters import images as filters

    def refuse(name: str) -> None:
        raise error(f"no {name}")

    monkeypatch.setattr(filters.importlib, "import_module", refuse)
    filters.avif_supported.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert filters._writable(("avif", "webp")) == ("webp",)
            assert filters._writable(("avif",)) == ("webp",)
        assert bool(caught) == warns
    finally:
        filters.avif_supported.cache_clear()
