"""The HTTP edge of the Sanity source: settings, URLs, encoding, retries and error bodies.

Owns everything that talks to the Query API over httpx: validating the connection
settings, building ``/v<ver>/data/query/<dataset>`` URLs (API or CDN host), choosing GET
or POST like the official client, retrying transient failures with backoff and jitter,
capping concurrent requests, and turning error bodies and transport failures into
``SanityError`` (a ``SourceError``). The bearer token is only ever put in a header: it
is kept out of reprs, log lines and error messages. Here: ``HttpRunner`` (the retries,
the cap, the conversion of failures) and the backoff; ``settings`` the settings and
URLs, ``request`` the request on the wire, ``errors`` ``SanityError`` and the error
bodies (imports one way: request > settings | errors, a contract in pyproject.toml).
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from ssgen.sources import wellformed
from ssgen.sources.sanity.http.errors import (
    SanityError,
    error_from_body,
    render_caret,
    short_query,
)
from ssgen.sources.sanity.http.request import (
    POST_THRESHOLD,
    QueryRequest,
    build_query_request,
    encode_params,
    safe_tag,
)
from ssgen.sources.sanity.http.settings import (
    DEFAULT_API_VERSION,
    PERSPECTIVES,
    SanitySettings,
    base_url,
    listen_url,
    query_url,
)

log = logging.getLogger("ssgen.sources.sanity")

RETRY_STATUSES = frozenset({429, 502, 503, 504})


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
        text = f"{message}\n  query: {short_query(request.query)}"
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
            body = wellformed.loads(response.content)
        except ValueError as exc:
            msg = (
                f"Sanity API returned a malformed or truncated JSON body (tag {tag}): {exc}"
                f"\n  query: {short_query(request.query)}"
            )
            raise SanityError(self.scrub(msg), query=request.query, retryable=True) from exc
        if not isinstance(body, dict) or "result" not in body:
            msg = f"Sanity API response has no 'result' (tag {tag})"
            msg += f"\n  query: {short_query(request.query)}"
            raise SanityError(self.scrub(msg), query=request.query, retryable=True)
        return body["result"]

    def scrub(self, text: str) -> str:
        """The text with the token masked, should any server or library echo it."""
        token = self.settings.token
        return text.replace(token, "***") if token else text


def _log_url(url: str) -> str:
    return url if len(url) <= 200 else url[:199] + "…"


__all__ = ["DEFAULT_API_VERSION", "PERSPECTIVES", "POST_THRESHOLD", "RETRY_STATUSES",
           "HttpRunner", "QueryRequest", "SanityError", "SanitySettings", "backoff_delay",
           "base_url", "build_query_request", "encode_params", "error_from_body", "listen_url",
           "parse_retry_after", "query_url", "render_caret", "safe_tag"]
