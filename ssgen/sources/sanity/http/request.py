"""A Query API request as it goes on the wire (``QueryRequest``): GET with ``query=``,
``$name=`` JSON pairs, the perspective and a safe request tag, or POST with a JSON body
when the URL would be too long (as the official client does); the CDN only for GETs that
do not read drafts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from ssgen.errors import SourceError
from ssgen.fastclass import dataclass
from ssgen.sources.sanity.http.settings import SanitySettings, query_url

POST_THRESHOLD = 11_264

_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_tag(tag: str) -> str:
    """A request tag Sanity accepts: ``[A-Za-z0-9_.-]``, at most 75 characters."""
    cleaned = _TAG_UNSAFE.sub("-", tag).strip("-.") or "ssgen"
    return cleaned[:75]


def encode_params(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """``[("$name", "<JSON>")]`` for the URL; a value that is not JSON is a SourceError."""
    pairs = []
    for name, value in (params or {}).items():
        try:
            encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise SourceError(f"query parameter ${name}: not JSON-serializable ({exc})") from exc
        pairs.append((f"${name}", encoded))
    return pairs


@dataclass(frozen=True)
class QueryRequest:
    """One Query API request as it goes on the wire (method, URL, optional JSON body)."""

    method: str
    url: str
    body: bytes | None
    query: str


def build_query_request(
    settings: SanitySettings,
    query: str,
    params: Mapping[str, Any] | None,
    *,
    tag: str = "ssgen",
    perspective: str | None = None,
    cdn: bool = False,
) -> QueryRequest:
    """GET with ``query=`` and ``$name=`` pairs; POST ``{"query","params"}`` when that is long."""
    options = [
        ("perspective", perspective or settings.perspective),
        ("returnQuery", "false"),
        ("tag", safe_tag(tag)),
    ]
    search = urlencode([("query", query), *encode_params(params), *options])
    if len(search) + 1 < POST_THRESHOLD:
        use_cdn = cdn and (perspective or settings.perspective) != "drafts"
        return QueryRequest("GET", f"{query_url(settings, cdn=use_cdn)}?{search}", None, query)
    body = json.dumps({"query": query, "params": dict(params or {})}, ensure_ascii=False)
    url = f"{query_url(settings, cdn=False)}?{urlencode(options)}"
    return QueryRequest("POST", url, body.encode(), query)


__all__ = ["POST_THRESHOLD", "QueryRequest", "build_query_request", "encode_params",
           "safe_tag"]
