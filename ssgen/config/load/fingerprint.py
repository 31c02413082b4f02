"""``Config.hash``: a stable fingerprint of the configuration the pages depend on.

The token, the parsed queries and the tables no page reads (deploy, state, check,
redirects) are left out, so changing them does not rebuild the site. So is a mirrored
Sanity source's ``api_host``: where the dataset is reached, not which one it is.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ssgen.config.images import ImagesConfig
from ssgen.config.load.model import (
    FeedConfig,
    MarkdownConfig,
    RouteConfig,
    SiteConfig,
    SitemapConfig,
)
from ssgen.config.search import SearchConfig
from ssgen.config.source import SourceConfig

_HOST = SourceConfig().api_host
_LATER = frozenset({"paginate_by"})


def fingerprint(parts: dict[str, Any]) -> str:
    """SHA-256 of ``parts`` as canonical JSON (dataclasses as their fields)."""
    def plain(value: Any) -> Any:
        if isinstance(value, (SiteConfig, SourceConfig, RouteConfig, MarkdownConfig,
                              FeedConfig, SitemapConfig, ImagesConfig, SearchConfig)):
            skip = {"token", "query_ast", "each_ast"}
            # A key added later counts only when set: older sites keep their hash.
            return {k: plain(v) for k, v in _fields(value).items()
                    if k not in skip and not (k in _LATER and v is None)}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value

    canonical = json.dumps(plain(parts), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _fields(value: Any) -> dict[str, Any]:
    """A config's fields as hashed. A mirrored Sanity source hashes as on the default
    host (a site on it keeps its hash): the mirror syncs afresh under a new host (its
    key names it) and the build diffs every document against the manifest, so pages
    change only where documents did. A proxy or a test server's port must not re-render
    the site. The project, dataset, API version and perspective still count."""
    fields: dict[str, Any] = vars(value)
    if isinstance(value, SourceConfig) and value.type == "sanity" and value.mirror:
        return {**fields, "api_host": _HOST}
    return fields
