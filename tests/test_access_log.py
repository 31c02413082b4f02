"""The access log line of a request is written before the reply's last bytes are sent.

A client that holds a whole reply must find its line already logged: written after,
it lands among the lines of whatever the client does next (``test_serve_hostile``'s
item 9 saw a status poll's line in the log it asserted on). Driven as plain ASGI, so
the order is exact.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from ssgen.serve.app import AccessLog

SCOPE = {"type": "http", "method": "GET", "path": "/blog/", "client": ("127.0.0.1", 1)}


class Lines(logging.Handler):
    """The access records, in order."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _serve(app: Any) -> tuple[list[logging.LogRecord], list[int]]:
    """Run ``AccessLog(app)`` for one request: the records, and how many there were
    whenever a body message reached the server."""
    logger = logging.getLogger("ssgen.serve.access")
    lines = Lines()
    logger.addHandler(lines)
    level, logger.level = logger.level, logging.DEBUG
    seen: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            seen.append(len(lines.records))

    try:
        asyncio.run(AccessLog(app)(SCOPE, receive, send))
    except RuntimeError:
        pass
    finally:
        logger.removeHandler(lines)
        logger.level = level
    return lines.records, seen


def test_the_line_is_written_before_the_last_body_part() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b"b", "more_body": True})
        await send({"type": "http.response.body", "body": b"c"})

    records, seen = _serve(app)
    assert seen == [0, 0, 1]  # not before the reply is complete, and before it goes out
    assert len(records) == 1 and records[0].getMessage() == "GET /blog/ 404"
    assert records[0].__dict__["event"] == "access"


def test_a_reply_broken_off_is_logged_once_when_the_handler_ends() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"half", "more_body": True})
        raise RuntimeError("the handler broke mid-reply")

    records, seen = _serve(app)
    assert seen == [0]
    assert [r.getMessage() for r in records] == ["GET /blog/ 200"]


@pytest.mark.parametrize("status", [200, 304])
def test_an_empty_body_is_logged_once(status: int) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    records, seen = _serve(app)
    assert seen == [1] and [r.getMessage() for r in records] == [f"GET /blog/ {status}"]
