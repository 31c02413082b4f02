"""The Presentation tool's handshake: validating a ``sanity-preview-secret`` as
``@sanity/preview-url-secret`` does.

The Studio writes a ``sanity.previewUrlSecret`` document holding a random secret, then
opens the site's enable URL with ``sanity-preview-secret=<it>``. The site looks the
secret up with a read token: valid while the document was updated in the last hour
(``SECRET_TTL``), or when it is the shared-access singleton's secret.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ssgen.errors import SsgenError

if TYPE_CHECKING:
    from ssgen.config.load import Config

log = logging.getLogger("ssgen.serve.preview")

SECRET_TTL = 3600
PRIVATE = ('*[_type == "sanity.previewUrlSecret" && secret == $secret && '
           f'dateTime(_updatedAt) > dateTime(now()) - {SECRET_TTL}][0]{{_id, _updatedAt, '
           'secret, studioUrl}')
SHARED = ('*[_id == "sanity-preview-url-secret.share-access" && '
          '_type == "sanity.previewUrlShareAccess" && secret == $secret][0]{secret, studioUrl}')
QUERY = f'{{"private": {PRIVATE}, "public": {SHARED}}}'


def studio_secret_valid(config: Config, secret: str | None, **source_options: Any) -> bool:
    """Whether the Studio minted ``secret`` (a query with the read token; never the CDN).
    An API failure is a refusal, logged: preview fails closed."""
    if not secret or not secret.strip() or config.source.type != "sanity":
        return False
    from ssgen.sources.sanity import SanitySource

    source = SanitySource(config, perspective="raw", use_cdn=False, **source_options)
    try:
        found = source.query(QUERY, {"secret": secret}, tag="sanity.preview-url-secret",
                             fresh=True).value
    except SsgenError as exc:
        log.warning("preview: cannot check the Studio's secret: %s", exc)
        return False
    finally:
        source.close()
    if not isinstance(found, dict):
        return False
    private, shared = found.get("private"), found.get("public")
    return (isinstance(private, dict) and private.get("secret") == secret) or (
        isinstance(shared, dict) and shared.get("secret") == secret)
