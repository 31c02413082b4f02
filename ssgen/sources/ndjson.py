"""Parsing NDJSON datasets (one Sanity document a line) with file:line errors.

Owns the line format only: blank lines are skipped, every other line must be a JSON
object with a string ``_id`` and ``_type``. Used for plain ``.ndjson`` files and for the
``data.ndjson`` inside a ``sanity dataset export`` archive.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ssgen.errors import SourceError

_BOM = b"\xef\xbb\xbf"


@dataclass(eq=False)
class Loaded:
    """The documents of one file; ``lines[i]`` is where ``documents[i]`` came from."""

    display: str
    documents: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    has_exported_assets: bool = False
    # The parsed document of each line's bytes, so a reload after a one-line edit parses
    # one line, and unchanged documents stay the same objects (see parse_ndjson).
    by_line: dict[bytes, dict[str, Any]] = field(default_factory=dict, repr=False)
    # A content hash of each document's line (``digests[i]`` is ``documents[i]``'s): the
    # incremental build diffs documents by these instead of re-serialising them.
    digests: list[str] = field(default_factory=list, repr=False)
    digest_by_line: dict[bytes, str] = field(default_factory=dict, repr=False)

    def where(self, index: int) -> str:
        """``content/x.ndjson:17`` for the i-th document (no line for whole-file documents)."""
        line = self.lines[index] if index < len(self.lines) else 0
        return f"{self.display}:{line}" if line else self.display


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: loading 100k documents otherwise spends 3/4 of its time in it
    (every allocation batch triggers a collection; JSON documents hold no cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_ndjson(data: bytes, display: str, previous: Loaded | None = None) -> Loaded:
    """Parse NDJSON bytes; ``display`` names the file in errors.

    With ``previous`` (the last parse of the same file), lines whose bytes did not change
    reuse their parsed document instead of being parsed again.
    """
    if data.startswith(_BOM):  # editors on Windows add one; it is not part of the JSON
        data = data[len(_BOM) :]
    with gc_paused():
        return _parse(data, display, previous)


def _parse(data: bytes, display: str, previous: Loaded | None) -> Loaded:
    loaded = Loaded(display, has_exported_assets=b'"_sanityAsset"' in data)
    documents, lines, by_line = loaded.documents, loaded.lines, loaded.by_line
    # Documents of an unpacked export are rewritten after parsing: never share those.
    reuse = previous is not None and not loaded.has_exported_assets
    known = previous.by_line if reuse and previous is not None else {}
    known_digests = previous.digest_by_line if reuse and previous is not None else {}
    digests, digest_by_line = loaded.digests, loaded.digest_by_line
    for number, line in enumerate(data.split(b"\n"), 1):
        doc = known.get(line)
        digest = known_digests.get(line)
        if doc is None or digest is None:
            if not line.strip():
                continue
            doc = _parse_line(line, display, number)
            digest = hashlib.blake2b(line, digest_size=16).hexdigest()
        documents.append(doc)
        lines.append(number)
        digests.append(digest)
        by_line[line] = doc
        digest_by_line[line] = digest
    return loaded


def _parse_line(line: bytes, display: str, number: int) -> dict[str, Any]:
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"{display}:{number}:{exc.colno}: invalid JSON ({exc.msg})") from exc
    if type(doc) is not dict:
        raise SourceError(f"{display}:{number}: expected a JSON object (one document a "
                          f"line), got {type(doc).__name__}")
    check_document(doc, f"{display}:{number}")
    return doc


def check_document(doc: dict[str, Any], where: str) -> None:
    """Reject a document without a usable ``_id`` or ``_type``."""
    doc_id = doc.get("_id")
    if not isinstance(doc_id, str) or not doc_id:
        raise SourceError(f"{where}: missing _id (every document needs a string \"_id\")")
    if not isinstance(doc.get("_type"), str) or not doc["_type"]:
        raise SourceError(f"{where}: document {doc_id!r} is missing _type")


def read_ndjson(path: Path, display: str, previous: Loaded | None = None) -> Loaded:
    """Read and parse one NDJSON file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{display}: cannot read: {exc.strerror or exc}") from exc
    return parse_ndjson(data, display, previous)
