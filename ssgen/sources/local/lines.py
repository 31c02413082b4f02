"""Replacing documents of a kept NDJSON file by ``_id``, without reading the file.

Owns ``id_splices``: for a file whose lines are in ``_id`` order (the Sanity mirror's
snapshot, see ``ssgen.sources.mirror.store``), each changed document's line is found by
bisecting the last parse's documents and the kept bytes are patched there
(``ndjson.diff.patch``), so a webhook's few documents cost their lines, where a reload
compares the whole file with the kept bytes. A line that fits the old one's slot (its
bytes and trailing spaces, ``ndjson.slack``) is written over it with spaces after it;
a longer one, or a new one, is given slack, moving the bytes after it once. The order is
checked once per parse that did not come from here (``in_id_order``); anything unexpected
gives None, and the caller reads the file afresh. ``replace_lines``, ``kept_parse`` and
``adopt_stamp`` are a kept ``LocalSource``'s file patched, read and re-stamped this way.
"""

from __future__ import annotations

import operator
import weakref
from bisect import bisect_left
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ssgen.errors import SourceError
from ssgen.sources.inputs import stamp_of
from ssgen.sources.local.cached import Cached
from ssgen.sources.ndjson import Loaded, parse_line, slack
from ssgen.sources.ndjson.diff import Splice, patch
from ssgen.sources.ndjson.match import ASSET

if TYPE_CHECKING:
    from ssgen.sources.inputs import Input
    from ssgen.sources.ndjson import Data

# The parses known to be in ``_id`` order: checked once (O(n)), or made by ``id_splices``.
_ORDERED: weakref.WeakSet[Loaded] = weakref.WeakSet()


def in_id_order(loaded: Loaded) -> bool:
    """Whether the parse's documents are in strictly increasing ``_id`` order."""
    if loaded in _ORDERED:
        return True
    ids = [doc["_id"] for doc in loaded.documents]
    if not all(map(operator.lt, ids, ids[1:])):
        return False
    _ORDERED.add(loaded)
    return True


def id_splices(loaded: Loaded, data: bytearray,
               lines: Mapping[str, bytes | None]) -> list[Splice] | None:
    """Patch ``data`` (the bytes ``loaded``, in ``_id`` order, was parsed from) so that
    each ``_id`` of ``lines`` has that line (None: no line); the splices, in order, the
    last one's ``loaded`` the new parse: ``loaded`` itself, spliced in place (the
    caller's alone: ``ndjson.diff.patch``'s ``own``). None when it cannot be told (then
    ``data`` and ``loaded`` may be patched in part: parse the file afresh; a splice's
    ``removed`` then lacks the documents ``loaded`` lost, which the view's identity check
    of them against its own finds)."""
    if loaded.faults or loaded.has_exported_assets or len(loaded.digests) != len(
            loaded.documents) or not _parse(loaded.display, lines) or not in_id_order(loaded):
        return None
    splices: list[Splice] = []
    for doc_id in sorted(lines):
        region = _region(loaded, data, doc_id, lines[doc_id])
        if region is None:
            return None
        if region[0] == region[1] and not region[2]:
            continue  # a document gone that the file never had
        splice = patch(loaded, data, region[0], len(data) - region[1], region[2], own=True)
        if splice is None:
            return None
        splices.append(splice)
        loaded = splice.loaded
        _ORDERED.add(loaded)
    return splices


def _parse(display: str, lines: Mapping[str, bytes | None]) -> bool:
    """Whether each line is one document of its ``_id`` that the patch takes as it is
    (checked first, so that no patch fails half way)."""
    for doc_id, line in lines.items():
        if line is None:
            continue
        if b"\n" in line or ASSET in line or not line.strip():
            return False
        try:
            if parse_line(line, display, 0).get("_id") != doc_id:
                return False
        except SourceError:
            return False
    return True


