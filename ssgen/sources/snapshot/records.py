"""A source snapshot's per-document records: which objects each holds, and their table.

Owns ``groups`` (each visible document with an ``_id``, with the dict items that the
source's maintained queries keep for that id, each object in one group) and the table at
the file's end that tells the records apart (``trailer``, ``read``). The snapshot's body
holds these objects as empty shells and each group's contents in a record of its own
after it (``filling.encode``); a record's bytes are checked by a CRC-32 of their own
in the table, and all of them one CRC-32 there too (the file's checksum covers the table,
not the records), so that a process can tell a damaged record without the others, and
one that reads them all checks them in one go (a CRC a record, taken on the checksum's
thread, would wait for the GIL ~10k times behind the decode). Each record decodes
alone after the value (``filling.Filling.fill``, its own CRC-32 checked): a resume fills
those its command reads (``lazy``), or all at the open (``fill_all``) under
``SSGEN_LAZY_SNAPSHOT=0``.

The table, last in the file: the end of the shells' prefix and of the value (8 bytes
each, from the body's start), the CRC-32 of all the records (4), each record's length (8)
and CRC-32 (4), their count (4), ``TAIL``. A file without it holds no records (an older
layout, or a source without documents).
"""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from ssgen.sources.local import LocalSource

TAIL = b"\0rec"
_COUNT = 4
_HEAD, _ROW = struct.Struct(">QQI"), struct.Struct(">QI")  # the table's head, each row


class Records(NamedTuple):
    """A file's records: ``ends`` as ``filling.encode`` gave them (relative to the
    body's start), each record's CRC-32, that of all of them, and the file's size
    without the table."""

    ends: list[int]
    crcs: list[int]
    whole: int
    size: int


def groups(source: LocalSource) -> list[list[dict[str, Any]]]:
    """Each visible document with a string ``_id`` (the first of that id), followed by
    the dict items the maintained queries keep for that id that no group holds yet."""
    found: dict[str, list[dict[str, Any]]] = {}
    seen: set[int] = set()
    for doc in source.dataset.documents:
        doc_id = doc.get("_id") if type(doc) is dict else None
        if type(doc_id) is str and doc_id not in found and id(doc) not in seen:
            found[doc_id] = [doc]
            seen.add(id(doc))
    results = source.results
    if results is not None:
        for doc_id, item in results.items():
            group = found.get(doc_id)
            if group is not None and type(item) is dict and id(item) not in seen:
                group.append(item)
                seen.add(id(item))
    return list(found.values())


def parts(body: memoryview, ends: Sequence[int]) -> list[memoryview]:
    """The records' bytes in ``body`` (what ``filling.encode`` returned), in order."""
    return [body[start:end] for start, end in itertools.pairwise(ends[1:])]


def trailer(ends: Sequence[int], records: Sequence[memoryview]) -> bytes:
    """The records' table for a body with these ``ends`` and ``records`` (its parts)."""
    lengths = [end - start for start, end in itertools.pairwise(ends[1:])]
    rows = b"".join(length.to_bytes(8, "big") + crc.to_bytes(4, "big")
                    for length, crc in zip(lengths, crcs(records), strict=True))
    whole = 0
    for record in records:
        whole = zlib.crc32(record, whole)
    return (ends[0].to_bytes(8, "big") + ends[1].to_bytes(8, "big")
            + whole.to_bytes(4, "big") + rows + len(lengths).to_bytes(_COUNT, "big") + TAIL)


def read(data: Any, body: int) -> Records | None:
    """The records' table of a file's bytes ``data`` whose body starts at ``body``; None
    when it has none; ``ValueError`` when the table does not fit the file."""
    size = len(data)
    if size < body + len(TAIL) + _COUNT or bytes(data[size - len(TAIL):]) != TAIL:
        return None
    count = int.from_bytes(data[size - len(TAIL) - _COUNT:size - len(TAIL)], "big")
    at = size - len(TAIL) - _COUNT - 12 * count - 20
    if at < body:
        raise ValueError("a bad records table")
    table = bytes(data[at:size - len(TAIL) - _COUNT])
    first, value, whole = _HEAD.unpack_from(table)
    # The rows unpacked in C (10,000 at 10,000 posts: ~10 ms a process as a loop).
    lengths, crcs = (list(column) for column in zip(*_ROW.iter_unpack(table[20:]),
                                                     strict=True)) if count else ([], [])
    if count and min(lengths) <= 0:
        raise ValueError("a bad records table")
    ends = [first, *itertools.accumulate(lengths, initial=value)]
    if not 0 < ends[0] <= ends[1] or body + ends[-1] > at:
        raise ValueError("a bad records table")
    return Records(ends, crcs, whole, at)


def crcs(records: Iterable[memoryview]) -> list[int]:
    """Each record's CRC-32."""
    return [zlib.crc32(record) for record in records]


__all__ = ["TAIL", "Records", "crcs", "groups", "parts", "read", "trailer"]
