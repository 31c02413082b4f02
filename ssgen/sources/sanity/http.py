"""The HTTP edge of the Sanity source: settings, URLs, encoding, retries and error bodies.

Owns everything that talks to the Query API over httpx: validating the connection
settings, building ``/v<ver>/data/query/<dataset>`` URLs (API or CDN host), choosing GET
or POST like the official client, retrying transient failures with backoff and jitter,
capping concurrent requests, and turning error bodies and transport failures into
``SanityError`` (a ``SourceError``). The bearer token is only ever put in a header: it
is kept out of reprs, log lines and error messages.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from ssgen.errors import ConfigError, GroqSyntaxError, SourceError
from ssgen.fastclass import dataclass

log = logging.getLogger("ssgen.sources.sanity")

DEFAULT_API_VERSION = "2025-02-19"
POST_THRESHOLD = 11_264
RETRY_STATUSES = frozenset({429, 502, 503, 504})
PERSPECTIVES = frozenset({"published", "drafts", "raw"})

_API_VERSION_RE = re.compile(r"^v?(\d{4})-(\d{2})-(\d{2})$")
_PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DATASET_RE = re.compile(r"^~?[a-z0-9][a-z0-9_-]{0,63}$")
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class SanityError(SourceError):
    """A Sanity API request failed; carries the query, HTTP status and Sanity error type."""

    def __init__(
        self,
        message: str,
        *,
        query: str | None = None,
        status: int | None = None,
        error_type: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.query = query
        self.retry_after = retry_after
        self.status = status
        self.error_type = error_type
        self.retryable = retryable
        super().__init__(message)


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


def backoff_delay(
    attempt: int, settings: SanitySettings, retry_after: float | None, rand: Callable[[], float]
) -> float:
    """``base * 2**attempt + jitter``, or the server's ``Retry-After`` when it asks for longer."""
    delay = settings.backoff_base * (2.0**attempt) + rand() * settings.backoff_jitter
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.max_retry_after))
    return delay


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, float(when.timestamp()) - now)


def error_from_body(status: int, content: bytes, query: str, tag: str) -> SanityError:
    """A SanityError from an API error response, with a caret for ``queryParseError``."""
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    where = f"Sanity API error {status} (tag {tag})"
    if isinstance(error, dict):
        etype = str(error.get("type") or "error")
        desc = str(error.get("description") or error.get("message") or "")
        start = error.get("start")
        if etype == "queryParseError" and isinstance(start, int):
            rendered = render_caret(desc, str(error.get("query") or query), start)
            return SanityError(f"{where}: {rendered}", query=query, status=status, error_type=etype)
        msg = f"{where}: {etype}: {desc}\n  query: {_short(query)}"
        return SanityError(msg, query=query, status=status, error_type=etype)
    if isinstance(body, dict) and (error or body.get("message")):
        etype = str(error or "error")
        msg = f"{where}: {etype}: {body.get('message', '')}\n  query: {_short(query)}"
        if status in (401, 403):
            msg += "\n  (check SANITY_API_TOKEN: it is missing, expired or lacks access)"
        return SanityError(msg, query=query, status=status, error_type=etype)
    text = content[:200].decode("utf-8", "replace")
    return SanityError(f"{where}: {text!r}\n  query: {_short(query)}", query=query, status=status)


