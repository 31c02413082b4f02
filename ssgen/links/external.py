"""External URL checks: concurrent httpx requests, at most ``per_host`` at a time to any
one host (politeness) and ``concurrency`` in all, redirects followed.

``check_external(urls, options) -> {url: (status, error)}``: ``HEAD`` first, ``GET`` when
a server refuses ``HEAD`` (405, 501) or answers it 403/404 (some do, for HEAD only); status
0 with the error's text when no answer came (timeout, DNS, TLS, refused connection).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ssgen.fastclass import dataclass

if TYPE_CHECKING:  # imported when a check runs: they cost every build 0.15 s to start
    import httpx


@dataclass(frozen=True)
class LinkOptions:
    """``external``: also look up off-site URLs (``ttl`` seconds a result is reused,
    ``concurrency`` requests at once, ``per_host`` at once to one host, ``timeout`` per
    request); ``ignore``: link prefixes never checked (as written, or as resolved: an
    internal path or an external URL); ``transport``: an httpx transport (tests)."""

    external: bool = False
    ignore: tuple[str, ...] = ()
    ttl: float = 86_400.0
    concurrency: int = 16
    per_host: int = 2
    timeout: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None


_RETRY_WITH_GET = frozenset({403, 404, 405, 501})
_HEADERS = {"User-Agent": "ssgen-link-check"}


def check_external(urls: Iterable[str], options: LinkOptions) -> dict[str, tuple[int, str]]:
    """Each URL's final status (after redirects), or 0 and why it got none."""
    import asyncio

    return asyncio.run(_check_all(list(urls), options))


async def _check_all(urls: list[str], options: LinkOptions) -> dict[str, tuple[int, str]]:
    import asyncio

    import httpx

    everyone = asyncio.Semaphore(max(1, options.concurrency))
    hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(max(1, options.per_host)))
    async with httpx.AsyncClient(transport=options.transport, follow_redirects=True,
                                 timeout=options.timeout, headers=_HEADERS) as client:

        async def one(url: str) -> tuple[str, tuple[int, str]]:
            async with hosts[urlsplit(url).netloc.lower()], everyone:
                return url, await _status(client, url)

        return dict(await asyncio.gather(*(one(url) for url in urls)))


async def _status(client: httpx.AsyncClient, url: str) -> tuple[int, str]:
    import httpx

    try:
        response = await client.head(url)
        if response.status_code in _RETRY_WITH_GET:
            async with client.stream("GET", url) as streamed:  # the status, not the body
                return streamed.status_code, ""
        return response.status_code, ""
    except httpx.HTTPError as exc:
        return 0, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


__all__ = ["LinkOptions", "check_external"]
