"""Draft preview on the serve origin (``serve --preview-secret``), the shape of Next.js
draft mode.

``GET /api/preview?secret=…&redirect=/x/`` (or the Presentation tool's
``/api/draft-mode/enable?sanity-preview-secret=…&sanity-preview-pathname=/x/``, checked
against Sanity like ``@sanity/preview-url-secret``) sets a signed, expiring cookie and
redirects. With a valid cookie, page GETs are rendered on request from the drafts
perspective (``render``), marked ``no-store`` and ``noindex``, with a banner whose link
(``/api/preview/disable``) ends the preview and the live-reload script polling
``/api/preview/state``. Without one (or with a forged, expired or other site's cookie)
the published files answer, as always. ``cookie`` is the pure signing, ``studio`` the
secret lookup.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ssgen.errors import SsgenError
from ssgen.serve.livereload import ENDPOINT, SCRIPT
from ssgen.serve.preview.cookie import (
    COOKIE,
    MAX_AGE,
    clear_cookie_header,
    mint,
    safe_redirect,
    set_cookie_header,
    valid,
)
from ssgen.serve.preview.render import DraftPages
from ssgen.serve.preview.studio import studio_secret_valid

if TYPE_CHECKING:
    from ssgen.config.load import Config
    from ssgen.serve.worker import RebuildWorker

__all__ = ["DraftPages", "Preview", "PreviewSettings", "preview_setup", "site_identity"]

STATE = "/api/preview/state"
DISABLE = "/api/preview/disable"
PRIVATE_HEADERS = {"cache-control": "no-store", "x-robots-tag": "noindex", "vary": "Cookie"}
_BANNER = (
    '<div id="ssgen-preview-banner" style="position:fixed;bottom:12px;right:12px;'
    "z-index:2147483646;background:#111;color:#fff;font:13px/1.4 system-ui,sans-serif;"
    'padding:6px 12px;border-radius:6px">Preview: drafts &middot; '
    f'<a href="{DISABLE}" data-ssgen-leave style="color:#9cf">Exit preview</a></div>'
).encode()
_SCRIPT = SCRIPT.replace(ENDPOINT.encode(), STATE.encode())
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class PreviewSettings:
    """``secret``: what ``/api/preview?secret=`` must match and what signs the cookie."""

    secret: str
    max_age: int = MAX_AGE
    studio_origin: str | None = None


def site_identity(config: Config) -> str:
    """What a cookie is bound to, besides the secret: this site and no other."""
    return f"{config.site.base_url}|{config.site_dir}"


class Preview:
    """The preview endpoints and the cookie check in front of the static site."""

    def __init__(self, config: Config, settings: PreviewSettings, pages: DraftPages, *,
                 clock: Callable[[], float] = time.time,
                 studio_check: Callable[[Config, str | None], bool] = studio_secret_valid
                 ) -> None:
        self.config, self.settings, self.pages = config, settings, pages
        self.clock = clock
        self.studio_check = studio_check
        self.site = site_identity(config)

    def routes(self) -> list[Route]:
        """The endpoints, to go before the static catch-all."""
        return [Route("/api/preview", self.enable, methods=["GET"]),
                Route("/api/draft-mode/enable", self.enable, methods=["GET"]),
                Route(DISABLE, self.disable, methods=["GET"]),
                Route(STATE, self.state, methods=["GET"])]

    def active(self, request: Request) -> bool:
        """Whether the request carries a valid preview cookie for this site."""
        return valid(self.settings.secret, self.site, request.cookies.get(COOKIE), self.clock())

    async def enable(self, request: Request) -> Response:
        params = request.query_params
        given, studio = params.get("secret"), params.get("sanity-preview-secret")
        if given is not None:
            ok = hmac.compare_digest(given.encode(), self.settings.secret.encode())
        else:
            ok = await run_in_threadpool(self.studio_check, self.config, studio)
        if not ok:
            return JSONResponse({"error": "invalid preview secret"}, status_code=401,
                                headers={"cache-control": "no-store"})
        target = safe_redirect(params.get("redirect") or params.get("sanity-preview-pathname"))
        value = mint(self.settings.secret, self.site, self.clock(), self.settings.max_age)
        return Response(status_code=307, headers={
            "location": target, "cache-control": "no-store",
            "set-cookie": set_cookie_header(value, self.settings.max_age)})

    async def disable(self, request: Request) -> Response:
        target = safe_redirect(request.query_params.get("redirect"))
        return Response(status_code=307, headers={
            "location": target, "cache-control": "no-store", "set-cookie": clear_cookie_header()})

    async def state(self, request: Request) -> Response:
        if not self.active(request):
            return JSONResponse({"error": "no preview session"}, status_code=401,
                                headers=PRIVATE_HEADERS)
        generation = await run_in_threadpool(self.pages.generation)
        return JSONResponse({"generation": generation, "error": None}, headers=PRIVATE_HEADERS)

    def wrap(self, static: Handler) -> Handler:
        """``static`` with preview sessions' page requests answered from drafts."""
        async def handler(request: Request) -> Response:
            if request.method in ("GET", "HEAD") and self.active(request) and \
                    _page_like(request.url.path):
                return await run_in_threadpool(self._page, request.url.path,
                                               request.method == "HEAD")
            return await static(request)

        return handler

    def _page(self, path: str, head: bool) -> Response:
        try:
            html = self.pages.render(path)
        except SsgenError as exc:
            return _html(f"<pre>preview failed: {_escape(str(exc))}</pre>", 500, head)
        if html is None:
            return _html("<p>No page at this path in the drafts.</p>", 404, head)
        return _html(html, 200, head)


def _html(html: str, status: int, head: bool) -> Response:
    body = decorate(html.encode())
    return Response(b"" if head else body, status_code=status, headers=PRIVATE_HEADERS,
                    media_type="text/html; charset=utf-8")


def decorate(html: bytes) -> bytes:
    """The page with the preview banner and the reload script before ``</body>``."""
    extra = _BANNER + _SCRIPT
    at = html.lower().rfind(b"</body")
    return html + extra if at < 0 else html[:at] + extra + html[at:]


def _page_like(path: str) -> bool:
    last = path.rsplit("/", 1)[-1]
    return "." not in last or last.endswith(".html")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def preview_setup(config: Config, worker: RebuildWorker, secret: str | None,
                  studio_origin: str | None = None, locations_token: str | None = None
                  ) -> tuple[Preview | None, list[Route]]:
    """What ``serve`` adds for the Studio: the preview (with a secret) and
    ``/api/locations`` (for the preview secret, the Sanity read token, or a token good
    for locations only: what a Studio, whose bundle is public, may hold)."""
    from ssgen.serve.locations import Locations

    preview = None
    if secret:
        pages = DraftPages(config, changes=lambda: worker.rebuilds)
        worker.keep_source_files()  # its drafts source reads the mirror from disk
        preview = Preview(config, PreviewSettings(secret, studio_origin=studio_origin), pages)
    routes = []
    accepted = [secret, config.source.token, locations_token]
    if any(accepted):
        routes.append(Locations(config, accepted, studio_origin).route())
    return preview, routes