def render_caret(message: str, query: str, offset: int, width: int = 100) -> str:
    """``GroqSyntaxError.render()``, with a long query line cut to a window around the caret."""
    error = GroqSyntaxError(message, query, offset)
    line = query.split("\n")[error.line - 1] if query else ""
    if len(line) <= width:
        return error.render()
    start = max(0, min(error.column - 1 - width // 2, len(line) - width))
    shown = ("…" if start else "") + line[start : start + width]
    shown += "…" if start + width < len(line) else ""
    caret = " " * (error.column - 1 - start + (1 if start else 0)) + "^"
    return f"GROQ syntax error: {error}\n  {shown}\n  {caret}"


def _short(query: str, limit: int = 300) -> str:
    flat = " ".join(query.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class HttpRunner:
    """Sends Query API requests with retries, a concurrency cap and error conversion."""

    def __init__(
        self,
        settings: SanitySettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self.rand = rand
        self.clock = clock
        self.request_count = 0
        self._slots = threading.BoundedSemaphore(settings.max_concurrency)
        self._count_lock = threading.Lock()
        timeout = httpx.Timeout(settings.timeout, connect=min(10.0, settings.timeout))
        self.client = httpx.Client(
            transport=transport,
            timeout=timeout,
            headers=self._headers(),
            limits=httpx.Limits(max_connections=settings.max_concurrency * 2),
        )

    def __repr__(self) -> str:
        return f"HttpRunner({self.settings!r})"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "ssgen"}
        if self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        return headers

    def close(self) -> None:
        """Close pooled connections."""
        self.client.close()

    def run(self, request: QueryRequest, tag: str) -> Any:
        """The ``result`` of a query response; retries transient failures, then raises."""
        attempt = 0
        while True:
            try:
                return self._attempt(request, tag)
            except SanityError as exc:
                if not exc.retryable or attempt >= self.settings.max_retries:
                    if exc.retryable:
                        raise self._gave_up(exc, attempt + 1) from exc
                    raise
                delay = backoff_delay(attempt, self.settings, exc.retry_after, self.rand)
                log.info("retrying %s (tag %s) in %.2fs: %s", request.method, tag, delay, exc)
                self.sleep(delay)
                attempt += 1

    def _gave_up(self, exc: SanityError, attempts: int) -> SanityError:
        message = f"gave up after {attempts} attempts: {exc}"
        return SanityError(
            self.scrub(message), query=exc.query, status=exc.status, error_type=exc.error_type
        )

    def _attempt(self, request: QueryRequest, tag: str) -> Any:
        with self._slots:
            with self._count_lock:
                self.request_count += 1
            response = self._send(request, tag)
        log.debug("%s %s -> %d", request.method, _log_url(request.url), response.status_code)
        if response.status_code >= 400:
            raise self._http_error(response, request, tag)
        return self._result(response, request, tag)

    def _send(self, request: QueryRequest, tag: str) -> httpx.Response:
        headers = {"Content-Type": "application/json"} if request.body is not None else None
        try:
            return self.client.request(
                request.method, request.url, content=request.body, headers=headers
            )
        except httpx.TimeoutException as exc:
            msg = f"Sanity API timed out after {self.settings.timeout}s (tag {tag})"
            raise self._transport_error(msg, request, exc) from exc
        except httpx.TransportError as exc:
            host = httpx.URL(request.url).host
            msg = (
                f"Sanity API connection failed (tag {tag}): {type(exc).__name__}: {exc}; "
                f"could not reach {host}: check source.project_id and source.api_host "
                "(or SANITY_PROJECT_ID / SANITY_API_HOST) and the network"
            )
            raise self._transport_error(msg, request, exc) from exc

    def _transport_error(
        self, message: str, request: QueryRequest, exc: Exception
    ) -> SanityError:
        text = f"{message}\n  query: {_short(request.query)}"
        return SanityError(self.scrub(text), query=request.query, retryable=True)

    def _http_error(self, response: httpx.Response, request: QueryRequest, tag: str) -> SanityError:
        error = error_from_body(response.status_code, response.content, request.query, tag)
        error.args = (self.scrub(str(error)),)
        if response.status_code in RETRY_STATUSES:
            error.retryable = True
            error.retry_after = parse_retry_after(response.headers.get("retry-after"), self.clock())
        return error

    def _result(self, response: httpx.Response, request: QueryRequest, tag: str) -> Any:
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            msg = (
                f"Sanity API returned a malformed or truncated JSON body (tag {tag}): {exc}"
                f"\n  query: {_short(request.query)}"
            )
            raise SanityError(self.scrub(msg), query=request.query, retryable=True) from exc
        if not isinstance(body, dict) or "result" not in body:
            msg = f"Sanity API response has no 'result' (tag {tag})"
            msg += f"\n  query: {_short(request.query)}"
            raise SanityError(self.scrub(msg), query=request.query, retryable=True)
        return body["result"]

    def scrub(self, text: str) -> str:
        """The text with the token masked, should any server or library echo it."""
        token = self.settings.token
        return text.replace(token, "***") if token else text


def _log_url(url: str) -> str:
    return url if len(url) <= 200 else url[:199] + "…"
