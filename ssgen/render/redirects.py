"""The published forms of the site's redirects, as deterministic bytes, and reading them back.

- ``stub_page(redirect, base_url)``: the HTML at an old path, for hosts without redirect
  rules: a meta refresh and ``rel=canonical`` to the target, ``noindex``; for a 410, a
  short "removed" page with ``noindex``.
- ``redirects_file(redirects)``: ``_redirects`` in the syntax Netlify and Cloudflare Pages
  read (``from to status``, one a line).
- ``redirects_json(redirects)`` / ``load_redirects(data)``: ``redirects.json``, the table
  ``ssgen serve`` answers 301/410 from and ``ssgen deploy`` sets S3 redirects from.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from ssgen.config.redirects import path_key
from ssgen.routes.redirects import GONE, Redirect

JSON_FILE = "redirects.json"
RULES_FILE = "_redirects"
_VERSION = 1
_BODY = '<body data-pagefind-ignore="all">'  # never a search result (docs/search.md)


def stub_page(redirect: Redirect, base_url: str = "", language: str = "en") -> bytes:
    """The HTML stub published at ``redirect.source``."""
    from html import escape  # here: ``html.entities`` is ~2 ms of a start that needs no stub

    html = f'<!doctype html>\n<html lang="{escape(language, quote=True)}"><head>'
    if redirect.to is None:
        return (
            f'{html}<meta charset="utf-8">\n'
            '<meta name="robots" content="noindex">\n<title>Gone</title></head>\n'
            f"{_BODY}<p>This page has been removed.</p></body></html>\n"
        ).encode()
    target = escape(redirect.to, quote=True)
    canonical = redirect.to
    if base_url and canonical.startswith("/"):
        canonical = base_url.rstrip("/") + canonical
    return (
        f'{html}<meta charset="utf-8">\n'
        '<meta name="robots" content="noindex">\n'
        f'<link rel="canonical" href="{escape(canonical, quote=True)}">\n'
        f'<meta http-equiv="refresh" content="0; url={target}">\n'
        f"<title>Moved</title></head>\n"
        f'{_BODY}<p>This page has moved to <a href="{target}">{target}</a>.</p></body></html>\n'
    ).encode()


def redirects_file(redirects: Iterable[Redirect]) -> bytes:
    """``_redirects``: a 410 names its own stub as the page to show with the status."""
    lines = ["# Written by ssgen (docs/redirects.md): old paths of moved or removed pages."]
    for item in redirects:
        lines.append(f"{item.source} {item.to or item.source} {item.status}")
    return ("\n".join(lines) + "\n").encode()


def redirects_json(redirects: Iterable[Redirect]) -> bytes:
    """``redirects.json``: ``{"version": 1, "redirects": [{"from", "to", "status"}]}``."""
    items = [{"from": r.source, "to": r.to, "status": r.status} for r in redirects]
    return orjson.dumps({"version": _VERSION, "redirects": items},
                        option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def load_redirects(data: bytes) -> dict[str, Redirect]:
    """``redirects.json`` by ``path_key`` of each source; {} for anything malformed."""
    try:
        parsed = orjson.loads(data)
        items = parsed["redirects"] if parsed.get("version") == _VERSION else []
        found: dict[str, Redirect] = {}
        for item in items:
            source, to, status = item["from"], item.get("to"), int(item["status"])
            if not isinstance(source, str) or not (to is None or isinstance(to, str)):
                continue
            if (to is None) != (status == GONE):
                continue
            external = to is not None and (not to.startswith("/") or to.startswith("//"))
            found[path_key(source)] = Redirect(source, to, status, external)
        return found
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return {}


__all__ = ["JSON_FILE", "RULES_FILE", "load_redirects", "redirects_file", "redirects_json",
           "stub_page"]
