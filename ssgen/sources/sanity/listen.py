"""The Sanity Listen API: server-sent events turned into document changes.

Owns SSE framing (``SseParser``: ``id``/``event``/``data``/``retry`` fields, ``:``
keep-alives, blank-line dispatch), the event model (``ListenEvent``, ``Mutation``), and
``Listener``: one long-lived streaming GET with reconnects (backoff, ``Last-Event-ID``
resume), a stop flag for shutdown, and ``disconnect``/``channelError`` handling.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import field
from typing import Any
from urllib.parse import urlencode

import httpx

from ssgen.fastclass import dataclass
from ssgen.sources import wellformed
from ssgen.sources.sanity.http import (
    SanityError,
    SanitySettings,
    error_from_body,
    listen_url,
    parse_retry_after,
)

log = logging.getLogger("ssgen.sources.listen")  # its name before the package: kept for log configs


@dataclass(frozen=True)
class SseMessage:
    """One dispatched server-sent event."""

    event: str
    data: str
    id: str | None


class SseParser:
    """Incremental SSE parser (WHATWG rules) fed one decoded line at a time."""

    def __init__(self) -> None:
        self.last_id: str | None = None
        self.retry_ms: int | None = None
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> SseMessage | None:
        """Consume a line (without its terminator); a blank line may dispatch a message."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> SseMessage | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return SseMessage(event or "message", "\n".join(data), self.last_id)


def parse_sse(lines: Iterable[str]) -> Iterator[SseMessage]:
    """Every message in a stream of lines."""
    parser = SseParser()
    for line in lines:
        message = parser.feed(line)
        if message is not None:
            yield message


@dataclass(frozen=True)
class Mutation:
    """A ``mutation`` event: which document changed and how it now relates to the filter."""

    document_id: str
    transition: str  # update | appear | disappear
    transaction_id: str | None = None
    event_id: str | None = None
    result: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    timestamp: str | None = None

    @property
    def operation(self) -> str:
        """The change as a webhook would name it: create, update or delete."""
        return {"appear": "create", "disappear": "delete"}.get(self.transition, "update")

    @property
    def document_type(self) -> str | None:
        """``_type`` from the new or previous revision, when the stream included one."""
        for doc in (self.result, self.previous):
            if isinstance(doc, dict) and isinstance(doc.get("_type"), str):
                return str(doc["_type"])
        return None


@dataclass(frozen=True)
class ListenEvent:
    """Any Listen API event; ``mutation`` is set for ``kind == "mutation"``."""

    kind: str  # welcome | mutation | reconnect | channelError | disconnect
    id: str | None
    data: Any
    mutation: Mutation | None = None


def to_event(message: SseMessage) -> ListenEvent:
    """A ``ListenEvent`` from an SSE message; bad JSON in data is a SanityError."""
    try:
        data = wellformed.loads(message.data.encode()) if message.data else None
    except ValueError as exc:
        raise SanityError(f"Listen API sent malformed JSON in a {message.event!r} event") from exc
    mutation = None
    if message.event == "mutation":
        if not isinstance(data, dict) or not isinstance(data.get("documentId"), str):
            raise SanityError("Listen API sent a mutation event without documentId")
        mutation = Mutation(
            document_id=data["documentId"],
            transition=str(data.get("transition", "update")),
            transaction_id=data.get("transactionId"),
            event_id=message.id,
            result=data.get("result"),
            previous=data.get("previous"),
            timestamp=data.get("timestamp"),
        )
    return ListenEvent(message.event, message.id, data, mutation)


@dataclass
class ListenOptions:
    """Stream options and reconnect policy."""

    include_result: bool = True
    include_previous: bool = False
    visibility: str = "query"
    tag: str = "ssgen.listen"
    read_timeout: float = 120.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_failures: int | None = None
    extra_params: dict[str, str] = field(default_factory=dict)


