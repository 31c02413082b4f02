"""What a deploy must do, decided without I/O: object metadata, remote state, the plan.

Owns the pure half of ``ssgen deploy``: Content-Type by extension, Cache-Control by
rules, which files are precompressed, the remote state document (``.ssgen-deploy.json``:
relpath -> sha256, metadata fingerprint and ETag, plus purges still owed), reconciling
that state with a bucket listing, the ordered upload plan and the purge URLs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import field
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from ssgen.config.deploy import CacheRule, DeployConfig
from ssgen.fastclass import dataclass

STATE_NAME = ".ssgen-deploy.json"
STATE_VERSION = 1
SHORT = "public, max-age=0, must-revalidate"
IMMUTABLE = "public, max-age=31536000, immutable"
# Not fingerprinted, so a browser must not keep a stale copy for long.
STATIC = "public, max-age=86400"
_FINGERPRINT = re.compile(r"[.\-_][0-9a-fA-F]{8,}\.[A-Za-z0-9]+$")
_SHORT_SUFFIXES = frozenset({".html", ".htm", ".xml", ".json", ".txt", ".webmanifest"})
_TYPES = {
    ".html": "text/html", ".htm": "text/html", ".css": "text/css",
    ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json",
    ".map": "application/json", ".xml": "application/xml", ".txt": "text/plain",
    ".md": "text/markdown", ".csv": "text/csv", ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json", ".rss": "application/rss+xml",
    ".atom": "application/atom+xml", ".png": "image/png", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
    ".avif": "image/avif", ".ico": "image/x-icon", ".woff": "font/woff",
    ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
    ".pdf": "application/pdf", ".mp4": "video/mp4", ".webm": "video/webm",
    ".mp3": "audio/mpeg", ".wasm": "application/wasm", ".zip": "application/zip",
}
_TEXT = ("text/", "application/json", "application/xml", "application/atom+xml",
         "application/rss+xml", "application/manifest+json", "image/svg+xml")
PHASES = ("static", "new pages", "changed pages", "generated")


@dataclass(frozen=True)
class ObjectMeta:
    """The HTTP metadata an object is stored with."""

    content_type: str
    cache_control: str
    encoding: str | None = None
    redirect: str | None = None  # x-amz-website-redirect-location (a moved page's old path)
    gone: bool = False  # an unpublished document's old path: x-amz-meta-ssgen-status 410

    @property
    def fingerprint(self) -> str:
        """A short digest: a change of metadata alone re-uploads the object."""
        text = f"{self.content_type}\n{self.cache_control}\n{self.encoding or ''}"
        if self.redirect is not None or self.gone:
            text += f"\n{self.redirect or ''}\n{self.gone}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LocalFile:
    """An output file to deploy: its content hash (from the manifest) and metadata."""

    relpath: str
    sha256: str
    kind: str
    meta: ObjectMeta


@dataclass(frozen=True)
class RemoteEntry:
    """What is known about one object: the sha256 and metadata it was uploaded with."""

    sha256: str
    meta: str
    etag: str = ""


@dataclass
class RemoteState:
    """The state object: every object ssgen uploaded and the purges not yet done."""

    files: dict[str, RemoteEntry] = field(default_factory=dict)
    purge: dict[str, list[str]] = field(default_factory=dict)

    def dumps(self) -> bytes:
        """Canonical JSON (sorted), so an unchanged state is byte-identical."""
        doc = {
            "version": STATE_VERSION,
            "files": {rel: [e.sha256, e.meta, e.etag] for rel, e in sorted(self.files.items())},
            "purge": {k: sorted(v) for k, v in sorted(self.purge.items()) if v},
        }
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def loads(cls, data: bytes) -> RemoteState:
        """Parse a state object; ValueError when it is not one this version wrote."""
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not JSON: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION:
            raise ValueError("unknown state version")
        files, purge = doc.get("files"), doc.get("purge", {})
        if not isinstance(files, dict) or not isinstance(purge, dict):
            raise ValueError("files and purge must be objects")
        state = cls()
        for rel, entry in files.items():
            if not (isinstance(entry, list) and len(entry) == 3
                    and all(isinstance(v, str) for v in entry)):
                raise ValueError(f"bad entry for {rel!r}")
            state.files[rel] = RemoteEntry(*entry)
        for kind in ("new", "changed", "deleted"):
            urls = purge.get(kind, [])
            if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
                raise ValueError(f"bad purge list {kind!r}")
            if urls:
                state.purge[kind] = list(urls)
        return state


@dataclass
class Plan:
    """Uploads by phase (in order), deletions, and what is already in place."""

    phases: list[tuple[str, list[LocalFile]]]
    new: set[str]
    changed: set[str]
    deletes: list[str]
    unchanged: int

    @property
    def uploads(self) -> list[LocalFile]:
        """Every upload in the order it happens."""
        return [item for _, items in self.phases for item in items]


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            char = pattern[i]
            out.append("[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char))
            i += 1
    return re.compile("".join(out))


def glob_match(pattern: str, relpath: str) -> bool:
    """Glob on an output relpath: ``*`` stays in one folder, ``**`` crosses folders; a
    pattern without ``/`` matches the file name in any folder (``*.html``)."""
    subject = relpath if "/" in pattern else relpath.rsplit("/", 1)[-1]
    return _glob_regex(pattern).fullmatch(subject) is not None


def content_type(relpath: str, *, atom: frozenset[str] = frozenset()) -> str:
    """Content-Type by extension; text types carry ``charset=utf-8``."""
    if relpath in atom:
        base = "application/atom+xml"
    else:
        base = _TYPES.get(PurePosixPath(relpath).suffix.lower(), "application/octet-stream")
    return f"{base}; charset=utf-8" if base.startswith(_TEXT) else base


def cache_control(relpath: str, kind: str, rules: Iterable[CacheRule] = ()) -> str:
    """The first matching rule's value, else: HTML/XML/JSON/text and generated files
    revalidate, fingerprinted assets are immutable, other static files last a day."""
    for rule in rules:
        if glob_match(rule.pattern, relpath):
            return rule.value
    suffix = PurePosixPath(relpath).suffix.lower()
    if kind in ("page", "generated") or suffix in _SHORT_SUFFIXES:
        return SHORT
    return IMMUTABLE if _FINGERPRINT.search(relpath) else STATIC


def object_meta(relpath: str, kind: str, settings: DeployConfig,
                atom: frozenset[str] = frozenset(),
                moved: Mapping[str, str | None] | None = None) -> ObjectMeta:
    """The metadata ``relpath`` is uploaded with under ``settings``; ``moved``: the stub
    files of redirects by relpath -> target (None: a 410)."""
    encoding = None
    if settings.precompress != "none" and any(glob_match(p, relpath) for p in settings.compress):
        encoding = settings.precompress
    stub = kind == "generated" and moved is not None and relpath in moved
    target = moved.get(relpath) if stub and moved is not None else None
    return ObjectMeta(content_type(relpath, atom=atom),
                      cache_control(relpath, kind, settings.cache_control), encoding,
                      redirect=target, gone=stub and target is None)


def reconcile(state: RemoteState | None, listing: Mapping[str, str] | None
              ) -> tuple[dict[str, RemoteEntry], set[str], set[str]]:
    """(entries to trust, listed keys the state cannot vouch for, every remote relpath).

    Without a listing the state is trusted as is. With one, an entry counts only when its
    object is listed with the ETag the upload returned; anything else must be looked at.
    """
    files = state.files if state is not None else {}
    if listing is None:
        return dict(files), set(), set(files)
    known = {rel: e for rel, e in files.items() if rel in listing and listing[rel] == e.etag}
    return known, set(listing) - set(known), set(listing)


def make_plan(local: Mapping[str, LocalFile], known: Mapping[str, RemoteEntry],
              remote: set[str], *, delete: bool, deleted: Iterable[str] = ()) -> Plan:
    """Order the uploads: static assets, new pages, changed pages (which may link to the
    new ones), generated files (sitemap, feed); deletions last: every remote file missing
    locally with ``delete``, else only those of ``deleted`` (files a build removed)."""
    buckets: dict[str, list[LocalFile]] = {name: [] for name in PHASES}
    new: set[str] = set()
    changed: set[str] = set()
    unchanged = 0
    for rel in sorted(local):
        item = local[rel]
        entry = known.get(rel)
        if entry and entry.sha256 == item.sha256 and entry.meta == item.meta.fingerprint:
            unchanged += 1
            continue
        fresh = rel not in remote
        (new if fresh else changed).add(rel)
        if item.kind == "page":
            buckets["new pages" if fresh else "changed pages"].append(item)
        else:
            buckets["static" if item.kind == "static" else "generated"].append(item)
    gone = remote - set(local)
    deletes = sorted(gone if delete else gone & set(deleted))
    phases = [(name, items) for name, items in buckets.items() if items]
    return Plan(phases, new, changed, deletes, unchanged)


def page_url(base_url: str, relpath: str) -> str:
    """The public URL of an output file (``a/index.html`` -> ``base/a/``)."""
    if relpath == "index.html":
        path = ""
    elif relpath.endswith("/index.html"):
        path = relpath[: -len("index.html")]
    else:
        path = relpath
    return f"{base_url.rstrip('/')}/{quote(path, safe='/')}"


def purge_urls(base_url: str, new: Iterable[str], changed: Iterable[str],
               deleted: Iterable[str]) -> dict[str, list[str]]:
    """``{"new", "changed", "deleted"}`` absolute URLs for the CDN purge hooks."""
    return {kind: sorted({page_url(base_url, rel) for rel in rels})
            for kind, rels in (("new", new), ("changed", changed), ("deleted", deleted))}


def merge_purges(*parts: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Union of purge lists (owed ones from an earlier deploy plus this deploy's)."""
    out: dict[str, set[str]] = {"new": set(), "changed": set(), "deleted": set()}
    for part in parts:
        for kind, urls in part.items():
            out.setdefault(kind, set()).update(urls)
    return {kind: sorted(urls) for kind, urls in out.items()}


def describe_state_error(exc: Exception) -> str:
    """How a broken state object is reported (it is then rebuilt from the bucket)."""
    return f"remote {STATE_NAME} is unreadable ({exc}); rebuilding it from the bucket"


def as_json(value: Any) -> bytes:
    """Compact JSON bytes (purge payloads)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
