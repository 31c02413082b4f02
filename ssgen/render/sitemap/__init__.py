"""Sitemaps at any size: ``sitemap.xml`` as one ``<urlset>`` while the site fits one file,
else as a ``<sitemapindex>`` naming ``sitemap-1.xml``, ``sitemap-2.xml``, ... of at most
50,000 URLs and 50 MB each (the sitemaps.org limits). A site with no URL has no sitemap:
the schema's ``<urlset>`` holds one ``<url>`` at least.

Owns the bytes of those files and each page's ``<lastmod>``, taken from its data (the
``[sitemap] lastmod_field``, else ``_updatedAt``), so it changes only when the page's data
does. URLs are the pages' canonical paths (already percent-encoded where routes fill them
in, ``ssgen.routes.paths.canonical_path``) joined to ``base_url`` (``absolute``, which the
feed uses too), XML-escaped. Pure.

The package: this module holds the files; ``memo`` keeps them across serve's rounds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from markupsafe import escape

from ssgen.routes.page import PageSpec
from ssgen.routes.patterns import lookup

MAX_URLS = 50_000
MAX_BYTES = 50 * 1024 * 1024  # uncompressed, as the protocol counts
INDEX = "sitemap.xml"
_XML = '<?xml version="1.0" encoding="UTF-8"?>\n'
_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_URLSET = f'{_XML}<urlset xmlns="{_NS}">\n'.encode()
_URLSET_END = b"</urlset>\n"
_UPDATED_AT = "_updatedAt"
_PART = re.compile(r"sitemap-[1-9][0-9]*\.xml")


def is_sitemap_file(rel: str) -> bool:
    """Whether the output relpath ``rel`` is a name the sitemap may be written to
    (``sitemap.xml`` or any ``sitemap-N.xml``, whatever the site's size today)."""
    return rel == INDEX or _PART.fullmatch(rel) is not None


def page_lastmod(spec: PageSpec, field: str = _UPDATED_AT) -> str | None:
    """The ``<lastmod>`` of a page: its data's ``field`` (dotted), else its ``_updatedAt``,
    as RFC 3339 UTC; None for list pages, pages without one, and values that are not dates."""
    page = spec.context.get("page")
    if not isinstance(page, Mapping):
        return None
    value = lookup(page, field)
    if value is None and field != _UPDATED_AT:
        value = page.get(_UPDATED_AT)
    if value is None:
        return None
    try:
        return to_rfc3339(value)
    except ValueError:
        return None


def absolute(base_url: str, path: str) -> str:
    """``base_url`` + ``path`` with exactly one slash between them."""
    if "://" in path:
        return path
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def sitemap_files(entries: Mapping[str, str | None], base_url: str, *,
                  max_urls: int = MAX_URLS, max_bytes: int = MAX_BYTES) -> dict[str, bytes]:
    """Output relpath -> bytes for absolute URL -> lastmod (or None): ``sitemap.xml``
    alone while every URL fits one file, else the index plus ``sitemap-N.xml`` files;
    nothing when there is no URL."""
    if not entries:
        return {}
    locs = sorted(entries)
    return files_of_rows(locs, [url_row(loc, entries[loc]) for loc in locs],
                         [entries[loc] for loc in locs], base_url,
                         max_urls=max_urls, max_bytes=max_bytes)


def files_of_rows(locs: list[str], rows: list[bytes], stamps: list[str | None],
                  base_url: str, *, max_urls: int = MAX_URLS,
                  max_bytes: int = MAX_BYTES) -> dict[str, bytes]:
    """``sitemap_files`` from its URLs sorted (``locs``, at least one) with each one's
    ``url_row`` and lastmod (``rows``, ``stamps``: in the same order)."""
    limit, room = limits(max_urls, max_bytes)
    if len(rows) <= limit and sum(map(len, rows)) <= room:  # one file: no row-by-row split
        return {INDEX: urlset(rows)}
    parts = list(_split(rows, limit, room))
    if len(parts) == 1:
        return {INDEX: urlset(parts[0])}
    files: dict[str, bytes] = {}
    newest: list[str | None] = []
    start = 0
    for number, part in enumerate(parts, 1):
        files[part_name(number)] = urlset(part)
        newest.append(max(filter(None, stamps[start:start + len(part)]), default=None))
        start += len(part)
    files[INDEX] = parts_index(newest, base_url)
    return files


def limits(max_urls: int, max_bytes: int) -> tuple[int, int]:
    """The URLs and the bytes of ``<url>`` rows one sitemap file may hold."""
    return max(1, min(max_urls, MAX_URLS)), max_bytes - len(_URLSET) - len(_URLSET_END)


def part_name(number: int) -> str:
    """The output relpath of the ``number``-th (from 1) sitemap file an index names."""
    return f"sitemap-{number}.xml"


def parts_index(newest: list[str | None], base_url: str) -> bytes:
    """The index of ``sitemap-1.xml`` ... ``sitemap-N.xml``, given each one's newest
    lastmod (or None)."""
    return sitemap_index((base_url.rstrip("/") + "/" + part_name(number), stamp)
                         for number, stamp in enumerate(newest, 1))


def url_row(loc: str, lastmod: str | None) -> bytes:
    """One ``<url>`` element, indented as sitemap.xml has always been written."""
    text = f"  <url>\n    <loc>{escape(loc)}</loc>\n"
    if lastmod:
        text += f"    <lastmod>{escape(lastmod)}</lastmod>\n"
    return (text + "  </url>\n").encode()


def sitemap_index(sitemaps: Iterable[tuple[str, str | None]]) -> bytes:
    """A ``<sitemapindex>`` of (absolute sitemap URL, newest lastmod of its URLs or None)."""
    out = [f'{_XML}<sitemapindex xmlns="{_NS}">\n']
    for loc, lastmod in sitemaps:
        out.append(f"  <sitemap>\n    <loc>{escape(loc)}</loc>\n")
        if lastmod:
            out.append(f"    <lastmod>{escape(lastmod)}</lastmod>\n")
        out.append("  </sitemap>\n")
    out.append("</sitemapindex>\n")
    return "".join(out).encode()


def to_rfc3339(value: Any) -> str:
    """An ISO date/datetime (string or object) as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC.

    Dates without a time are midnight UTC; naive datetimes are taken as UTC.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 date: {value!r}") from exc
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, datetime):
        raise ValueError(f"not a date: {value!r}")
    moment: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def urlset(rows: list[bytes]) -> bytes:
    """One sitemap file of ``<url>`` rows."""
    return b"".join((_URLSET, *rows, _URLSET_END))


def _split(rows: list[bytes], max_urls: int, max_bytes: int) -> Iterable[list[bytes]]:
    """Consecutive runs of ``rows`` of at most ``max_urls`` rows and ``max_bytes`` bytes."""
    part: list[bytes] = []
    size = 0
    for row in rows:
        if part and (len(part) == max_urls or size + len(row) > max_bytes):
            yield part
            part, size = [], 0
        part.append(row)
        size += len(row)
    if part:
        yield part


__all__ = ["INDEX", "MAX_BYTES", "MAX_URLS", "files_of_rows", "is_sitemap_file", "limits",
           "page_lastmod", "part_name", "parts_index", "sitemap_files", "sitemap_index",
           "to_rfc3339", "url_row", "urlset"]
