"""The URL filters and helpers: ``url()`` (``UrlHelper``; a page's ``url`` variable,
``PageUrl``, callable as it), ``absolute_url`` and ``safe_url``.

Owns the one scheme rule for CMS URLs in templates (``url_is_safe``: the Portable Text
link renderer's) and site paths under the base path of ``[site] base_url``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jinja2


def absolute_url_filter(base_url: str) -> Callable[[Any], str]:
    """``absolute_url(path)``: ``path`` as a full URL under ``base_url``."""
    def absolute_url(path: Any) -> str:
        from ssgen.render.text import absolute_url as join

        return join(str(path), base_url)

    return absolute_url


class UrlHelper:
    """``url("/style.css")`` in templates: a site path as a link under the base path of
    ``[site] base_url`` (``/sub/style.css``); ``url(path, absolute=True)`` the full URL."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def __call__(self, path: Any, absolute: bool = False) -> str:
        from ssgen.render.text import absolute_url, site_url

        if absolute:
            return absolute_url(str(path), self.base_url)
        return site_url(str(path), self.base_url)


class PageUrl(str):
    """A page's ``url`` variable: prints as its absolute URL (``{{ url }}``) and, called,
    is the ``url()`` helper (``{{ url('/style.css') }}``), which the variable would
    otherwise hide."""

    helper: UrlHelper

    def __new__(cls, value: str, helper: UrlHelper) -> PageUrl:
        made = super().__new__(cls, value)
        made.helper = helper
        return made

    def __call__(self, path: Any, absolute: bool = False) -> str:
        return self.helper(path, absolute)


def with_url_helper(context: Mapping[str, Any], helper: UrlHelper) -> Mapping[str, Any]:
    """``context`` with its ``url`` string made callable as the ``url()`` helper."""
    page_url = context.get("url")
    if type(page_url) is not str:
        return context
    return {**context, "url": PageUrl(page_url, helper)}


def safe_url_filter(value: Any) -> str:
    """``value`` as a link target when its scheme is safe, else ``"#"`` (None/undefined: "").

    Safe means the Portable Text link renderer's rule (``uri_looks_safe`` in
    ``ssgen.render.portabletext.html``: http, https, mailto, tel, relative and fragment
    URLs), so a CMS ``href`` such as ``javascript:alert(1)`` never reaches an ``<a href>``.
    Autoescaping still applies.
    """
    if value is None or isinstance(value, jinja2.Undefined):
        return ""
    text = str(value)
    return text if url_is_safe(text) else "#"


def url_is_safe(url: str) -> bool:
    """The one scheme rule for CMS URLs (links in Portable Text, ``safe_url``, local images)."""
    from ssgen.render.portabletext.html import uri_looks_safe

    return uri_looks_safe(url)


__all__ = ["PageUrl", "UrlHelper", "absolute_url_filter", "safe_url_filter", "url_is_safe",
           "with_url_helper"]
