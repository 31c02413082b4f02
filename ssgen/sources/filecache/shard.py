"""One shard file of the parse cache, and the mark: their bytes (``encode``, ``decode``,
``read_mark``), the ``Entry`` they hold and the ``Blob`` of packed documents read on demand.

Format 5: the index is column by column (``Part``: the names in one list, the stamps and
the documents' spans in one array each, ...), which ``marshal`` loads ~15x faster than a
row a name (16k names: ~1 ms against ~20 ms, measured alone). Each index carries its
shard's number: a file under another shard's name is refused.
"""

from __future__ import annotations

import hashlib
import marshal
import zlib
from array import array
from pathlib import Path
from typing import Any, NamedTuple

MAGIC = b"ssgen-filecache-6\n"
MARK_MAGIC = b"ssgen-filecache-mark-2\n"
SHARDS = 64

Stamp = tuple[int, int, int, int]  # mtime_ns, size, inode, ctime_ns


class Entry(NamedTuple):
    """One file as last read: its stamp, digest, whether the stamp alone may be trusted,
    its parse (``documents``, and ``faults`` as (where, message) pairs) and the
    ``content_hash`` of each document (``hashes``). ``packed``: the documents as parsed,
    or as loaded: their ``marshal`` bytes, unpacked only when asked for, so loading 16k
    entries makes 16k bytes objects, not ~150k dicts and strings (a new process after a
    one-file edit unpacks one)."""

    stamp: Stamp
    digest: bytes
    trusted: bool
    # As parsed (a list), packed (bytes), or loaded: (start, size) in ``blob``.
    packed: list[dict[str, Any]] | bytes | tuple[int, int]
    faults: list[tuple[str, str]]
    hashes: list[str]
    blob: Blob | None = None

    @property
    def documents(self) -> list[dict[str, Any]]:
        """The documents (unpacked anew on each call of a loaded entry); raises
        ``Unavailable`` when its shard's documents are damaged or gone."""
        packed = self.packed
        if type(packed) is tuple:
            try:  # the bytes its index (checked) vouches for: anything else is damage
                unpacked = marshal.loads(self.raw())
            except (ValueError, EOFError, TypeError) as exc:
                raise Unavailable from exc
            if type(unpacked) is not list:
                raise Unavailable
            return unpacked
        if type(packed) is bytes:
            loaded: list[dict[str, Any]] = marshal.loads(packed)
            return loaded
        assert type(packed) is list
        return packed

    def raw(self) -> bytes:
        """A loaded entry's packed documents, as its shard file holds them."""
        packed = self.packed
        if type(packed) is bytes:
            return packed
        if type(packed) is not tuple or self.blob is None:
            return marshal.dumps(packed)
        data = self.blob.data()
        start, size = packed
        if data is None or type(start) is not int or type(size) is not int \
                or start < 0 or size < 0 or start + size > len(data):
            raise Unavailable
        return data[start:start + size]

    @property
    def available(self) -> bool:
        """Whether ``documents`` can be had (a loaded entry's shard is intact)."""
        return type(self.packed) is not tuple or (
            self.blob is not None and self.blob.data() is not None)


class Unavailable(Exception):
    """A loaded entry's documents are damaged or gone (its file is parsed again)."""


class Blob:
    """The packed documents of one shard file, read and checked on first use: the bytes
    after its index, whose checksum the (checked) index holds. A file replaced since its
    index was read fails the check: its entries' documents are then unavailable."""

    __slots__ = ("_data", "check", "offset", "path")

    def __init__(self, path: Path, offset: int, check: bytes) -> None:
        self.path, self.offset, self.check = path, offset, check
        self._data: bytes | bool | None = False  # False: not read yet

    def data(self) -> bytes | None:
        """The bytes, None when they are not the ones the index was saved with."""
        if self._data is False:
            self._data = None
            try:
                with open(self.path, "rb") as handle:
                    handle.seek(self.offset)
                    data = handle.read()
            except OSError:
                return None
            if checksum(data) == self.check:
                self._data = data
        return self._data if type(self._data) is bytes else None


class Part(NamedTuple):
    """One shard file's entries, column by column: position ``i`` of each is one name's."""

    names: list[str]
    stamps: array[int]  # 4 a name: mtime_ns, size, inode, ctime_ns
    digests: list[bytes]
    trusted: bytes  # 1 a name: 1 when trusted
    spans: array[int]  # 2 a name: start and size of its packed documents in the blob
    counts: array[int]  # its documents' count (as many hashes)
    hashes: list[str]  # every name's hashes, one after another
    faults: dict[int, list[tuple[str, str]]]  # by position, only the names with faults


