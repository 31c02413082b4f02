"""The ``[source]`` table of ssgen.toml: ``SourceConfig``, its checks and the environment.

Owns which content source a site uses and how it is reached: ``type`` (local | sanity),
``perspective``, the local dataset files and Markdown folder, the Sanity project, API
version and host, ``mirror`` (sanity: build from a synced copy in ``.ssgen/mirror/``),
and the ``SANITY_*`` environment variables that override the file (the token comes only
from ``SANITY_API_TOKEN``). Re-exported by ``ssgen.config.load``.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

from ssgen.config.toml import BOOL, STR, STRS, TomlContext, take
from ssgen.fastclass import dataclass

_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
_ENV_OVERRIDES = {
    "SANITY_PROJECT_ID": "project_id",
    "SANITY_DATASET": "dataset",
    "SANITY_API_TOKEN": "token",
    "SANITY_API_HOST": "api_host",
}


@dataclass(frozen=True)
class SourceConfig:
    """``[source]`` after environment overrides. ``files`` None: every ``*.ndjson`` /
    export ``*.tar.gz`` under ``content/`` is loaded."""

    type: str = "local"
    perspective: str = "published"
    files: tuple[str, ...] | None = None
    markdown_dir: str = "content"
    markdown_type: str = "page"
    project_id: str = ""
    dataset: str = ""
    api_version: str = "2025-02-19"
    use_cdn: bool = True
    api_host: str = "https://api.sanity.io"
    token: str | None = field(default=None, repr=False)
    mirror: bool = True


_SOURCE = {"type": (STR, "local"), "perspective": (STR, "published"), "files": (STRS, None),
           "markdown_dir": (STR, "content"), "markdown_type": (STR, "page"),
           "project_id": (STR, ""), "dataset": (STR, ""), "api_version": (STR, "2025-02-19"),
           "use_cdn": (BOOL, True), "api_host": (STR, "https://api.sanity.io"),
           "token": (STR, None), "mirror": (BOOL, True)}


def parse_source(raw: dict[str, Any], env: Mapping[str, str], site_dir: Path,
                 ctx: TomlContext) -> SourceConfig:
    """Validate ``[source]``, apply the environment overrides, check the local files."""
    if "token" in raw:
        raise ctx.error("source.token", "never put the token in ssgen.toml: set the "
                                        "SANITY_API_TOKEN environment variable")
    values = take(raw, _SOURCE, "source", ctx)
    for variable, key in _ENV_OVERRIDES.items():
        if env.get(variable):
            values[key] = env[variable]
    if values["type"] not in ("local", "sanity"):
        raise ctx.error("source.type", f"{values['type']!r} is not a source type: use "
                                       "\"local\" or \"sanity\"")
    if values["perspective"] not in ("published", "drafts", "raw"):
        raise ctx.error("source.perspective", f"{values['perspective']!r}: use published, "
                                              "drafts or raw")
    _check_api(values, ctx)
    if values["type"] == "local":
        _check_files(values["files"], site_dir, ctx)
        _check_markdown_dir(values, "markdown_dir" in raw, site_dir, ctx)
    return SourceConfig(**values)


def _check_markdown_dir(values: dict[str, Any], explicit: bool, site_dir: Path,
                        ctx: TomlContext) -> None:
    folder = values["markdown_dir"]
    if explicit and folder and not (site_dir / folder).is_dir():
        raise ctx.error("source.markdown_dir", f'"{folder}" is not a folder of the site '
                                               '(create it, or set markdown_dir = "" to disable)')
    if folder and not values["markdown_type"]:
        raise ctx.error("source.markdown_type", "must not be empty: it is the _type of "
                                                "Markdown documents without one")


def _check_api(values: dict[str, Any], ctx: TomlContext) -> None:
    version = values["api_version"]
    try:
        valid = bool(_API_VERSION.fullmatch(version)) and bool(_dt.date.fromisoformat(version))
    except ValueError:
        valid = False
    if not valid:
        raise ctx.error("source.api_version", f"{version!r} must be a date YYYY-MM-DD, "
                                              "e.g. \"2025-02-19\"")
    if not re.match(r"https?://[^/]", values["api_host"]):
        raise ctx.error("source.api_host", f"{values['api_host']!r} must start with "
                                           "http:// or https://")
    if values["type"] == "sanity":
        for key, variable in (("project_id", "SANITY_PROJECT_ID"), ("dataset", "SANITY_DATASET")):
            if not values[key]:
                raise ctx.error(f"source.{key}", f"required for type = \"sanity\": set {key} "
                                                 f"in [source] or {variable}")


def _check_files(files: tuple[str, ...] | None, site_dir: Path, ctx: TomlContext) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(files or ()):
        key = f"source.files[{index}]"
        normal = os.path.normpath(name)
        if normal in seen:
            raise ctx.error(key, f"{name!r} is listed twice (also source.files[{seen[normal]}])")
        seen[normal] = index
        if not name.endswith((".ndjson", ".jsonl", ".tar.gz", ".tgz")):
            raise ctx.error(key, f"{name!r}: expected an NDJSON file (.ndjson) or a "
                                 "`sanity dataset export` archive (.tar.gz)")
        if not (site_dir / name).is_file():
            raise ctx.error(key, f'"{name}" not found (paths are relative to {site_dir})')
