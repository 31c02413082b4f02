"""Parsing NDJSON datasets (one Sanity document a line) with file:line errors.

Owns the line format only: blank lines are skipped, every other line must be a JSON
object with a string ``_id`` and ``_type``; a line that is not is left out and recorded as
a ``Fault`` naming file:line (one bad document never hides the others); a leading byte
order mark is ignored. Used for
plain ``.ndjson`` files and for the ``data.ndjson`` inside a ``sanity dataset export``
archive.

The package: this module holds the format; ``diff`` re-parses only the changed lines of an
edited file, matching them to the old ones with ``match``; ``reread`` reads only the
region of a kept file that differs (each imports this module, which runs first anyway).
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from ssgen.errors import SourceError
from ssgen.sources import wellformed
from ssgen.sources.offsets import Offsets

BOM = b"\xef\xbb\xbf"
Data = bytes | bytearray


class Fault(NamedTuple):
    """A document left out of the dataset: ``where`` (file:line) and why (the message
    starts with its own file:line[:column])."""

    where: str
    message: str


class Loaded:
    """The documents of one file; ``documents[i]`` came from line ``lines[i]``.

    NDJSON parses also keep, per document, a content hash of its line (``digests``: the
    incremental build diffs documents by these instead of re-serialising them) and the
    byte offset of its line (``starts``: where a later edit's changed bytes fall).
    """

    def __init__(self, display: str, documents: list[dict[str, Any]] | None = None,
                 lines: list[int] | None = None, *, has_exported_assets: bool = False) -> None:
        self.display = display
        self.documents: list[dict[str, Any]] = documents if documents is not None else []
        self.numbers = Offsets(lines if lines is not None else [])
        self.starts = Offsets([])
        self.digests: list[str] = []
        self.faults: list[Fault] = []
        self.has_exported_assets = has_exported_assets

    @property
    def lines(self) -> list[int]:
        """The line number of each document (0: a whole-file document)."""
        return self.numbers.tolist()

    def where(self, index: int) -> str:
        """``content/x.ndjson:17`` for the i-th document (no line for whole-file documents)."""
        line = self.numbers[index] if index < len(self.numbers) else 0
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


def parse_ndjson(data: Data, display: str) -> Loaded:
    """Parse NDJSON bytes; ``display`` names the file in errors."""
    loaded = Loaded(display, has_exported_assets=b'"_sanityAsset"' in data)
    with gc_paused():
        lines = parse_lines(data, 0, len(data), 1, display, {})
    loaded.documents, loaded.digests = lines.documents, lines.digests
    loaded.faults = lines.faults
    loaded.starts, loaded.numbers = Offsets(lines.starts), Offsets(lines.numbers)
    return loaded


class Lines:
    """The documents parsed from a run of lines, with their digests, offsets and numbers."""

    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []
        self.digests: list[str] = []
        self.starts: list[int] = []
        self.numbers: list[int] = []
        self.faults: list[Fault] = []
        self.count = 0  # lines, blank ones included


Known = dict[bytes, tuple[dict[str, Any], str]]


def parse_lines(data: Data, start: int, stop: int, number: int, display: str,
                known: Known, origin: int = 0) -> Lines:
    """Parse the lines of ``data[start:stop]`` (whole lines; the first is line ``number``).

    A line whose bytes are in ``known`` reuses that document and digest unparsed, so an
    unchanged line keeps its document object across a reload. ``origin``: the file
    offset of ``data[0]``, when ``data`` is a piece of the file (the offsets recorded,
    and the byte order mark dropped only at the file's start, are the file's).
    """
    out = Lines()
    offset = start + origin
    for line in data[start:stop].split(b"\n"):
        line_start, offset = offset, offset + len(line) + 1
        out.count += 1
        if line_start == 0 and line.startswith(BOM):  # editors on Windows add one
            line = line[len(BOM):]
        reused = known.get(bytes(line)) if known else None
        if reused is None:
            if not line.strip():
                continue
            at = number + out.count - 1
            try:
                doc = parse_line(line, display, at)
            except SourceError as exc:
                out.faults.append(Fault(f"{display}:{at}", f"{exc}; the line is skipped"))
                continue
            reused = (doc, line_digest(line))
        out.documents.append(reused[0])
        out.digests.append(reused[1])
        out.starts.append(line_start)
        out.numbers.append(number + out.count - 1)
    return out


def line_digest(line: Data) -> str:
    """A line's content hash (128 bits, hex). SHA-256, cut: with the SHA extensions of
    x86 CPUs it hashes 2.5x faster than blake2b (70 MB: 39 against 102 ms here).
    Trailing spaces (a mirror line's ``slack``) are layout, not content."""
    if line.endswith(b" "):
        line = line.rstrip(b" ")
    return hashlib.sha256(line).hexdigest()[:32]


SLACK, SLOT = 16, 64


def slack(size: int) -> int:
    """The spaces a mirror line of ``size`` bytes is written with (16 to 79): its slot
    rounded up to 64 bytes, so that an edit that grows the document by a few bytes is
    patched in place in serve's kept copy instead of moving every byte after it (the
    file is 700 MB at 100,000 posts; trailing spaces are JSON whitespace)."""
    return -(size + SLACK) % SLOT + SLACK


def parse_line(line: Data, display: str, number: int) -> dict[str, Any]:
    """The document of one line (line ``number`` of ``display``); ``SourceError`` when
    it is not one."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        doc = _parsed_again(line, exc, f"{display}:{number}")
    if type(doc) is not dict:
        raise SourceError(f"{display}:{number}: expected a JSON object (one document a "
                          f"line), got {type(doc).__name__}")
    check_document(doc, f"{display}:{number}")
    return doc


def _parsed_again(line: Data, exc: json.JSONDecodeError, where: str) -> Any:
    """The value of a line orjson refused for a lone surrogate escape (``wellformed``:
    each made U+FFFD); else ``SourceError`` naming the line's first fault."""
    if "surrogate" in exc.msg:
        try:
            return wellformed.loads(bytes(line))
        except json.JSONDecodeError as again:  # another fault: say that one
            exc = again
        except ValueError:
            pass
    raise SourceError(f"{where}:{exc.colno}: invalid JSON ({exc.msg})") from exc


def check_document(doc: dict[str, Any], where: str) -> None:
    """Reject a document without a usable ``_id`` or ``_type``."""
    doc_id = doc.get("_id")
    if not isinstance(doc_id, str) or not doc_id:
        raise SourceError(f"{where}: missing _id (every document needs a string \"_id\")")
    if not isinstance(doc.get("_type"), str) or not doc["_type"]:
        raise SourceError(f"{where}: document {doc_id!r} is missing _type")


def read_ndjson(path: Path, display: str) -> Loaded:
    """Read and parse one NDJSON file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{display}: cannot read: {exc.strerror or exc}") from exc
    return parse_ndjson(data, display)
