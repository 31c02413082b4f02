"""Page URL paths -> output files, and the lexical check that keeps them inside the root.

- ``url_to_file(path, route=None) -> PurePosixPath``: a page URL path to its file
  (``/`` -> ``index.html``, ``/a/b/`` -> ``a/b/index.html``, ``/feed.xml`` -> ``feed.xml``,
  ``/about`` -> ``about/index.html``), percent-decoded, rejecting anything that could
  name a file outside the output folder (``..``, ``.``, empty segments, backslashes,
  NUL and control characters, drive letters, over-long names) with an ``OutputError``
  naming the path and the route.
- ``canonical_path(path) -> str``: the one form of a page URL path that ssgen stores,
  compares and links: percent-decoded, Unicode NFC, then percent-encoded again (ASCII;
  ``/blog/why-%77e/`` and ``/blog/why-we/`` are one path, ``/a b/`` is ``/a%20b/``).
  Paths are normalised once, where routes fill them in, before the uniqueness check.
- ``safe_relpath(relpath)``: the same check for a relative output file path.

Page paths cannot have a segment that starts with a dot (``/.well-known/x/``): such names
are hidden files, which ``ssgen serve`` (like most web servers) does not serve; put them
in ``static/`` if a host needs them.

Pure; ``ssgen.build.output`` checks the same paths again on disk (symlinked folders).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import quote, unquote

from ssgen.errors import OutputError

_MAX_NAME_BYTES = 255
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# What a canonical path keeps unencoded: RFC 3986 unreserved and sub-delims, ':', '@', '/'.
_SAFE = "/-._~!$&'()*+,;=:@"
_PLAIN = re.compile(r"[A-Za-z0-9/\-._~!$&'()*+,;=:@]*")
_PLAIN_PAGE = re.compile(r"/[A-Za-z0-9/\-._~!$&'()*+,;=:@]*")


def canonical_path(path: str) -> str:
    """The canonical (decoded, NFC, re-encoded) form of a URL path; see the module doc.

    A path whose percent-encoding is not UTF-8, or that holds lone surrogates, is returned
    as it is: ``url_to_file`` reports it with the route, a webhook answers 400.
    """
    if _PLAIN.fullmatch(path):
        return path
    try:
        decoded = unquote(path, errors="strict")
        return quote(unicodedata.normalize("NFC", decoded), safe=_SAFE)
    except UnicodeError:
        return path


def url_to_file(path: str, route: str | None = None) -> PurePosixPath:
    """The file (relative to the output root) that serves the URL path ``path``."""
    return PurePosixPath(url_to_relpath(path, route))


def url_to_relpath(path: str, route: str | None = None) -> str:
    """``url_to_file`` as a string (``a/b/index.html``), without building a path object."""
    if isinstance(path, str) and _PLAIN_PAGE.fullmatch(path):
        # Plain ASCII with no '%': nothing to decode or normalise; a segment that is empty,
        # hidden, over-long or drive-like takes the full check below for its message.
        body = path[1:]
        if body == "":
            return "index.html"
        pretty = body.endswith("/")
        segments = body[:-1].split("/") if pretty else body.split("/")
        if all(segment and segment[0] != "." and len(segment) <= _MAX_NAME_BYTES
               for segment in segments) and not _DRIVE.match(segments[0]):
            if pretty or "." not in segments[-1]:
                return f"{body}index.html" if pretty else f"{body}/index.html"
            return body
    return "/".join(_checked_file(path, route))


def _checked_file(path: str, route: str | None) -> list[str]:
    where = f"page path {path!r}" + (f" of route {route!r}" if route else "")
    if not isinstance(path, str) or not path.startswith("/"):
        raise OutputError(f"{where}: a page path must be a string starting with '/'")
    if "?" in path or "#" in path:
        raise OutputError(f"{where}: a page path cannot contain '?' or '#'")
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError as exc:
        raise OutputError(f"{where}: percent-encoding is not valid UTF-8") from exc
    body = unicodedata.normalize("NFC", decoded[1:])
    if body == "":
        return ["index.html"]
    pretty = body.endswith("/")
    segments = body[:-1].split("/") if pretty else body.split("/")
    try:
        _check_segments(segments, where)
        _check_not_hidden(segments, where)
    except OutputError as exc:
        if route is None:
            raise
        raise OutputError(f"{exc}; fix the document field that fills this route's path") from None
    if not pretty and "." not in segments[-1]:
        pretty = True
    if pretty:
        segments.append("index.html")
    return segments


def safe_relpath(relpath: str | PurePosixPath) -> PurePosixPath:
    """``relpath`` as a checked relative path inside the output root, or ``OutputError``."""
    return PurePosixPath(checked_relpath(relpath))


def checked_relpath(relpath: str | PurePosixPath) -> str:
    """``safe_relpath`` as a string: ``relpath`` checked, in the form ``str(safe_relpath)``."""
    text = str(relpath)
    where = f"output file {text!r}"
    if text == "" or text.startswith("/"):
        raise OutputError(f"{where}: must be a non-empty path relative to the output folder")
    _check_segments(text.split("/"), where)
    return text


def _check_segments(segments: list[str], where: str) -> None:
    for segment in segments:
        problem = _segment_problem(segment)
        if problem:
            raise OutputError(f"{where}: {problem}; it could write outside the output folder")
    if _DRIVE.match(segments[0]):
        raise OutputError(f"{where}: looks like a drive path ({segments[0]!r})")


def _check_not_hidden(segments: list[str], where: str) -> None:
    for segment in segments:
        if segment.startswith("."):
            raise OutputError(f"{where}: segment {segment!r} starts with a dot: hidden files "
                              "are not served; put such files in static/ instead")


def _segment_problem(segment: str) -> str | None:
    if segment == "":
        return "empty path segment ('//')"
    if segment in (".", ".."):
        return f"'{segment}' segment"
    if "\\" in segment:
        return "backslash in path"
    if "\x00" in segment:
        return "NUL character in path"
    if _CONTROL.search(segment):
        return "control character in path"
    if len(segment.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        return f"path segment longer than {_MAX_NAME_BYTES} bytes"
    return None
