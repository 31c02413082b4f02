"""``GET /api/locations?id=<documentId>``: the pages that show a document, for the Studio.

Answers from the manifest's ``doc:`` tags (``build.inspect.document_locations``) in the
shape of the Presentation tool's document locations, ``{"locations": [{"title",
"href"}]}``. Callers authenticate with ``Authorization: Bearer <secret>`` (or
``?secret=``), where the secret is the preview secret or the site's Sanity read token;
the Studio's origin gets CORS headers (and its preflight an answer).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ssgen.build.inspect import document_locations
from ssgen.errors import SsgenError

if TYPE_CHECKING:
    from ssgen.config.load import Config

ENDPOINT = "/api/locations"


class Locations:
    """The endpoint; ``secrets`` are the credentials it accepts (empty ones are ignored)."""

    def __init__(self, config: Config, secrets: Sequence[str | None],
                 studio_origin: str | None = None) -> None:
        self.config = config
        self.secrets = [s.encode() for s in secrets if s]
        self.studio_origin = studio_origin.rstrip("/") if studio_origin else None

    def route(self) -> Route:
        """The route, to go before the static catch-all."""
        return Route(ENDPOINT, self.handle, methods=["GET", "HEAD", "OPTIONS"])

    async def handle(self, request: Request) -> Response:
        cors = self._cors(request.headers.get("origin"))
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=cors)
        headers = {**cors, "cache-control": "no-store"}
        if not self._authorized(request):
            return JSONResponse({"error": "unauthorized"}, status_code=401, headers=headers)
        doc_id = request.query_params.get("id", "")
        if not doc_id or len(doc_id) > 200:
            return JSONResponse({"error": "the id parameter is required"}, status_code=400,
                                headers=headers)
        try:
            found = await run_in_threadpool(document_locations, self.config, doc_id)
        except SsgenError as exc:
            return JSONResponse({"error": str(exc)}, status_code=503, headers=headers)
        return JSONResponse(found, headers=headers)

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else \
            request.query_params.get("secret", "")
        if not given:
            return False
        return any(hmac.compare_digest(given.encode(), secret) for secret in self.secrets)

    def _cors(self, origin: str | None) -> dict[str, str]:
        if not origin or origin.rstrip("/") != self.studio_origin:
            return {"vary": "Origin"}
        return {"access-control-allow-origin": origin,
                "access-control-allow-headers": "authorization",
                "access-control-allow-methods": "GET, OPTIONS",
                "access-control-max-age": "600", "vary": "Origin"}
