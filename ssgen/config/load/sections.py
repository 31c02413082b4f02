"""The small tables of ``ssgen.toml``, each checked against its schema.

Owns ``[data]`` (named GROQ queries), ``[markdown]``, ``[feed]``, ``[sitemap]`` and ``[state]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ssgen.config.load.checks import parse_groq, positive
from ssgen.config.load.model import FeedConfig, MarkdownConfig, RouteConfig, SitemapConfig
from ssgen.config.params import check_params
from ssgen.config.toml import BOOL, IDENT, INT, REQUIRED, STR, TomlContext, describe, take
from ssgen.errors import ConfigError

if TYPE_CHECKING:
    from ssgen.groq.nodes import Query

_STATE = {"url": (STR, None)}
_MARKDOWN = {name: (BOOL, value) for name, value in vars(MarkdownConfig()).items()}
_FEED = {"route": (STR, REQUIRED), "path": (STR, "/feed.xml"), "title": (STR, ""),
         "title_field": (STR, "title"), "date_field": (STR, "publishedAt"),
         "summary_field": (STR, "excerpt"), "limit": (INT, 20)}
_SITEMAP = {"enabled": (BOOL, True), "lastmod_field": (STR, "_updatedAt"),
            "max_urls": (INT, 50_000)}


def parse_data(raw: dict[str, Any], ctx: TomlContext) -> tuple[dict[str, str], dict[str, Query]]:
    """``[data]``: name -> GROQ text, and name -> parsed query (names are identifiers)."""
    data: dict[str, str] = {}
    asts: dict[str, Query] = {}
    for name, text in raw.items():
        key = f"data.{name}"
        if not re.fullmatch(IDENT, name):
            raise ctx.error(key, "names under [data] must be identifiers (letters, digits, _) "
                                 "so templates can write data.<name>")
        if not isinstance(text, str):
            raise ctx.error(key, f"must be a GROQ query string, not {describe(text)}")
        data[name] = text
        asts[name] = parse_groq(text, key, ctx)
        check_params(asts[name], frozenset(), key, ctx)
    return data, asts


def parse_feed(raw: dict[str, Any] | None, routes: tuple[RouteConfig, ...],
          ctx: TomlContext) -> FeedConfig | None:
    """``[feed]`` (None when absent): its route must exist, its path start with '/'."""
    if raw is None:
        return None
    values = take(raw, _FEED, "feed", ctx)
    names = [route.name for route in routes]
    if values["route"] not in names:
        import difflib  # only for a mistake's did-you-mean

        close = difflib.get_close_matches(values["route"], names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ctx.error("feed.route", f"no route named {values['route']!r}{hint}")
    if not values["path"].startswith("/"):
        raise ctx.error("feed.path", f"{values['path']!r} must start with '/'")
    positive(values["limit"], "feed.limit", ctx)
    return FeedConfig(**values)


def parse_markdown(raw: dict[str, Any] | None, ctx: TomlContext) -> MarkdownConfig:
    """``[markdown]``: every option true or false."""
    return MarkdownConfig(**take(raw or {}, _MARKDOWN, "markdown", ctx))


def parse_sitemap(raw: dict[str, Any] | None, ctx: TomlContext) -> SitemapConfig:
    """``[sitemap]``: ``max_urls`` within the sitemaps.org limit of 1 to 50,000."""
    sitemap = SitemapConfig(**take(raw or {}, _SITEMAP, "sitemap", ctx))
    if not 1 <= sitemap.max_urls <= 50_000:
        raise ctx.error("sitemap.max_urls", f"must be 1 to 50000, not {sitemap.max_urls}")
    return sitemap


def parse_state_url(table: dict[str, Any], env: Mapping[str, str], ctx: Any) -> str | None:
    """``SSGEN_STATE_URL`` or ``[state] url``: a postgresql:// URL, or None for SQLite."""
    url = env.get("SSGEN_STATE_URL") or take(table, _STATE, "state", ctx)["url"]
    if url and not re.match(r"postgres(ql)?://", url):
        raise ConfigError(f"[state] url must be a postgresql:// URL, not {url.split(':')[0]!r}"
                          " (leave it out to keep the state in .ssgen/)")
    return url or None
