"""``load_config``: reads ``ssgen.toml`` and assembles ``Config`` from its tables, in order.

Each table is parsed by the module that owns it; this module owns the top-level keys,
the ``--base-url`` override and the choice of what goes into ``Config.hash``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssgen.config.check import parse_check
from ssgen.config.images import ImagesConfig, parse_images
from ssgen.config.load.fingerprint import fingerprint
from ssgen.config.load.model import Config, SiteConfig
from ssgen.config.load.routes import list_templates, parse_routes
from ssgen.config.load.sections import (
    parse_data,
    parse_feed,
    parse_markdown,
    parse_sitemap,
    parse_state_url,
)
from ssgen.config.load.site import check_sources_outside, parse_site
from ssgen.config.redirects import parse_redirects
from ssgen.config.search import SearchConfig, parse_search
from ssgen.config.source import parse_source
from ssgen.config.toml import TABLE, TomlContext, read_toml, take
from ssgen.errors import ConfigError

if TYPE_CHECKING:
    from ssgen.config.deploy import DeployConfig

_TOP: dict[str, tuple[str, Any]] = {
    "site": (TABLE, None), "source": (TABLE, None), "data": (TABLE, None),
    "routes": ("an array of tables ([[routes]])", None), "markdown": (TABLE, None),
    "feed": (TABLE, None), "sitemap": (TABLE, None), "deploy": (TABLE, None),
    "images": (TABLE, None),
    "state": (TABLE, None), "check": (TABLE, None), "search": (TABLE, None),
    "redirects": ("an array of tables ([[redirects]])", None),
}


def load_config(
    site_dir: Path, env: Mapping[str, str] | None = None, *, base_url: str | None = None
) -> Config:
    """Read and validate ``site_dir/ssgen.toml``; ``env`` defaults to ``os.environ``.
    ``base_url`` overrides ``[site] base_url`` (``--base-url``, for preview builds)."""
    site_dir = Path(site_dir).absolute()
    raw, ctx = read_toml(site_dir)
    top = take(raw, _TOP, "", ctx)
    site = _with_base_url(parse_site(top["site"] or {}, site_dir, ctx), base_url)
    source = parse_source(top["source"] or {}, os.environ if env is None else env, site_dir, ctx)
    check_sources_outside(site, source, site_dir, ctx)
    data, data_ast = parse_data(top["data"] or {}, ctx)
    routes = parse_routes(top["routes"] or [], list_templates(site_dir / "templates"), ctx)
    markdown = parse_markdown(top["markdown"], ctx)
    feed = parse_feed(top["feed"], routes, ctx)
    sitemap = parse_sitemap(top["sitemap"], ctx)
    deploy = _deploy(top["deploy"], ctx)
    state_url = parse_state_url(top["state"] or {}, os.environ if env is None else env, ctx)
    images = parse_images(top["images"], source, site_dir, ctx)
    check = parse_check(top["check"], ctx)
    search = parse_search(top["search"], ctx)
    parts = {"site": site, "source": source, "data": data, "routes": routes,
             "markdown": markdown, "feed": feed, "sitemap": sitemap}
    if images != ImagesConfig():  # sites on the default CDN pipeline keep their fingerprint
        parts["images"] = images
    if search != SearchConfig():  # likewise for sites without search
        parts["search"] = search
    return Config(site_dir=site_dir, site=site, source=source, data=data, routes=routes,
                  markdown=markdown, feed=feed, sitemap=sitemap, hash=fingerprint(parts),
                  data_ast=data_ast, deploy=deploy, images=images, search=search,
                  state_url=state_url, check=check,
                  redirects=parse_redirects(top["redirects"], ctx))


def _deploy(raw: dict[str, Any] | None, ctx: TomlContext) -> DeployConfig | None:
    """``[deploy]`` (None when absent: its module is imported only for a site with one)."""
    if raw is None:
        return None
    from ssgen.config.deploy import parse_deploy

    return parse_deploy(raw, ctx)


def _with_base_url(site: SiteConfig, base_url: str | None) -> SiteConfig:
    if base_url is None:
        return site
    if not re.match(r"https?://[^/]", base_url):
        raise ConfigError(f"--base-url {base_url!r} must start with http:// or https://")
    return replace(site, base_url=base_url.rstrip("/"))
