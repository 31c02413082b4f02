"""``ssgen.toml`` -> frozen dataclasses: the one place the site configuration is read.

Owns loading, validating (every mistake is a ``ConfigError`` naming ``file:line`` when
known, the key path, and what to do), environment overrides of ``[source]``, parsing
every GROQ string once (the parsed ``Query`` objects live on the config) and
``Config.hash``, a stable fingerprint of the effective configuration (never the token).
The reference for users is docs/configuration.md; this package implements exactly it.

Modules, each importing only those listed after it: ``assemble`` (``load_config``: the
top-level keys, in order), ``routes`` (``[[routes]]``), ``site`` (``[site]`` and where the
output may go), ``sections`` (``[data]``, ``[markdown]``, ``[feed]``, ``[sitemap]``,
``[state]``), ``fingerprint`` (``Config.hash``), ``checks`` (shared checks), ``model``
(the dataclasses). The other tables live in their own modules of ``ssgen.config``.
"""

from ssgen.config.load.assemble import load_config
from ssgen.config.load.model import (
    Config,
    FeedConfig,
    MarkdownConfig,
    RouteConfig,
    SiteConfig,
    SitemapConfig,
)
from ssgen.config.source import SourceConfig

__all__ = ["Config", "FeedConfig", "MarkdownConfig", "RouteConfig", "SiteConfig",
           "SitemapConfig", "SourceConfig", "load_config"]