class Listener:
    """A reconnecting Listen API subscription; ``run()`` blocks until ``stop()`` or disconnect."""

    def __init__(
        self,
        settings: SanitySettings,
        filter_query: str,
        on_event: Callable[[ListenEvent], None],
        *,
        resume_event_id: str | None = None,
        options: ListenOptions | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.filter_query = filter_query
        self.on_event = on_event
        self.last_event_id = resume_event_id
        self.options = options or ListenOptions()
        self.rand = rand
        self.connections = 0
        self._sleep = sleep
        self._stop = threading.Event()
        self._response: httpx.Response | None = None
        self._welcomed = False
        self._retry_after: float | None = None
        timeout = httpx.Timeout(10.0, read=self.options.read_timeout)
        self.client = httpx.Client(transport=transport, timeout=timeout)

    def __repr__(self) -> str:
        return f"Listener({self.settings!r}, filter={self.filter_query!r})"

    @property
    def stopped(self) -> bool:
        """True once ``stop()`` was called or the server said ``disconnect``."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask ``run()`` to return; unblocks a pending read by closing the stream."""
        self._stop.set()
        response = self._response
        if response is not None:
            _interrupt(response)

    def run(self) -> None:
        """Listen until stopped; reconnects on drops and ``reconnect`` events."""
        failures = 0
        try:
            while not self._stop.is_set():
                welcomed = self._connect_once()
                failures = 0 if welcomed else failures + 1
                if self._stop.is_set():
                    break
                limit = self.options.max_failures
                if limit is not None and failures > limit:
                    raise SanityError(f"Listen API: gave up after {failures} failed connections")
                self._wait(self._delay(failures))
        finally:
            self.client.close()

    def _delay(self, failures: int) -> float:
        base = self.options.backoff_base * (2.0 ** max(0, failures - 1))
        delay = min(self.options.backoff_max, base) * (0.5 + self.rand() / 2)
        retry_after, self._retry_after = self._retry_after, None
        return max(delay, min(retry_after or 0.0, self.options.backoff_max))

    def _wait(self, seconds: float) -> None:
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            self._stop.wait(seconds)

    def _url(self) -> str:
        params = {
            "query": self.filter_query,
            "includeResult": str(self.options.include_result).lower(),
            "includePreviousRevision": str(self.options.include_previous).lower(),
            "visibility": self.options.visibility,
            "tag": self.options.tag,
            **self.options.extra_params,
        }
        return f"{listen_url(self.settings)}?{urlencode(params)}"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        return headers

    def _connect_once(self) -> bool:
        """One connection; True if it got as far as ``welcome``. Fatal errors raise."""
        self.connections += 1
        self._welcomed = False
        try:
            with self.client.stream("GET", self._url(), headers=self._headers()) as response:
                self._response = response
                self._check_status(response)
                self._consume(response)
        except (httpx.HTTPError, httpx.StreamError) as exc:
            if not self._stop.is_set():
                log.info("listen connection lost: %s: %s", type(exc).__name__, exc)
        finally:
            self._response = None
        return self._welcomed

    def _check_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 200:
            return
        body = response.read()
        if status in (429, 502, 503, 504):
            self._retry_after = parse_retry_after(response.headers.get("retry-after"),
                                                  time.time())
            raise httpx.HTTPStatusError(f"status {status}", request=response.request,
                                        response=response)
        error = error_from_body(status, body, self.filter_query, self.options.tag)
        raise SanityError(f"Listen API refused the subscription: {self._scrub(str(error))}",
                          query=self.filter_query, status=status, error_type=error.error_type)

    def _consume(self, response: httpx.Response) -> None:
        for message in parse_sse(response.iter_lines()):
            self._handle(to_event(message))
            if self._stop.is_set() or message.event == "reconnect":
                return

    def _handle(self, event: ListenEvent) -> None:
        if event.kind == "channelError":
            message = event.data.get("message") if isinstance(event.data, dict) else event.data
            raise SanityError(f"Listen API channel error: {message}", query=self.filter_query)
        if event.kind == "mutation" and event.id:
            self.last_event_id = event.id
        if event.kind == "disconnect":
            self._stop.set()
        if event.kind == "welcome":
            self._welcomed = True
        self.on_event(event)

    def _scrub(self, text: str) -> str:
        token = self.settings.token
        return text.replace(token, "***") if token else text


def _interrupt(response: httpx.Response) -> None:
    """Unblock a read in another thread: shut the socket down (closing the response
    object alone does not wake a thread blocked in ``recv``)."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    else:
        response.close()


def listen(
    settings: SanitySettings,
    filter_query: str,
    on_event: Callable[[ListenEvent], None],
    resume_event_id: str | None = None,
    **kwargs: Any,
) -> Listener:
    """A ``Listener`` for ``filter_query``; call ``.run()`` (blocking) and ``.stop()``."""
    return Listener(settings, filter_query, on_event, resume_event_id=resume_event_id, **kwargs)
