"""Small text helpers used by templates: ``slugify``, ``format_date`` and ``absolute_url``.

Pure functions: no clock, no locale lookups beyond Python's default C locale, so the same
input always gives the same bytes.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from urllib.parse import quote, urlsplit

DEFAULT_DATE_FORMAT = "%B %-d, %Y"
"""e.g. ``January 5, 2025``; ``%-d`` style flags work on every platform here."""

# Letters that Unicode decomposition leaves alone but readers expect transliterated.
_TRANSLITERATE = str.maketrans(
    {
        "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
        "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D",
        "ı": "i",
    }
)  # fmt: skip
# Reserved and unreserved URL characters, and "%" so encoded paths stay as they are.
_URL_SAFE = "/?#[]@!$&'()*+,;=%:~-._"
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_NO_PAD = re.compile(r"%-([dmHIMSjy])")
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$"
)


def slugify(s: str) -> str:
    """Lowercase ASCII words joined by hyphens: ``"Crème Brûlée!"`` -> ``"creme-brulee"``.

    Idempotent, and the result only ever holds ``[a-z0-9-]`` (it is empty when the text
    has no Latin letters or digits).
    """
    if not isinstance(s, str):
        raise ValueError(f"slugify expects text, got {type(s).__name__}")
    decomposed = unicodedata.normalize("NFKD", s.translate(_TRANSLITERATE))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return _NON_SLUG.sub("-", ascii_text).strip("-")


def parse_date(value: object) -> date | datetime:
    """A ``date``/``datetime`` as is, or an RFC 3339 / ISO 8601 date or timestamp string."""
    if isinstance(value, datetime | date):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"expected a date, a datetime or an RFC 3339 string, got {type(value).__name__}"
        )
    text = value.strip()
    if not _RFC3339.match(text):
        raise ValueError(f"not an RFC 3339 date or timestamp: {value!r}")
    normalised = text[:10] + "T" + text[11:]
    if normalised[-1] in "zZ":
        normalised = normalised[:-1] + "+00:00"
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(normalised)
    except ValueError as exc:
        raise ValueError(f"not a valid date or timestamp: {value!r} ({exc})") from None


def format_date(value: object, fmt: str = DEFAULT_DATE_FORMAT) -> str:
    """Format a date, datetime or RFC 3339 string with ``strftime`` codes.

    Timestamps keep their own offset (no conversion to local time). ``%-d``, ``%-m``,
    ``%-H``, ``%-I``, ``%-M``, ``%-S``, ``%-j`` and ``%-y`` drop leading zeros.
    ``fmt="iso"`` gives ``isoformat()``. Garbage raises ``ValueError`` naming the value.
    """
    moment = parse_date(value)
    if fmt == "iso":
        return moment.isoformat()

    def unpadded(match: re.Match[str]) -> str:
        return str(int(moment.strftime("%" + match.group(1))))

    return moment.strftime(_NO_PAD.sub(unpadded, fmt))


def absolute_url(path: str, base_url: str) -> str:
    """Join a site path to ``base_url`` (which may have a path and a trailing slash).

    Spaces and non-ASCII characters in ``path`` are percent-encoded (sitemaps and feeds
    need URLs, not IRIs); already encoded paths are left alone. Absolute URLs
    (``https://``, ``http://``, ``//``, ``mailto:``...) come back unchanged.
    ``ValueError`` when ``base_url`` is not an http(s) URL.
    """
    if not isinstance(path, str):
        raise ValueError(f"absolute_url expects a path string, got {type(path).__name__}")
    if path.startswith("//") or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", path):
        return path
    if not isinstance(base_url, str) or not re.match(r"^https?://[^/]", base_url):
        raise ValueError(
            f"site.base_url must be an http(s) URL such as https://example.com, got {base_url!r}"
        )
    return base_url.rstrip("/") + "/" + quote(path.lstrip("/"), safe=_URL_SAFE)


def site_url(path: str, base_url: str) -> str:
    """A site path as a link that honours the base path of ``base_url``:
    ``site_url("/style.css", "https://example.com/sub/")`` is ``/sub/style.css``.

    A path without a leading slash is taken from the site root too. Absolute URLs,
    ``//host`` links, ``#fragment`` and ``?query`` links come back unchanged; spaces and
    non-ASCII characters are percent-encoded as in ``absolute_url``.
    """
    if not isinstance(path, str):
        raise ValueError(f"url() expects a path string, got {type(path).__name__}")
    if path.startswith(("//", "#", "?")) or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", path):
        return path
    base_path = urlsplit(base_url).path.rstrip("/") if base_url else ""
    return base_path + "/" + quote(path.lstrip("/"), safe=_URL_SAFE)
