"""Markdown files as documents: front matter gives the fields, the rest is ``body``.

Owns the mapping from a file under ``markdown_dir`` to a Sanity-shaped document:
``_id`` = ``md.`` + relative path without extension with ``/`` -> ``.``, ``_type`` from
front matter ``_type`` / ``type`` or the configured default, ``slug`` as a Sanity slug
object (front matter ``slug`` or the relative path), ``body`` the Markdown text.
Front matter values that are not JSON (YAML dates) become ISO strings. Also reading a
file through the ``FileCache`` (``cached_markdown``), so an unchanged file is not parsed.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from ssgen.errors import SourceError
from ssgen.sources.filecache import Entry, FileCache, Stamp, Unavailable, digest
from ssgen.sources.ndjson import Fault, Loaded

MARKDOWN_SUFFIXES = (".md", ".markdown")


def find_files(root: Path, suffixes: tuple[str, ...]) -> list[str]:
    """Relative POSIX paths of the files under ``root`` ending in ``suffixes``, sorted;
    hidden files and folders are skipped. (os.walk: pathlib costs ~60 µs a file here.)"""
    found: list[str] = []
    base = str(root)
    for folder, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(folder, base).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        found.extend(prefix + name for name in files
                     if not name.startswith(".") and name.lower().endswith(suffixes))
    found.sort()
    return found


def markdown_id(rel: str) -> str:
    """The ``_id`` of the document of the file ``rel`` (its path under markdown_dir):
    ``md.`` + the path without extension, ``/`` -> ``.``; a name alone decides it."""
    return "md." + rel.rsplit(".", 1)[0].replace("/", ".")


def markdown_ids(rels: list[str]) -> list[str]:
    """``markdown_id`` of each of ``rels`` (one pass: 16k calls cost ~3x)."""
    return ["md." + rel.rsplit(".", 1)[0].replace("/", ".") for rel in rels]


def read_markdown(path: str, rel: str, display: str, default_type: str) -> Loaded:
    """One Markdown file (``rel``: its path under markdown_dir) as a one-document ``Loaded``."""
    return parse_markdown(_read(path, display), rel, display, default_type)


def markdown_or_fault(data: bytes, rel: str, display: str, default_type: str) -> Loaded:
    """A Markdown file's document; none, with a fault, when its content is unusable."""
    try:
        return parse_markdown(data, rel, display, default_type)
    except SourceError as exc:
        loaded = Loaded(display)
        loaded.faults.append(Fault(display, f"{exc}; the file is skipped"))
        return loaded


def cached_markdown(cache: FileCache, path: str, rel: str, display: str, default_type: str,
                    stamp: Stamp, read_at_ns: int, data: bytes | None) -> tuple[Loaded, bytes]:
    """The file's parse and digest through ``cache``: unread when its stamp is trusted,
    unparsed when its bytes (``data``, or read now) are those the cache parsed."""
    entry = cache.hit(path, stamp)
    # Unpacked once: the view keeps these very objects. None: not cached, or its shard's
    # documents are damaged (``Unavailable``): parsed again.
    documents = _documents(entry)
    if entry is None or documents is None:
        if data is None:
            data = _read(path, display)
        found = digest(data)
        entry = cache.same(path, found)
        documents = _documents(entry)
        if entry is not None and documents is not None:
            faults, hashes = entry.faults, entry.hashes
        else:
            loaded = markdown_or_fault(data, rel, display, default_type)
            documents, hashes = loaded.documents, None
            faults = [(fault.where, fault.message) for fault in loaded.faults]
        cache.put(path, stamp, found, read_at_ns, documents, faults, hashes)
        entry = cache.entry(path)
        assert entry is not None
    loaded = Loaded(display, documents, [0] * len(documents))
    loaded.digests = entry.hashes  # the view's state hashes: not serialised again
    loaded.faults = [Fault(where, message) for where, message in entry.faults]
    return loaded, entry.digest


def _documents(entry: Entry | None) -> list[dict[str, Any]] | None:
    try:
        return entry.documents if entry is not None else None
    except Unavailable:
        return None


def _read(path: str, display: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise SourceError(f"{display}: cannot read: {exc.strerror or exc}") from exc


def parse_markdown(data: bytes, rel: str, display: str, default_type: str) -> Loaded:
    """``read_markdown`` over the file's bytes."""
    from ssgen.sources.frontmatter import split_front_matter

    data = data.removeprefix(b"\xef\xbb\xbf")  # the BOM some Windows editors add
    try:
        # Universal newlines, as text mode would give.
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(
            f"{display}:{line}: not valid UTF-8 (byte {data[exc.start]:#x}): "
            "save the file as UTF-8"
        ) from exc
    fields, body = split_front_matter(text, display)
    if not isinstance(fields, dict):
        raise SourceError(f"{display}: front matter must be a mapping of fields")
    stem = rel.rsplit(".", 1)[0]
    values = {str(k): to_json(v, f"{display}: front matter {k}") for k, v in fields.items()}
    doc_type = values.get("_type") or values.get("type") or default_type
    if not isinstance(doc_type, str):
        raise SourceError(f"{display}: front matter _type/type must be a string")
    slug = values.get("slug")
    if not isinstance(slug, dict):
        slug = {"_type": "slug", "current": str(slug) if slug not in (None, "") else stem}
    doc: dict[str, Any] = {"_id": markdown_id(rel), "_type": doc_type}
    doc.update((k, v) for k, v in values.items() if k not in doc)
    doc.update(slug=slug, body=body)
    return Loaded(display, [doc], [0])


def to_json(value: Any, where: str) -> Any:
    """``value`` as plain JSON data (dates -> ISO strings, tuples -> lists)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dt.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [to_json(item, where) for item in value]
    if isinstance(value, dict):
        return {str(k): to_json(v, where) for k, v in value.items()}
    raise SourceError(f"{where}: unsupported value {value!r} (use strings, numbers, "
                      "booleans, lists, tables)")

