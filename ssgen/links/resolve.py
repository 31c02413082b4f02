"""Where a link in the output points, as a static host would serve it. Pure.

- ``Site.of(base_url)``: the base path (``/docs`` for ``https://x.org/docs/``) and the
  origins whose absolute URLs count as internal.
- ``resolve(link, page, site)``: a link as written in the file at output relpath ``page``
  -> ``Internal(path, fragment)`` with ``path`` the decoded, NFC-normalised URL path inside
  the site; ``External(url)``; ``Outside(reason)`` (a link that cannot point into the
  site: outside the base path, or not a valid path); or ``None`` (nothing to check:
  ``mailto:``, ``tel:``, ``data:``, ``javascript:``, an empty ``href``).
- ``files_for(path)``: the output files that can answer a path (``/a/`` -> ``a/index.html``;
  ``/a`` -> ``a`` or ``a/index.html``, as hosts redirect a folder to its slash).
- ``paths_for(relpath)``: the reverse, the internal paths a file answers.
"""

from __future__ import annotations

import posixpath
import unicodedata
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from ssgen.fastclass import dataclass

_INDEX = "index.html"


@dataclass(frozen=True)
class Site:
    """The base path (no trailing slash; ``""`` at a host's root) and internal origins."""

    base_path: str
    origins: frozenset[str]

    @classmethod
    def of(cls, base_url: str) -> Site:
        """The site that ``base_url`` (``[site] base_url``) describes."""
        parts = urlsplit(base_url or "")
        return cls(parts.path.rstrip("/"), frozenset({parts.netloc.lower()} - {""}))


@dataclass(frozen=True)
class Internal:
    """A path inside the site (decoded, starting with '/') and its fragment, if any."""

    path: str
    fragment: str | None


@dataclass(frozen=True)
class External:
    """A URL on another host (its fragment dropped: hosts never see it)."""

    url: str


@dataclass(frozen=True)
class Outside:
    """A link that cannot name a file of the site; ``reason`` says why."""

    reason: str


Target = Internal | External | Outside


def page_url(relpath: str, site: Site) -> str:
    """The encoded URL path (with the base path) that serves the output file ``relpath``."""
    path = "/" + relpath
    if path == "/" + _INDEX or path.endswith("/" + _INDEX):
        path = path[: -len(_INDEX)]
    return site.base_path + quote(path, safe="/-._~!$&'()*+,;=:@")


def resolve(link: str, page: str, site: Site) -> Target | None:
    """Where ``link``, written in the output file ``page``, points (see the module doc)."""
    if not link or link.startswith(("mailto:", "tel:", "data:", "javascript:")):
        return None
    parts = urlsplit(link)
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        return None
    if parts.netloc and parts.netloc.lower() not in site.origins:
        return External(urlunsplit((parts.scheme or "https", parts.netloc, parts.path or "/",
                                    parts.query, "")))
    if parts.netloc:
        link = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
    joined = urlsplit(urljoin("http://site" + page_url(page, site), link))
    path = joined.path or "/"
    if site.base_path and not (path + "/").startswith(site.base_path + "/"):
        return Outside(f"outside the site's base path {site.base_path}/")
    try:
        decoded = unquote(path[len(site.base_path):] or "/", errors="strict")
        fragment = unquote(joined.fragment, errors="strict") if joined.fragment else None
    except UnicodeError:
        return Outside("not a valid UTF-8 path")
    if "\x00" in decoded:
        return Outside("not a valid path")
    normal = posixpath.normpath(unicodedata.normalize("NFC", decoded))
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    if decoded.endswith("/") and normal != "/":
        normal += "/"
    return Internal(normal, fragment)


class Resolver:
    """``resolve`` for one site, remembering results: a site-absolute link or a URL means
    the same from every page, a relative one the same from every page of a folder."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._known: dict[tuple[str, str], Target | None] = {}

    def __call__(self, link: str, page: str) -> Target | None:
        if link.startswith(("#", "?")):
            key = (link, page)
        elif link.startswith("/") or ":" in link.split("/", 1)[0]:
            key = (link, "")
        else:
            key = (link, page.rpartition("/")[0] + "/")
        if key not in self._known:
            self._known[key] = resolve(link, page, self.site)
        return self._known[key]


def files_for(path: str) -> tuple[str, ...]:
    """The output relpaths that may answer the internal ``path``, in order of preference."""
    rel = path.lstrip("/")
    if not rel or path.endswith("/"):
        return (rel + _INDEX,)
    return (rel, rel + "/" + _INDEX)


def paths_for(relpath: str) -> tuple[str, ...]:
    """The internal paths that the output file ``relpath`` answers."""
    paths = ["/" + relpath]
    if relpath == _INDEX or relpath.endswith("/" + _INDEX):
        folder = "/" + relpath[: -len(_INDEX)]
        paths.append(folder)
        if folder != "/":
            paths.append(folder.rstrip("/"))
    return tuple(paths)


def is_html(relpath: str) -> bool:
    """Whether an output file is checked as HTML (its links, and its ids as a target)."""
    return relpath.endswith((".html", ".htm"))


__all__ = ["External", "Internal", "Outside", "Resolver", "Site", "Target", "files_for", "is_html",
           "page_url", "paths_for", "resolve"]