def encode(key: str, shard_no: int, entries: dict[str, Entry]) -> tuple[bytes, bytes]:
    """A shard file's bytes and its index's checksum: ``MAGIC``, the checksum, the index's
    length, the index (the shard's number, the ``Part`` of the entries without their
    documents, and the checksum of the documents), then every entry's packed documents
    one after another. An entry whose documents are unavailable (``Entry.raw``) or whose
    stamp does not fit 64 bits is left out: its file is parsed again."""
    part = Part([], array("q"), [], b"", array("q"), array("q"), [], {})
    trusted = bytearray()
    parts: list[bytes] = []
    start = 0
    for name, entry in entries.items():
        try:
            packed = entry.raw()
            stamp = array("q", entry.stamp)
        except (Unavailable, OverflowError, TypeError):
            continue
        if len(stamp) != 4:
            continue
        if entry.faults:
            part.faults[len(part.names)] = entry.faults
        part.names.append(name)
        part.stamps.extend(stamp)
        part.digests.append(entry.digest)
        trusted.append(1 if entry.trusted else 0)
        part.spans.extend((start, len(packed)))
        part.counts.append(len(entry.hashes))
        part.hashes.extend(entry.hashes)
        parts.append(packed)
        start += len(packed)
    blob = b"".join(parts)
    columns = (part.names, part.stamps.tobytes(), part.digests, bytes(trusted),
               part.spans.tobytes(), part.counts.tobytes(), part.hashes, part.faults)
    index = marshal.dumps((key, shard_no, columns, checksum(blob)))
    check = checksum(index)
    return b"".join((MAGIC, check, len(index).to_bytes(8, "little"), index, blob)), check


def read_mark(path: Path, key: str, checks: list[bytes | None]) -> str:
    """The mark saved with the shard files whose checksums are ``checks`` (so with
    exactly the entries loaded from them), for this ``key``; "" otherwise (missing,
    damaged, saved with other shard files)."""
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    head = len(MARK_MAGIC) + 16
    body = data[head:]
    if data[:len(MARK_MAGIC)] != MARK_MAGIC \
            or checksum(body) != data[len(MARK_MAGIC):head]:
        return ""
    try:
        stored_key, mark, saved = marshal.loads(body)
    except (ValueError, TypeError, EOFError):
        return ""
    if stored_key != key or type(mark) is not str or saved != tuple(checks):
        return ""
    return mark


def checksum(data: bytes) -> bytes:
    """A shard file's, its documents' and the mark's checksum: SHA-256 cut to 128 bits,
    which this CPU's SHA extensions take ~1.8x faster than blake2b (the 2.9 MB of
    indexes a new process checks at 16k files: 1.7 against 3.1 ms)."""
    return hashlib.sha256(data).digest()[:16]


def shard(name: str) -> int:
    """The shard of the entry of ``name``."""
    return zlib.crc32(name.encode("utf-8", "surrogateescape")) % SHARDS


_HEAD = len(MAGIC) + 16 + 8


def decode(path: Path, key: str, shard_no: int) -> tuple[Part | None, Blob | None, bytes | None]:
    """The shard file's entries (``Part``), the ``Blob`` of their documents and its index's
    checksum (all None when it is missing, damaged, another key's or another shard's).
    Only the index is read: the documents are read when first asked for (``Blob``)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD)
            size = int.from_bytes(head[len(MAGIC) + 16:], "little")
            index = handle.read(size) if len(head) == _HEAD and head.startswith(MAGIC) else b""
    except OSError:
        return None, None, None
    check = head[len(MAGIC):len(MAGIC) + 16]
    if not index or len(index) != size \
            or checksum(index) != check:
        return None, None, None
    try:
        stored_key, stored_shard, columns, blob_check = marshal.loads(index)
        part = _part(*columns)
    except (ValueError, TypeError, EOFError):
        return None, None, None
    if stored_key != key or stored_shard != shard_no or type(blob_check) is not bytes \
            or part is None:
        return None, None, None
    return part, Blob(path, _HEAD + size, blob_check), check


def _part(names: Any, stamps: Any, digests: Any, trusted: Any, spans: Any, counts: Any,
          hashes: Any, faults: Any) -> Part | None:
    """The columns as a ``Part`` when their types and lengths agree (None otherwise)."""
    if type(names) is not list or type(digests) is not list or type(hashes) is not list \
            or type(faults) is not dict or type(trusted) is not bytes:
        return None
    part = Part(names, array("q"), digests, trusted, array("q"), array("q"), hashes, faults)
    part.stamps.frombytes(stamps)
    part.spans.frombytes(spans)
    part.counts.frombytes(counts)
    count = len(names)
    if len(part.stamps) != 4 * count or len(digests) != count or len(trusted) != count \
            or len(part.spans) != 2 * count or len(part.counts) != count \
            or sum(part.counts) != len(hashes) or min(part.counts, default=0) < 0 \
            or not all(type(at) is int and 0 <= at < count and type(found) is list
                       for at, found in faults.items()):
        return None
    return part
