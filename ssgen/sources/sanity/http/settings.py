"""The Sanity source's connection settings (``SanitySettings``, validated on construction:
a bad value is a ``ConfigError`` naming its ``source.`` key) and the URLs they give: the
API or CDN host, ``/v<ver>``, the Query and Listen endpoints of the dataset. The token
is kept out of the repr.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import field
from urllib.parse import urlsplit

from ssgen.errors import ConfigError
from ssgen.fastclass import dataclass

DEFAULT_API_VERSION = "2025-02-19"
PERSPECTIVES = frozenset({"published", "drafts", "raw"})

_API_VERSION_RE = re.compile(r"^v?(\d{4})-(\d{2})-(\d{2})$")
_PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DATASET_RE = re.compile(r"^~?[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class SanitySettings:
    """Connection settings for one project/dataset; validated on construction."""

    project_id: str
    dataset: str
    api_version: str = DEFAULT_API_VERSION
    perspective: str = "published"
    use_cdn: bool = True
    api_host: str | None = None
    token: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    max_retries: int = 5
    max_concurrency: int = 8
    backoff_base: float = 0.1
    backoff_jitter: float = 0.1
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        _validate(self)
        object.__setattr__(self, "api_version", self.api_version.removeprefix("v"))
        if self.perspective == "previewDrafts":
            object.__setattr__(self, "perspective", "drafts")

    def __repr__(self) -> str:
        token = "set" if self.token else "none"
        return (
            f"SanitySettings(project_id={self.project_id!r}, dataset={self.dataset!r}, "
            f"api_version={self.api_version!r}, perspective={self.perspective!r}, "
            f"use_cdn={self.use_cdn!r}, api_host={self.api_host!r}, token=<{token}>)"
        )


def _validate(s: SanitySettings) -> None:
    if not _PROJECT_RE.match(s.project_id or ""):
        raise ConfigError(
            f"source.project_id: {s.project_id!r} is not a Sanity project id "
            "(lowercase letters, digits and dashes)"
        )
    if not _DATASET_RE.match(s.dataset or ""):
        raise ConfigError(
            f"source.dataset: {s.dataset!r} is not a dataset name "
            "(lowercase letters, digits, '_' and '-', at most 64 characters)"
        )
    match = _API_VERSION_RE.match(s.api_version or "")
    if not match or not _valid_date(*(int(g) for g in match.groups())):
        raise ConfigError(f"source.api_version: {s.api_version!r} is not a date like 2025-02-19")
    if s.perspective not in PERSPECTIVES | {"previewDrafts"}:
        raise ConfigError(
            f"source.perspective: {s.perspective!r} must be one of published, drafts, raw"
        )
    if s.api_host is not None and urlsplit(s.api_host).scheme not in ("http", "https"):
        raise ConfigError(f"source.api_host: {s.api_host!r} must start with http:// or https://")
    if s.max_concurrency < 1 or s.max_retries < 0 or s.timeout <= 0:
        raise ConfigError("source: max_concurrency >= 1, max_retries >= 0 and timeout > 0")


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def base_url(settings: SanitySettings, *, cdn: bool) -> str:
    """``https://<project>.api[cdn].sanity.io/v<ver>``, or ``<api_host>/v<ver>`` as given."""
    host = settings.api_host
    if host is None or urlsplit(host).hostname == "api.sanity.io":
        domain = "apicdn.sanity.io" if cdn else "api.sanity.io"
        return f"https://{settings.project_id}.{domain}/v{settings.api_version}"
    return f"{host.rstrip('/')}/v{settings.api_version}"


def query_url(settings: SanitySettings, *, cdn: bool) -> str:
    """The Query API endpoint for the dataset."""
    return f"{base_url(settings, cdn=cdn)}/data/query/{settings.dataset}"


def listen_url(settings: SanitySettings) -> str:
    """The Listen API endpoint for the dataset (never the CDN)."""
    return f"{base_url(settings, cdn=False)}/data/listen/{settings.dataset}"


__all__ = ["DEFAULT_API_VERSION", "PERSPECTIVES", "SanitySettings", "base_url", "listen_url",
           "query_url"]
