"""``Config.hash``: a stable fingerprint of the configuration the pages depend on.

The token, the parsed queries and the tables no page reads (deploy, state, check,
redirects) are left out, so changing them does not rebuild the site.
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

_LATER = frozenset({"paginate_by"})


def fingerprint(parts: dict[str, Any]) -> str:
    """SHA-256 of ``parts`` as canonical JSON (dataclasses as their fields)."""
    def plain(value: Any) -> Any:
        if isinstance(value, (SiteConfig, SourceConfig, RouteConfig, MarkdownConfig,
                              FeedConfig, SitemapConfig, ImagesConfig, SearchConfig)):
            skip = {"token", "query_ast", "each_ast"}
            # A key added later counts only when set: older sites keep their hash.
            return {k: plain(v) for k, v in vars(value).items()
                    if k not in skip and not (k in _LATER and v is None)}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value

    canonical = json.dumps(plain(parts), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