def _region(loaded: Loaded, data: bytearray, doc_id: str,
            line: bytes | None) -> tuple[int, int, bytes] | None:
    """The bytes ``[start, stop)`` of ``data`` to replace, and what with, so that
    ``doc_id`` has ``line``; None at the end of a file without a last newline."""
    documents = loaded.documents  # in _id order (``in_id_order``)
    at = bisect_left(documents, doc_id, key=operator.itemgetter("_id"))
    present = at < len(documents) and documents[at]["_id"] == doc_id
    if not present:
        start = loaded.starts[at] if at < len(documents) else len(data)
        if start and data[start - 1] != 10:  # not at a line's start: a file without a last newline
            return None
        return start, start, b"" if line is None else _slotted(line) + b"\n"
    start = loaded.starts[at]
    end = data.find(b"\n", start)
    if end < 0:
        return None
    if line is None:
        return start, end + 1, b""
    room = end - start - len(line)
    if room < 0:
        return start, end, _slotted(line)
    if data.startswith(line, start) and data.count(b" ", end - room, end) == room:
        return start, start, b""  # the line it already has
    # It fits the old line's slot: written in place, no byte after it moves.
    return start, end, line + b" " * room


def _slotted(line: bytes) -> bytes:
    return line + b" " * slack(len(line))


__all__ = ["id_splices", "in_id_order"]


def line_of(loaded: Loaded, data: bytes | bytearray, doc_id: str,
            index: dict[str, int] | None) -> tuple[tuple[int, int] | None, dict[str, int] | None]:
    """The bytes ``[start, stop)`` of document ``doc_id``'s line in ``data`` (the kept
    bytes ``loaded`` was parsed from), None if it is not there; with ``index`` (``_id``
    -> position in ``loaded``), rebuilt when it does not name the document's place."""
    documents = loaded.documents
    at = (index or {}).get(doc_id)
    if at is None or at >= len(documents) or documents[at].get("_id") != doc_id:
        index = {doc["_id"]: place for place, doc in enumerate(documents)}
        at = index.get(doc_id)
        if at is None:
            return None, index
    start = loaded.starts[at]
    stop = data.find(b"\n", start)
    return (start, stop if stop >= 0 else len(data)), index


def replace_lines(cache: dict[str, Cached], path: str, lines: Mapping[str, bytes | None]
                  ) -> tuple[Loaded, list[Splice]] | None:
    """The kept file at ``path`` of a source's ``cache`` with each ``_id`` of ``lines``
    given that line (None: none), patched in its kept bytes (``id_splices``): its new
    parse and the splices for the view; None when it could not be told (the file's
    stamp is then forgotten, so the next reload reads it whole)."""
    cached = cache.get(path)
    if cached is None or cached.data is None:
        return None
    kept = cached.data if type(cached.data) is bytearray else bytearray(cached.data)
    cached.data = None  # as in cached.reread: patched from here on
    cached.forget_digest()
    splices = id_splices(cached.loaded, kept, lines)
    if splices is None:
        cached.stamp = (-1, -1, -1, -1)
        return None
    loaded = splices[-1].loaded if splices else cached.loaded
    cache[path] = Cached(cached.stamp, loaded, kept)
    return loaded, splices


def kept_parse(cache: dict[str, Cached], inputs: list[Input], path: str
               ) -> tuple[Data, list[dict[str, Any]]] | None:
    """The bytes a kept source holds of the file at ``path`` and their documents, while
    the file is the one it last read (None once another writer replaced it)."""
    cached = cache.get(path)
    item = next((item for item in inputs if item.path == path), None)
    if cached is None or cached.data is None or item is None \
            or stamp_of(item) != cached.stamp:
        return None
    return cached.data, cached.loaded.documents


def adopt_stamp(cache: dict[str, Cached], inputs: list[Input], path: str, data: Data) -> None:
    """The file at ``path`` was just written with the kept bytes ``data``: its stamp taken,
    so the next reload does not compare them again."""
    cached = cache.get(path)
    item = next((item for item in inputs if item.path == path), None)
    if cached is not None and cached.data is data and item is not None:
        cached.stamp, cached.racy = stamp_of(item), False  # its bytes are known
