"""Serving the output folder: a static site for local preview and as an origin.

Owns URL -> file resolution (pretty URLs: ``/a/`` -> ``a/index.html``, ``/a`` -> 308 to
``/a/`` when that folder has an index), ``404.html`` with status 404, strong ETags with
``If-None-Match`` -> 304, a configurable ``Cache-Control``, HEAD, the redirects and 410s
of ``redirects.json`` (``ssgen.serve.redirects``) before any file, and refusal of path
traversal, hidden files and directory listings. Files are read whole: the build writes
them by atomic rename, so a reader never sees half a page.

Any URL is answered with a 2xx, 3xx or 404, never an error: a name too long for the file
system is simply not found, and a redirect's ``Location`` is rebuilt from the path's
segments (percent-encoded), so it is always a local path (``/x/``, never ``//host/``).
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable, Mapping
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote

from starlette.responses import Response

from ssgen.errors import OutputError
from ssgen.routes.paths import url_to_file
from ssgen.routes.redirects import Redirect
from ssgen.serve.redirects import RedirectTable

DEFAULT_CACHE_CONTROL = "public, max-age=0, must-revalidate"
NAME_MAX = 255  # bytes in one file name on the common file systems
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"  # RFC 3986 pchar, beside unreserved and %-escapes
_QUERY_SAFE = _SEGMENT_SAFE + "/?%"  # RFC 3986 query, keeping the client's %-escapes

Injector = Callable[[bytes], bytes]


class StaticSite:
    """The output folder as HTTP responses; ``inject`` rewrites HTML bodies (dev only)."""

    def __init__(
        self,
        root: Path,
        *,
        cache_control: str = DEFAULT_CACHE_CONTROL,
        inject: Injector | None = None,
    ) -> None:
        self.root = Path(root)
        self.cache_control = cache_control
        self.inject = inject
        self.redirects = RedirectTable(self.root)

    def respond(self, path: str, headers: Mapping[str, str], *, head: bool = False,
                query: str = "") -> Response:
        """The response to GET (or HEAD) of the decoded URL ``path``."""
        parts = _safe_parts(path)
        if parts is None:
            return self.not_found(head)
        moved = self.redirects.lookup(path)
        if moved is not None:
            return self._moved(moved, head, query)
        target = self.root.joinpath(*parts)
        if path.endswith("/") or not parts:
            target = target / "index.html"
        elif self._is_folder_page(target):
            location = with_query(local_location(parts), query)
            return Response(status_code=308, headers={"location": location})
        found = self._file(target)
        if found is None:
            return self.not_found(head)
        return self._send(found, headers, head=head, status=200)

    def _moved(self, moved: Redirect, head: bool, query: str) -> Response:
        """A 301 (or the rule's status) to the current path, with the request's query
        string unless the target has its own; or 410 with the stub page."""
        if moved.to is not None:
            return Response(status_code=moved.status, headers={
                "location": with_query(moved.to, query), "cache-control": self.cache_control})
        try:
            stub = self._file(self.root.joinpath(*url_to_file(moved.source).parts))
        except OutputError:
            stub = None
        if stub is None:
            return Response(b"" if head else b"410 gone\n", status_code=410,
                            media_type="text/plain")
        return self._send(stub, {}, head=head, status=410)

    def not_found(self, head: bool = False) -> Response:
        """``404.html`` with status 404, or a plain text 404 when the site has none."""
        page = self._file(self.root / "404.html")
        if page is None:
            return Response(b"" if head else b"404 not found\n", status_code=404,
                            media_type="text/plain")
        return self._send(page, {}, head=head, status=404)

    def _is_folder_page(self, target: Path) -> bool:
        try:
            return not target.is_file() and (target / "index.html").is_file()
        except OSError:  # e.g. the whole path is longer than the system allows
            return False

    def _file(self, target: Path) -> Path | None:
        """``target`` when it is a regular file inside the root (symlinks resolved)."""
        try:
            real = target.resolve(strict=True)
            root = self.root.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not real.is_relative_to(root) or not real.is_file():
            return None
        return real

    def _send(self, file: Path, headers: Mapping[str, str], *, head: bool,
              status: int) -> Response:
        try:
            data = file.read_bytes()
            stat = os.stat(file)
        except OSError:
            return Response(b"" if head else b"404 not found\n", status_code=404,
                            media_type="text/plain")
        media_type = _media_type(file)
        tag = f"{stat.st_size:x}-{stat.st_mtime_ns:x}"
        if self.inject is not None and media_type.startswith("text/html"):
            data = self.inject(data)
            tag += "-lr"
        etag = f'"{tag}"'
        out = {
            "etag": etag,
            "cache-control": self.cache_control,
            "last-modified": formatdate(stat.st_mtime, usegmt=True),
        }
        if status == 200 and _matches(headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=out)
        out["content-length"] = str(len(data))
        return Response(b"" if head else data, status_code=status, headers=out,
                        media_type=media_type)


def _safe_parts(path: str) -> list[str] | None:
    """The path's segments, or None for traversal, hidden names, NUL, backslashes or a
    segment no file system can hold."""
    if "\x00" in path or "\\" in path or not path.startswith("/"):
        return None
    parts = [p for p in path.split("/") if p]
    if any(p.startswith(".") or len(p.encode("utf-8", "surrogatepass")) > NAME_MAX
           for p in parts):
        return None
    return parts


def local_location(parts: list[str]) -> str:
    """The folder URL of ``parts`` for a redirect: ``/a/b/``, percent-encoded, never ``//``."""
    location = "/" + "".join(quote(p.encode("utf-8", "surrogatepass"), safe=_SEGMENT_SAFE) + "/"
                             for p in parts)
    if location.startswith(("//", "/\\")):  # parts are non-empty, so this cannot happen
        raise ValueError(f"not a local redirect: {location!r}")
    return location


def with_query(location: str, query: str) -> str:
    """``location`` with the request's raw ``query`` (``/new`` + ``x=1`` -> ``/new?x=1``,
    before any ``#fragment``), unless it has a query of its own (as Netlify does); what
    is not legal in a query is percent-encoded, so the header stays one plain line."""
    target, hash_mark, fragment = location.partition("#")
    if not query or "?" in target:
        return location
    return f"{target}?{quote(query, safe=_QUERY_SAFE)}{hash_mark}{fragment}"


def _media_type(file: Path) -> str:
    guessed, _ = mimetypes.guess_type(file.name)
    guessed = guessed or "application/octet-stream"
    if guessed.startswith("text/") or guessed in ("application/javascript", "application/json",
                                                  "image/svg+xml", "application/xml"):
        return f"{guessed}; charset=utf-8"
    return guessed


def _matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` against a strong ETag (weak comparison, as RFC 9110 says)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(item.strip().removeprefix("W/") == wanted for item in header.split(","))


__all__ = ["DEFAULT_CACHE_CONTROL", "NAME_MAX", "StaticSite", "local_location"]
