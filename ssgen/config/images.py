"""The ``[images]`` table of ``ssgen.toml``: which image pipeline serves ``image_url``.

Owns ``ImagesConfig`` and its validation. ``pipeline = "local"`` renders every variant a
template asks for with Pillow into ``public/_img/`` from the asset files of a local
dataset (an ``images/`` folder beside an NDJSON file, or an export archive);
``"sanity"`` builds ``cdn.sanity.io`` URLs. Left out, it is ``"local"`` when the source
is local and has asset files, else ``"sanity"``. ``formats``: what ``responsive_image``
offers, best first (the last one is the ``<img>`` fallback; ``avif`` is dropped when the
installed Pillow cannot write it). ``widths``: its default ``srcset`` widths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ssgen.config.source import SourceConfig
from ssgen.config.toml import STR, STRS, TomlContext, describe, take
from ssgen.fastclass import dataclass

PIPELINES = ("local", "sanity")
FORMATS = ("avif", "webp", "jpg", "png")
_WIDTHS = (320, 640, 960, 1280, 1920)
_IMAGES = {"pipeline": (STR, None), "formats": (STRS, ("avif", "webp")),
           "widths": ("a list of integers", _WIDTHS)}
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


@dataclass(frozen=True)
class ImagesConfig:
    """``[images]``, with ``pipeline`` resolved to ``"local"`` or ``"sanity"``."""

    pipeline: str = "sanity"
    formats: tuple[str, ...] = ("avif", "webp")
    widths: tuple[int, ...] = (320, 640, 960, 1280, 1920)

    @property
    def local(self) -> bool:
        """Whether variants are rendered here rather than by Sanity's CDN."""
        return self.pipeline == "local"


def parse_images(raw: dict[str, Any] | None, source: SourceConfig, site_dir: Path,
                 ctx: TomlContext) -> ImagesConfig:
    """Validate ``[images]`` and resolve the default pipeline against the site's files."""
    raw = dict(raw or {})
    widths = raw.pop("widths", _WIDTHS)
    values = take(raw, _IMAGES, "images", ctx)
    pipeline = values["pipeline"]
    if pipeline is None:
        local = source.type == "local" and bool(asset_homes(source, site_dir))
        pipeline = "local" if local else "sanity"
    elif pipeline not in PIPELINES:
        raise ctx.error("images.pipeline", f'{pipeline!r}: use "local" or "sanity"')
    elif pipeline == "local" and source.type != "local":
        raise ctx.error("images.pipeline", '"local" renders from the asset files of a local '
                                           'dataset: set [source] type = "local", or use '
                                           '"sanity"')
    formats = tuple(values["formats"])
    if not formats or any(f not in FORMATS for f in formats) or len(set(formats)) < len(formats):
        raise ctx.error("images.formats", f"{list(formats)!r}: a list of distinct formats "
                                          f"from {', '.join(FORMATS)}")
    if not isinstance(widths, list | tuple) or not widths or not all(
            isinstance(w, int) and not isinstance(w, bool) and 0 < w <= 8192 for w in widths):
        raise ctx.error("images.widths", f"must be a list of pixel widths from 1 to 8192, "
                                         f"not {describe(widths)} {widths!r}")
    return ImagesConfig(pipeline, formats, tuple(sorted(set(widths))))


def dataset_files(source: SourceConfig, site_dir: Path) -> list[Path]:
    """The local dataset files (NDJSON and export archives) named by ``[source] files``, or
    found under ``content/``."""
    if source.files is not None:
        return [site_dir / name for name in source.files]
    content = site_dir / "content"
    if not content.is_dir():
        return []
    return sorted(p for p in content.rglob("*") if p.is_file() and (
        p.suffix in (".ndjson", ".jsonl") or p.name.endswith(ARCHIVE_SUFFIXES)))


def asset_homes(source: SourceConfig, site_dir: Path) -> list[Path]:
    """Where the dataset's asset files are: export archives, and ``images/`` folders
    beside NDJSON files (the layout of an unpacked ``sanity dataset export``)."""
    homes: list[Path] = []
    for path in dataset_files(source, site_dir):
        home = path if path.name.endswith(ARCHIVE_SUFFIXES) else path.parent / "images"
        if (home.is_file() if home is path else home.is_dir()) and home not in homes:
            homes.append(home)
    return homes
