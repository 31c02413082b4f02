"""Helpers for SanitySource unit tests over httpx.MockTransport (no sockets)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from ssgen.sources.sanity import SanitySource
from ssgen.sources.sanity.http import SanitySettings

TOKEN = "skSECRETtoken1234567890"
Handler = Any


def make(handler: Handler, **kw: Any) -> tuple[SanitySource, list[float]]:
    """A source whose requests go to ``handler``; sleeps are recorded, jitter pinned to 0.5."""
    slept: list[float] = []
    options: dict[str, Any] = {"project_id": "proj1", "dataset": "production", "use_cdn": False}
    options.update(kw)
    source = SanitySource(SanitySettings(**options), transport=httpx.MockTransport(handler),
                          sleep=slept.append, rand=lambda: 0.5)
    return source, slept


def ok(result: Any) -> httpx.Response:
    """A Query API success body."""
    return httpx.Response(200, json={"ms": 1, "result": result})


def query_of(request: httpx.Request) -> dict[str, str]:
    """The decoded URL parameters of a request."""
    return dict(parse_qsl(urlsplit(str(request.url)).query, keep_blank_values=True))



def scripted(*responses: Any) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with ``responses`` in turn (the last one repeats); exceptions
    are raised as transport errors. Also returns the list of requests it saw."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item  # type: ignore[no-any-return]

    return handler, seen
