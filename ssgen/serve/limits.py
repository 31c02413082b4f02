"""Connection limits of ``ssgen serve``: what a slow or greedy client may hold, and for how long.

Owns ``ServerLimits`` (documented in docs/serve.md) and ``uvicorn_config``, the one place
both the CLI and the tests build uvicorn's ``Config``. uvicorn has keep-alive, concurrency
and header-size limits but no header-read timeout: its keep-alive timer runs only between
requests and is cancelled by every byte received, so a client trickling a request head
holds its connection for ever (slowloris). ``HeaderTimeoutH11`` adds that timeout: an
absolute deadline, armed when a connection opens and again after each response, that
closes the connection unless a complete request head arrived in time. It also caps the
head's size exactly (431): h11's own limit only counts bytes buffered while a head is
incomplete, so a larger head arriving in one read (up to 256 KiB) would pass it. The
request body has its own deadline in the app (``ServeSettings.body_timeout``, 408).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol


@dataclass(frozen=True)
class ServerLimits:
    """Per-connection limits; the defaults suit a webhook endpoint and a CDN origin."""

    header_timeout: float = 10.0  # s from connect (or the last response) to a full head
    keep_alive: int = 5  # s an idle keep-alive connection stays open
    concurrency: int = 512  # connections + running requests before new requests get 503
    max_head_bytes: int = 16 * 1024  # request line + headers (h11 max incomplete event)
    backlog: int = 2048  # pending TCP connections the kernel queues


class HeaderTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol, plus a deadline for receiving each request head."""

    header_timeout: float = ServerLimits.header_timeout
    max_head_bytes: int = ServerLimits.max_head_bytes

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._head_seen = 0  # bytes of the current, still incomplete, request head

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._head_too_big(data):
            self._disarm()
            self.transport.write(_TOO_LARGE)
            self.transport.close()
            return
        super().data_received(data)
        self._watch_head()

    def _head_too_big(self, data: bytes) -> bool:
        end = data.find(b"\r\n\r\n")
        size = self._head_seen + (len(data) if end < 0 else end + 4)
        self._head_seen = size if end < 0 else 0
        return size > self.max_head_bytes

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _watch_head(self) -> None:
        """Armed while the next request head is awaited; disarmed once it has arrived."""
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if not waiting:
            self._head_seen = 0
            self._disarm()
        elif self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _expired(self) -> None:
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n"
              b"content-length: 0\r\n\r\n")


def protocol_class(limits: ServerLimits) -> type[HeaderTimeoutH11]:
    """``HeaderTimeoutH11`` bound to ``limits`` (uvicorn makes one instance a connection)."""
    return type("HeaderTimeoutH11", (HeaderTimeoutH11,),
                {"header_timeout": limits.header_timeout,
                 "max_head_bytes": limits.max_head_bytes})


def uvicorn_config(app: Any, *, host: str = "127.0.0.1", port: int = 8000,
                   limits: ServerLimits | None = None) -> uvicorn.Config:
    """uvicorn's Config for ``app`` with ``limits``, ssgen's logging and a graceful stop."""
    limits = limits or ServerLimits()
    return uvicorn.Config(
        app, host=host, port=port, http=protocol_class(limits), log_config=None,
        access_log=False, lifespan="on", timeout_graceful_shutdown=30,
        timeout_keep_alive=limits.keep_alive, limit_concurrency=limits.concurrency,
        h11_max_incomplete_event_size=limits.max_head_bytes, backlog=limits.backlog)


__all__ = ["HeaderTimeoutH11", "ServerLimits", "protocol_class", "uvicorn_config"]
