"""The config a watched ``ssgen.toml`` edit reloads, refused when it would empty the site.

Owns ``reload_config``: ``ssgen.toml`` is loaded again; a file that fails to load raises
with its file:line, and one that defines no ``[[routes]]`` while the running config had
some raises too: publishing it would take every page down (410 stubs), and an editor's
in-place save read between its truncate and its write is such a file. Either way the
worker keeps the last good site, shows the error (log, live-reload overlay) and reloads
on the next change.
"""

from __future__ import annotations

from ssgen.config.load import Config, load_config
from ssgen.errors import ConfigError


def reload_config(running: Config) -> Config:
    """``running``'s ssgen.toml loaded again, unless it would leave the site with no pages."""
    config = load_config(running.site_dir)
    if running.routes and not config.routes:
        raise ConfigError(
            f"{config.config_file}: no [[routes]]: the site would have no pages, so the "
            "last good site is kept (a half-saved file? restart `ssgen serve` to publish "
            "an empty site)")
    return config


__all__ = ["reload_config"]
