"""Local image variants: the URL a template gets, and the record of what a page used.

Owns ``Variant`` (an asset id, the image API query string that ``ssgen.render.images.url`` builds
for the requested size, crop and hotspot, and the output format), its output file
``_img/<sha1>-<W>x<H>-<params hash>.<ext>`` and its manifest tag ``image:<asset>.<ext>?
<query>``, from which the build renders it again without the page. ``variant_url``
returns the URL and records the variant in the page being rendered (``recording()``);
the build stores the records as the page's tags, so a variant lives as long as a page
uses it. Pure: nothing here reads or writes files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from ssgen.fastclass import dataclass
from ssgen.render.images.crop import Asset
from ssgen.render.images.url import image_query, parse_asset_id

TAG_PREFIX = "image:"
OUTPUT_DIR = "_img"
_OWN_FORMATS = {"jpg": "jpg", "jpeg": "jpg", "png": "png", "webp": "webp", "gif": "gif",
                "svg": "svg"}
_REQUESTED = {"jpg": "jpg", "pjpg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
_USED: ContextVar[set[str] | None] = ContextVar("ssgen_images_used", default=None)


@dataclass(frozen=True)
class Variant:
    """One rendered form of an image asset."""

    asset_id: str
    query: str
    ext: str

    @property
    def asset(self) -> Asset:
        """The asset's id parts (sha1, size, format)."""
        return parse_asset_id(self.asset_id)

    @property
    def source_name(self) -> str:
        """The asset's file name in an export's ``images/`` folder."""
        asset = self.asset
        return f"{asset.id}-{asset.width}x{asset.height}.{asset.format}"

    @property
    def tag(self) -> str:
        """The manifest tag of a page that uses this variant."""
        return f"{TAG_PREFIX}{self.asset_id}.{self.ext}?{self.query}"

    @property
    def file(self) -> str:
        """The output relpath: ``_img/<sha1>-<W>x<H>-<hash of the tag>.<ext>``."""
        asset = self.asset
        digest = hashlib.blake2b(self.tag.encode(), digest_size=6).hexdigest()
        return f"{OUTPUT_DIR}/{asset.id}-{asset.width}x{asset.height}-{digest}.{self.ext}"

    @classmethod
    def from_tag(cls, tag: str) -> Variant:
        """The variant a tag names (``ValueError`` for anything else)."""
        if not tag.startswith(TAG_PREFIX) or "?" not in tag:
            raise ValueError(f"not an image variant tag: {tag!r}")
        head, query = tag[len(TAG_PREFIX):].split("?", 1)
        asset_id, _, ext = head.rpartition(".")
        parse_asset_id(asset_id)
        if ext not in set(_REQUESTED.values()) | set(_OWN_FORMATS.values()):
            raise ValueError(f"image variant tag {tag!r} has an unknown format {ext!r}")
        return cls(asset_id, query, ext)


def make_variant(source: Any, **options: Any) -> Variant:
    """The variant of ``source`` for ``image_url`` options (``format="avif"`` too)."""
    extra = ""
    if options.get("format") == "avif":
        options = {**options, "format": None}
        extra = "fm=avif"
    asset, query = image_query(source, **options)
    if extra:
        query = f"{query}&{extra}" if query else extra
    params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    if "fm" in params:
        ext = _REQUESTED[params["fm"]]
    elif params.get("auto") == "format":
        ext = "webp"
    else:
        ext = _OWN_FORMATS.get(asset.format.lower(), "png")
    asset_id = f"image-{asset.id}-{asset.width}x{asset.height}-{asset.format}"
    return Variant(asset_id, query, ext)


def variant_url(source: Any, **options: Any) -> str:
    """The site URL of the variant (``/_img/...``), recorded for the page being rendered."""
    return use_variant(make_variant(source, **options))


def use_variant(variant: Variant) -> str:
    """``variant``'s site URL, recorded for the page being rendered (a memoised
    ``make_variant`` result must still be recorded for each page that uses it)."""
    used = _USED.get()
    if used is not None:
        used.add(variant.tag)
    return "/" + variant.file


@contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the tags of the variants that ``variant_url`` hands out inside the block."""
    used: set[str] = set()
    token = _USED.set(used)
    try:
        yield used
    finally:
        _USED.reset(token)


@contextmanager
def capture() -> Iterator[set[str]]:
    """Like ``recording``, for a part of a page: what it records reaches the page too."""
    outer = _USED.get()
    with recording() as used:
        yield used
    if outer is not None:
        outer.update(used)


def replay(tags: frozenset[str]) -> None:
    """Record ``tags`` (the variants a remembered part of a page used) for this page."""
    used = _USED.get()
    if used is not None:
        used.update(tags)
