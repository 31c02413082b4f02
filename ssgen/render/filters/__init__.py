"""The Jinja2 filters templates use: markdown, portable_text, image_url, responsive_image,
date, absolute_url, slugify, safe_url.

Owns the adaptation of the pure content renderers (``ssgen.render.markdown``,
``ssgen.render.portabletext``, ``ssgen.render.images`` (CDN URLs; local variants and
``responsive_image`` for the local image pipeline), ``ssgen.render.text``) to templates:
HTML results come back as ``Markup`` (never escaped twice), config values (Markdown
options, Sanity project, base URL) are bound once. Here: ``install_filters``, ``preload``
and the text filters (markdown, date, slugify); ``portable`` the ``portable_text`` filter
and its macro convention, ``images`` the image filters, ``urls`` the URL filters and the
``url()`` helper (imports one way: images > urls, a contract in pyproject.toml).
No ``now`` global is provided: output depends only on data and templates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from ssgen.render.filters.images import (
    image_url_filter,
    local_image_url,
    responsive_image_filter,
)
from ssgen.render.filters.portable import PT_KINDS, PT_TEMPLATE, portable_text_filter
from ssgen.render.filters.urls import (
    PageUrl,
    UrlHelper,
    absolute_url_filter,
    safe_url_filter,
    url_is_safe,
    with_url_helper,
)

if TYPE_CHECKING:
    from ssgen.config.load import Config


def install_filters(env: jinja2.Environment, config: Config) -> None:
    """Register every ssgen filter on ``env``, bound to ``config``."""
    image_url = image_url_filter(config)
    env.filters.update(
        {
            "markdown": _markdown_filter(config),
            "portable_text": portable_text_filter(),
            "image_url": image_url,
            "responsive_image": responsive_image_filter(config, image_url),
            "date": date_filter,
            "absolute_url": absolute_url_filter(config.site.base_url),
            "slugify": slugify_filter,
            "safe_url": safe_url_filter,
        }
    )
    env.globals["url"] = UrlHelper(config.site.base_url)


def preload(config: Config) -> None:
    """Import the filters' libraries and build the Markdown parser now.

    Called once before render workers fork, so they inherit all of it instead of each
    paying for it on its first page (the imports stay lazy for the other commands).
    """
    from ssgen.render.markdown import render_markdown
    from ssgen.render.portabletext.html import to_html

    render_markdown("", config.markdown)
    to_html([])


def _markdown_filter(config: Config) -> Callable[[Any], Markup]:
    options = config.markdown

    def markdown(text: Any) -> Markup:
        from ssgen.render.markdown import render_markdown

        if text is None:
            return Markup("")
        return Markup(render_markdown(str(text), options))

    return markdown


def date_filter(value: Any, fmt: str | None = None) -> str:
    """Format an ISO date/datetime string (or date object) with strftime ``fmt``."""
    from ssgen.render.text import format_date

    return format_date(value) if fmt is None else format_date(value, fmt)


def slugify_filter(value: Any) -> str:
    """A URL slug of ``value``."""
    from ssgen.render.text import slugify

    return slugify(str(value))


__all__ = ["PT_KINDS", "PT_TEMPLATE", "PageUrl", "UrlHelper", "date_filter", "install_filters",
           "local_image_url", "preload", "safe_url_filter", "slugify_filter", "url_is_safe",
           "with_url_helper"]
