"""The image filters: ``image_url`` (Sanity CDN URLs, the asset's own URL without a
project, or the local image pipeline's variants) and ``responsive_image``.

Owns binding the image options of the configuration to the filters once, the memo of
URLs and variants by image value, and ``local_image_url`` (a site without a Sanity
project: the asset document's ``url``, refused unless its scheme is safe).
"""

from __future__ import annotations

import functools
import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson
from markupsafe import Markup

from ssgen.render.filters.urls import url_is_safe

if TYPE_CHECKING:
    from ssgen.config.load import Config


_URL_MEMO_SIZE = 8192


def image_url_filter(config: Config) -> Callable[..., str]:
    """``image_url(source, width, height, fit, auto, **options)`` bound to ``config``."""
    project_id = config.source.project_id
    dataset = config.source.dataset
    local = config.images.local
    # A list page shows the same images as the post pages (and again after each edit):
    # CDN URLs and local variants are a pure function of the image value and the
    # options, so they are memoised by the value's JSON (bounded; an unencodable value is
    # computed every time). A local variant is still recorded for each page using it.
    memo: dict[tuple[Any, ...], Any] = {}

    def memoised(source: Any, width: int | None = None, height: int | None = None,
                 fit: str | None = None, auto: str | None = None, **options: Any) -> str:
        try:
            key = (orjson.dumps(source, option=orjson.OPT_SORT_KEYS), width, height, fit,
                   auto, *sorted(options.items()))
            found: Any = memo.get(key)
        except (TypeError, orjson.JSONEncodeError):
            return image_url(source, width, height, fit, auto, **options)
        if found is None:
            found = _variant(source, width, height, fit, auto, options) if local \
                else image_url(source, width, height, fit, auto, **options)
            if len(memo) >= _URL_MEMO_SIZE:
                memo.clear()
            memo[key] = found
        if local:
            from ssgen.render.images.variants import use_variant
            from ssgen.render.text import site_url

            return site_url(use_variant(found), config.site.base_url)
        return str(found)

    def image_url(
        source: Any,
        width: int | None = None,
        height: int | None = None,
        fit: str | None = None,
        auto: str | None = None,
        **options: Any,
    ) -> str:
        if local:
            from ssgen.render.images.variants import variant_url
            from ssgen.render.text import site_url

            path = variant_url(source, width=width, height=height, fit=fit, auto=auto,
                               **options)
            return site_url(path, config.site.base_url)  # under the base path, as url()
        if not project_id:
            return local_image_url(source)
        from ssgen.render.images.url import image_url as build_url

        return build_url(
            source,
            project_id=project_id,
            dataset=dataset,
            width=width,
            height=height,
            fit=fit,
            auto=auto,
            **options,
        )

    return memoised


def _variant(source: Any, width: int | None, height: int | None, fit: str | None,
             auto: str | None, options: dict[str, Any]) -> Any:
    from ssgen.render.images.variants import make_variant

    return make_variant(source, width=width, height=height, fit=fit, auto=auto, **options)


def responsive_image_filter(config: Config,
                             image_url: Callable[..., str]) -> Callable[..., Markup]:
    """``responsive_image``: see ``ssgen.render.images.responsive``; local variants come in every
    configured format the installed Pillow writes, CDN images as ``auto=format``."""
    images = config.images

    def responsive_image(source: Any, width: int | None = None, height: int | None = None,
                         **options: Any) -> Markup:
        from ssgen.render.images.responsive import responsive_image as build

        if "class" in options:
            options["class_name"] = options.pop("class")
        if images.local:
            formats: tuple[str | None, ...] = _writable(images.formats)
        elif config.source.project_id:
            formats = (None,)
        else:  # no project: the asset document's own URL, one size
            formats, options = (None,), {**options, "widths": [width or 1]}
        return build(source, url_for=_sized(image_url, images.local or bool(
            config.source.project_id)), formats=formats, default_widths=images.widths,
            width=width, height=height, **options)

    return responsive_image


def _sized(image_url: Callable[..., str], sized: bool) -> Callable[..., str]:
    """``image_url``, or (no project, no local pipeline) the asset URL whatever the size."""
    if sized:
        return image_url
    return lambda source, **_: local_image_url(source)


def _writable(formats: tuple[str, ...]) -> tuple[str, ...]:
    usable = tuple(f for f in formats if f != "avif" or avif_supported())
    return usable or ("webp",)


@functools.cache
def avif_supported() -> bool:
    """Whether the installed Pillow can write AVIF: ``PIL.features.check("avif")``'s
    answer without its import of ``PIL.Image`` (a page naming variants that exist
    needs no Pillow; a new process saves ~25 ms)."""
    try:
        importlib.import_module("PIL._avif")
    except ModuleNotFoundError:
        return False
    except ImportError as exc:  # present but broken, as Pillow says it
        warnings.warn(str(exc), stacklevel=2)
        return False
    return True


def local_image_url(source: Any) -> str:
    """The URL of an image on a site without a Sanity project: the asset document's ``url``.

    Accepts a URL string, an asset document, or an image object whose ``asset`` was
    dereferenced in the query (``asset->``).
    """
    url = source if isinstance(source, str) else None
    if isinstance(source, Mapping):
        asset = source.get("asset")
        if isinstance(source.get("url"), str):
            url = source["url"]
        elif isinstance(asset, Mapping) and isinstance(asset.get("url"), str):
            url = asset["url"]
    if url is not None:
        if not url_is_safe(url):
            raise ValueError(f"image_url: unsafe image URL {url!r}: use http(s) or a "
                             "relative URL")
        return str(url)
    raise ValueError(
        "image_url: no Sanity project_id is configured and the image has no asset url; "
        "dereference the asset in the query (`image{..., asset->}`) or set "
        "[source] project_id"
    )


__all__ = ["image_url_filter", "local_image_url", "responsive_image_filter"]
