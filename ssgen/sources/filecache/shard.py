"""One shard file of the parse cache, and the mark: their bytes (``encode``, ``decode``,
``read_mark``), the ``Entry`` they hold and the ``Blob`` of packed documents read on demand.
"""

from __future__ import annotations

import hashlib
import marshal
import zlib
from pathlib import Path
from typing import Any, NamedTuple

MAGIC = b"ssgen-filecache-4\n"
MARK_MAGIC = b"ssgen-filecache-mark-1\n"
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
            if hashlib.blake2b(data, digest_size=16).digest() == self.check:
                self._data = data
        return self._data if type(self._data) is bytes else None


def encode(key: str, entries: dict[str, Entry]) -> tuple[bytes, bytes]:
    """A shard file's bytes and its index's checksum: ``MAGIC``, the checksum, the index's
    length, the index (the entries without their documents, and the checksum of the
    documents), then every entry's packed documents one after another. An entry whose
    documents are unavailable (``Entry.raw``) is left out: its file is parsed again."""
    rows: dict[str, tuple[Any, ...]] = {}
    parts: list[bytes] = []
    start = 0
    for name, entry in entries.items():
        try:
            packed = entry.raw()
        except Unavailable:
            continue
        rows[name] = (entry.stamp, entry.digest, entry.trusted, len(entry.hashes),
                      (start, len(packed)), entry.faults, entry.hashes)
        parts.append(packed)
        start += len(packed)
    blob = b"".join(parts)
    index = marshal.dumps((key, rows, hashlib.blake2b(blob, digest_size=16).digest()))
    check = hashlib.blake2b(index, digest_size=16).digest()
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
            or hashlib.blake2b(body, digest_size=16).digest() != data[len(MARK_MAGIC):head]:
        return ""
    try:
        stored_key, mark, saved = marshal.loads(body)
    except (ValueError, TypeError, EOFError):
        return ""
    if stored_key != key or type(mark) is not str or saved != tuple(checks):
        return ""
    return mark


def shard(name: str) -> int:
    """The shard of the entry of ``name``."""
    return zlib.crc32(name.encode("utf-8", "surrogateescape")) % SHARDS


_HEAD = len(MAGIC) + 16 + 8


def decode(path: Path, key: str) -> tuple[dict[str, Entry], bytes | None]:
    """The shard file's entries and its index's checksum (None, and no entries, when it
    is missing, damaged or another key's). Only the index is read: the documents are
    read when first asked for (``Blob``)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD)
            size = int.from_bytes(head[len(MAGIC) + 16:], "little")
            index = handle.read(size) if len(head) == _HEAD and head.startswith(MAGIC) else b""
    except OSError:
        return {}, None
    check = head[len(MAGIC):len(MAGIC) + 16]
    if not index or len(index) != size \
            or hashlib.blake2b(index, digest_size=16).digest() != check:
        return {}, None
    try:
        stored_key, raw, blob_check = marshal.loads(index)
        if stored_key != key or type(blob_check) is not bytes:
            return {}, None
        blob = Blob(path, _HEAD + size, blob_check)
        return {name: Entry(tuple(stamp), digest, trusted, packed, faults, hashes, blob)
                for name, (stamp, digest, trusted, count, packed, faults, hashes) in raw.items()
                if len(hashes) == count and type(packed) is tuple and len(packed) == 2}, check
    except (ValueError, TypeError, EOFError, AttributeError):
        return {}, None


