"""``[site]``: title, base URL, language, params, and where the output goes.

Owns the checks that keep the output folder apart from everything the build reads (the
site folder itself, ``templates/``, ``content/``, ``static/``, ``.ssgen/``, the dataset
files and the Markdown folder of ``[source]``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ssgen.config.load.model import SiteConfig
from ssgen.config.source import SourceConfig
from ssgen.config.toml import STR, TABLE, TomlContext, take

_SITE = {"title": (STR, ""), "base_url": (STR, ""), "output": (STR, "public"),
         "language": (STR, "en"), "description": (STR, ""), "params": (TABLE, None)}


def parse_site(raw: dict[str, Any], site_dir: Path, ctx: TomlContext) -> SiteConfig:
    """``[site]`` checked: an http(s) base URL (no trailing /), a safe output folder."""
    values = take(raw, _SITE, "site", ctx)
    base = values["base_url"]
    if base and not re.match(r"https?://[^/]", base):
        raise ctx.error("site.base_url", f"{base!r} must start with http:// or https://")
    values["base_url"] = base.rstrip("/")
    values["params"] = dict(values["params"] or {})
    _check_output(values["output"], site_dir, ctx)
    return SiteConfig(**values)


# Folders the build reads: the output may be neither inside one (each build would copy or
# read its own output) nor around one (each build would write over its sources).
_SOURCE_DIRS = ("templates", "content", "static", ".ssgen")


def _check_output(output: str, site_dir: Path, ctx: TomlContext) -> None:
    resolved = (site_dir / output).resolve()
    root = site_dir.resolve()
    if not output.strip() or root.is_relative_to(resolved):
        raise ctx.error("site.output", f"{output!r} cannot be the output folder: it would "
                                       "overwrite the site's own files; use e.g. 'public'")
    for name in _SOURCE_DIRS:
        source = root / name
        if resolved.is_relative_to(source):
            raise ctx.error("site.output", f"{output!r} is inside {name}/, which the build "
                                           "reads: each build would read its own output; "
                                           "use a folder outside it, e.g. 'public'")


def check_sources_outside(site: SiteConfig, source: SourceConfig, site_dir: Path,
                           ctx: TomlContext) -> None:
    """No dataset file or Markdown folder the build reads may be inside the output
    folder, nor the output inside the Markdown folder."""
    output = (site_dir / site.output).resolve()
    markdown = (site_dir / source.markdown_dir).resolve()
    if source.markdown_dir and (markdown.is_relative_to(output)
                                or output.is_relative_to(markdown)):
        raise ctx.error("site.output", f"{site.output!r} and source.markdown_dir "
                                       f"{source.markdown_dir!r} overlap: the build would "
                                       "read its own output; keep them apart")
    for index, name in enumerate(source.files or ()):
        if (site_dir / name).resolve().is_relative_to(output):
            raise ctx.error(f"source.files[{index}]", f"{name!r} is inside the output folder "
                                                      f"{site.output!r}, which builds write "
                                                      "and clean: keep sources outside it")
