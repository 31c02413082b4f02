"""The preview cookie: minting and checking it, and where a preview may redirect to (pure).

The cookie is ``v1.<expires>.<signature>``: an HMAC-SHA256, keyed by the preview secret,
over the site's identity and the expiry, so a cookie forged, expired, or minted by another
ssgen site (another secret, or the same secret on another site) is refused. It carries
no session state: the secret's holder can mint one, nobody else can.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit

COOKIE = "ssgen_preview"
MAX_AGE = 3600


def _signature(secret: str, site: str, payload: str) -> str:
    key = hashlib.sha256(b"ssgen preview cookie\0" + secret.encode()).digest()
    digest = hmac.new(key, f"{site}\0{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def mint(secret: str, site: str, now: float, max_age: int = MAX_AGE) -> str:
    """A cookie value valid for ``max_age`` seconds from ``now``."""
    payload = f"v1.{int(now) + max_age}"
    return f"{payload}.{_signature(secret, site, payload)}"


def valid(secret: str, site: str, value: str | None, now: float) -> bool:
    """Whether ``value`` was minted for this site with this secret and has not expired."""
    if not value or value.count(".") != 2:
        return False
    version, expires, signature = value.split(".")
    if version != "v1" or not expires.isdigit() or int(expires) <= now:
        return False
    expected = _signature(secret, site, f"{version}.{expires}")
    return hmac.compare_digest(expected.encode(), signature.encode())


def set_cookie_header(value: str, max_age: int = MAX_AGE) -> str:
    """``Set-Cookie`` for the preview: HttpOnly, Secure, SameSite=None (the Studio shows
    the site in a cross-site iframe), expiring."""
    return (f"{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; "
            "SameSite=None")


def clear_cookie_header() -> str:
    """``Set-Cookie`` that removes the preview cookie."""
    return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=None"


def safe_redirect(target: str | None) -> str:
    """A same-site path to send the browser to: ``/`` unless ``target`` is a plain
    absolute path (never another host: ``//evil``, ``/\\evil`` or a scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(char) < 0x20 for char in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target
