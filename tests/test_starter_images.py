"""The starter site's images (scripts/make_starter_images.py): each asset document
describes its file as Sanity would (sha1 id, size, dimensions, LQIP, palette, alt text),
in the export layout beside the dataset, and they stay small."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import pytest
from default_site_data import ROOT, SCAFFOLD, read_ndjson
from PIL import Image


@pytest.mark.parametrize("site", [ROOT, SCAFFOLD], ids=["default", "scaffold"])
def test_every_asset_document_describes_its_file(site: Path) -> None:
    content = site / "content"
    assets = [d for d in read_ndjson(content / "dataset.ndjson")
              if d["_type"] == "sanity.imageAsset"]
    files = {p.name for p in (content / "images").iterdir()}
    assert assets and len(files) == len(assets)
    for asset in assets:
        dims = asset["metadata"]["dimensions"]
        name = f"{asset['assetId']}-{dims['width']}x{dims['height']}.{asset['extension']}"
        data = (content / "images" / name).read_bytes()
        assert hashlib.sha1(data).hexdigest() == asset["assetId"] == asset["sha1hash"]
        assert asset["size"] == len(data) and asset["altText"]
        assert Image.open(io.BytesIO(data)).size == (dims["width"], dims["height"])
        head, _, encoded = asset["metadata"]["lqip"].partition(",")
        assert head == "data:image/jpeg;base64"
        lqip = Image.open(io.BytesIO(base64.b64decode(encoded)))
        assert lqip.width == 20 and abs(lqip.height - 20 * dims["height"] / dims["width"]) <= 1
        palette = asset["metadata"]["palette"]
        assert {"dominant", "vibrant", "muted", "darkMuted", "lightVibrant"} <= palette.keys()
        assert palette["dominant"]["background"].startswith("#")


def test_the_images_weigh_a_few_hundred_kilobytes() -> None:
    total = sum(p.stat().st_size for p in (ROOT / "content" / "images").iterdir())
    assert 50_000 < total < 400_000
