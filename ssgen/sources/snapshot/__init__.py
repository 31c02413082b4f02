"""``.ssgen/source.snapshot``: the local source a build left, for a new process to resume.

Owns the file: the state of a ``LocalSource`` (the files' bytes and parses, the merged
view, the dataset with its indexes and reverse-reference index, the maintained results
of its list queries) behind a key and a checksum, encoded by ``codec``, whose decoder
yields plain data and instances of ssgen's own state classes only: whoever can write
``.ssgen/`` cannot make a build run code of theirs by it. A new ``ssgen build`` or
``ssgen revalidate`` that resumes it re-reads every input file and diffs it against the
bytes the snapshot parsed (``LocalSource.resume``), so its maintained queries
re-evaluate only the documents that differ: a stale snapshot (any earlier build's)
costs a larger diff, never a different result, because what is encoded was consistent
when encoded (one object graph, one ``encode``). A file with another key (ssgen's code,
Python's version, the config's hash, the site folder, the perspective), a bad checksum,
a body the decoder refuses, a state of another shape, or any error resuming it is
ignored: the build loads the files from scratch.

The file: ``MAGIC``, the key, the CRC-32 of all that follows it except the records, the
body: the shells' prefix and the value, then one record per document (the document and
its maintained items, filled into the value's empty shells: ``records``,
``filling``; each decodes alone after the value: a resume fills those a command reads
(``lazy``; all at the open under ``SSGEN_LAZY_SNAPSHOT=0``), under the file's checksums);
then the buffers the body holds out of band (each NDJSON file's kept bytes: half the file
at 10,000 posts), each at an offset a map can start at, and their table (offset and
length of each, their count, ``_TAIL``); last the records' table (``records.trailer``:
each record's length and CRC-32, and one CRC-32 of them all).
The decode maps each buffer on its own (``ndjson.mapped.Mapped``) instead of copying it
into the heap; the resume's diff reads it there and the map goes with the resumed
``Cached``. A file without the buffers' tail holds no buffers (a body that names one is
then refused); one without the records' table holds no records (the value whole in one
pickle, as before).

Before encoding, the documents' equal short strings are made one object
(``ssgen.sources.snapshot.share``): the decoder then makes each value once, not once per
occurrence (at 10,000 starter posts a fifth less decoding, 40% fewer page faults).

Saving a snapshot costs more than loading one (encoding 10,000 posts is seconds), so a
resumed source is saved again only when its re-read changed more than ``RESAVE``
documents or it maintains a list query the snapshot lacked; a process that found none
saves one. Builds of sites with NDJSON or export inputs keep one, full builds included (a
Markdown-only site's parses are in ``.ssgen/markdown.cache/``); serve's kept source is
saved by a forked child between rounds (``ssgen.sources.snapshot.background``).
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import pickle
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ssgen import shells
from ssgen.config.load import Config
from ssgen.errors import SsgenError
from ssgen.sources import Source
from ssgen.sources.atomic import write_atomic
from ssgen.sources.codestamp import ssgen_digest
from ssgen.sources.inputs import snapshot_wanted
from ssgen.sources.local import LocalSource, ReadInputs
from ssgen.sources.ndjson import gc_paused
from ssgen.sources.ndjson.mapped import Mapped
from ssgen.sources.snapshot import allowed, codec, filling, lazy, records, share
from ssgen.sources.snapshot.checksum import Checksum as _Checksum

MAGIC = b"ssgen-source-snapshot-5\n"
FILE = "source.snapshot"
RESAVE = 64
STALE_TMP = 600.0
_ROOT = "ssgen-source"  # the body's first element: what it is a snapshot of
_KEY, _SUM = 32, 4  # the checksum: CRC-32 (damage, not tampering: .ssgen/ is the site's)
# The out-of-band buffers' table ends the file with their count and this (the body ends
# with pickle's STOP, ``.``): offsets and lengths as 8 bytes each, the count as 4.
_TAIL = b"\0oob"
_ALIGN = mmap.ALLOCATIONGRANULARITY

allowed.register()


wanted = snapshot_wanted  # whether a build from these inputs keeps a snapshot


def snapshot_key(config: Config, perspective: str) -> bytes:
    """What a snapshot's validity depends on besides the input files' bytes."""
    digest = hashlib.blake2b(digest_size=_KEY)
    for part in (MAGIC.decode(), sys.version, config.hash, str(config.site_dir), perspective):
        digest.update(part.encode() + b"\0")
    # The code's digest through the files' stamps (``codestamp``), not their ~270 reads.
    digest.update(ssgen_digest(config.state_dir))
    return digest.digest()


def resume(config: Config, perspective: str,
           read: ReadInputs | Callable[[], ReadInputs] | None,
           leave: list[object] | None = None) -> tuple[LocalSource, Any] | None:
    """The snapshot's source brought up to the files' present bytes, and what was saved
    with it (``extra``); None when there is no usable snapshot for ``config``. ``read``:
    the files' read, or a call that gives it (made after the decode, only when it is used).
    ``leave``: what a process that exits right after keeps until then instead of
    freeing it (``codec.decode``'s)."""
    path = config.state_dir / FILE
    found = _load(path, snapshot_key(config, perspective), leave)
    if found is None:
        return None
    source, extra, pending = found
    if callable(read):
        read = read()
    if pending is not None:
        shells.hold(pending)
    try:
        share.walked(source.dataset.documents)  # shared when saved (see ``save``)
        source.resume(config, read)
        lazy.predict(source.dataset, source.resumed)
    except shells.UnfilledRead:
        raise
    except Exception:  # a state of another shape (a hostile one) included
        if pending is not None:
            shells.drop(pending)
            pending.close()
        return None
    return source, extra


def keep(config: Config, source: Source | None,
         extra: Callable[[], Any] = lambda: None, *, resave: bool = False) -> None:
    """Save ``source`` (with ``extra()``, encoded in the same go: objects shared with the
    source stay shared) for the next process, if it is one to keep and worth saving
    (``resave``: the caller's memos found the snapshot's lacking)."""
    if isinstance(source, LocalSource) and due(source, resave=resave):
        save(config.state_dir / FILE, snapshot_key(config, source.perspective), source,
             extra())


def due(source: Source | None, *, resave: bool = False) -> bool:
    """Whether ``keep`` saves ``source`` (see there)."""
    if not isinstance(source, LocalSource) or not source.maintains:
        return False
    results = source.results
    return source.resumed is None or len(source.resumed) > RESAVE or resave \
        or (results is not None and bool(results.made))


def save(path: Path, key: bytes, source: LocalSource, extra: Any = None) -> None:
    """Replace the snapshot; a failed write leaves none (it is a cache: the build goes on)."""
    _sweep(path)
    shells.fill_all()  # the encoder reads every document
    if source.results is not None:
        source.results.made = 0  # what it maintains is in the snapshot now
    buffers: list[pickle.PickleBuffer] = []
    try:
        with gc_paused():
            shells.check_filled(source.__dict__, "a snapshot's save")
            share.strings(source.dataset.documents)
            body, ends = filling.encode((_ROOT, source.__getstate__(), extra),
                                        records.groups(source), share.pool(), buffers)
    except Exception:
        path.unlink(missing_ok=True)
        return
    finally:
        allowed.forget()
    try:
        with gc_paused():  # ~10k records' views: else a full collection of the heap
            parts = framed(key, body, [buffer.raw() for buffer in buffers], ends)
        write_atomic(path, parts, "source snapshot", durable=False)
    except SsgenError:
        path.unlink(missing_ok=True)


def framed(key: bytes, body: bytes, buffers: list[memoryview],
           ends: Sequence[int] = ()) -> list[bytes | memoryview]:
    """The parts of a snapshot file holding ``body`` (with its records at ``ends``, as
    ``filling.encode`` gave them) and its out-of-band ``buffers`` (see the module
    docstring), in order: written one after the other (not joined: the buffers are 70 MB
    at 10,000 posts). The checksum covers all but the records, which have their own."""
    view = memoryview(body)
    kept = records.parts(view, ends) if ends else []
    parts: list[bytes | memoryview] = [view[:ends[1]] if ends else body]
    at = len(MAGIC) + _KEY + _SUM + len(body)
    table = []
    for buffer in buffers:
        pad = -at % _ALIGN
        parts += [bytes(pad), buffer]
        table.append((at + pad, buffer.nbytes))
        at += pad + buffer.nbytes
    if table:
        parts.append(b"".join(offset.to_bytes(8, "big") + size.to_bytes(8, "big")
                              for offset, size in table)
                     + len(table).to_bytes(4, "big") + _TAIL)
    if ends:
        parts.append(records.trailer(ends, kept))
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    return [MAGIC + key + crc.to_bytes(_SUM, "big"), parts[0], *kept, *parts[1:]]


def checksum_of(rest: bytes) -> int:
    """The file checksum of what follows a snapshot file's header (``rest``): what the
    header holds (for tools and tests that write a body of their own); with a bad records
    table, that of all of it (the loader refuses the table anyway)."""
    try:
        table = records.read(rest, 0)
    except ValueError:
        table = None
    if table is None:
        return zlib.crc32(rest)
    return zlib.crc32(rest[table.ends[-1]:], zlib.crc32(rest[:table.ends[1]]))


def body_of(data: bytes) -> Any:
    """The decoded body of a snapshot file's bytes ``data``, its buffers as copies (key
    and checksum not checked: for tools and tests); ``codec.Refused`` if it has none."""
    start = len(MAGIC) + _KEY + _SUM
    try:
        found = records.read(data, start)
        size = len(data) if found is None else found.size
        table = _table(size, data[size - (len(_TAIL) + 4):size])
        if table is None:
            raise ValueError("a bad buffer table")
        buffers = [data[offset:offset + size] for offset, size in _entries(data, table)]
    except ValueError as exc:
        raise codec.Refused(f"not a source snapshot: {exc}") from exc
    if found is None:
        return codec.decode(data, start, buffers)
    with memoryview(data) as view:
        filled = filling.decode(view, start, buffers, found.ends, found.crcs, found.whole)
        try:
            filled.fill_all()
        finally:
            filled.close()
    return filled.value


def _sweep(path: Path) -> None:
    """Remove the temporary files of saves killed mid-write (a killed serve's child), once
    no live save can still be writing them (``STALE_TMP`` seconds untouched)."""
    now = time.time()
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if now - tmp.stat().st_mtime > STALE_TMP:
                tmp.unlink()
        except OSError:
            continue


def _load(path: Path, key: bytes, leave: list[object] | None = None
          ) -> tuple[LocalSource, Any, lazy.Lazy | None] | None:
    """The snapshot's source and extra, decoded from a map of the file (not a copy of it:
    see ``codec.decode``, also for ``leave``), and its records' filling when they are
    left to fill (``lazy.ENABLED``); None when it is not one for ``key`` or its
    checksum fails. Snapshots are replaced by renaming, never rewritten in place, so the
    mapped file stays whole while it is read."""
    try:
        with open(path, "rb") as file:
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
            table = records.read(mapped, len(MAGIC) + _KEY + _SUM)
            buffers = _mapped_buffers(file.fileno(), mapped,
                                      len(mapped) if table is None else table.size)
    except (OSError, ValueError):  # missing, unreadable, empty, a bad buffer/records table
        return None
    decoded = _decoded(memoryview(mapped), key, buffers, table, leave, path)
    del buffers  # those decoded are held by their ``Cached``
    with contextlib.suppress(BufferError):  # else unmapped once the last view of it goes
        mapped.close()
    if decoded is None:
        return None
    found, pending = decoded
    try:
        if type(found) is not tuple or len(found) != 3 or found[0] != _ROOT:
            raise ValueError("not a source snapshot's body")
        return LocalSource.from_state(found[1]), found[2], pending
    except (TypeError, ValueError):
        if pending is not None:
            pending.close()
        return None


def _mapped_buffers(fileno: int, mapped: mmap.mmap, size: int) -> list[Mapped]:
    """Each out-of-band buffer of the file mapped on its own (``ValueError`` when the
    table, which ends at ``size``, does not fit the file; what they hold is checked by
    the checksum)."""
    table = _table(size, mapped[size - (len(_TAIL) + 4):size])
    if table is None:
        raise ValueError("a bad buffer table")
    return [Mapped(fileno, size, access=mmap.ACCESS_READ, offset=offset)
            for offset, size in _entries(mapped, table)]


def _table(size: int, tail: bytes) -> tuple[int, int] | None:
    """Where the buffers' table starts and their count, from the file's last bytes;
    (size, 0) for a file without buffers; None when they cannot be."""
    if not tail.endswith(_TAIL):
        return size, 0
    count = int.from_bytes(tail[:4], "big")
    at = size - len(tail) - 16 * count
    return (at, count) if at >= len(MAGIC) + _KEY + _SUM else None


def _entries(data: bytes | mmap.mmap, table: tuple[int, int]) -> list[tuple[int, int]]:
    """The (offset, length) of each buffer; ``ValueError`` for one outside the body's
    end and the table, empty, or at an offset no map can start at."""
    at, count = table
    entries = []
    for index in range(count):
        row = data[at + 16 * index:at + 16 * index + 16]
        offset, size = int.from_bytes(row[:8], "big"), int.from_bytes(row[8:], "big")
        if offset % _ALIGN or size <= 0 or offset + size > at \
                or offset < len(MAGIC) + _KEY + _SUM:
            raise ValueError("a bad buffer table")
        entries.append((offset, size))
    return entries


def _decoded(data: memoryview, key: bytes, buffers: list[Mapped],
             table: records.Records | None, leave: list[object] | None,
             path: Path) -> tuple[Any, lazy.Lazy | None] | None:
    """The body of a snapshot file's bytes, if their magic, key and checksums (the
    file's; the records' when they are all filled now, else each at its fill: ``lazy``)
    match, and its records' filling when left to fill. They are
    taken on another thread while this one decodes (``zlib.crc32`` lets go of the GIL:
    ~60 ms of a 144 MB file at 10,000 posts off the decode's core); what was decoded is
    used only once they matched."""
    with data:
        head = len(MAGIC)
        start = head + _KEY + _SUM
        if data[:head] != MAGIC or data[head:head + _KEY] != key:
            return None
        with gc_paused():
            if table is None:
                checksum = _Checksum([data[start:]], [])
            elif lazy.ENABLED:  # each record's CRC-32 checked at its fill (``lazy``)
                checksum = _Checksum([data[start:start + table.ends[1]],
                                      data[start + table.ends[-1]:]], [])
            else:  # the records as one (see ``records``)
                checksum = _Checksum([data[start:start + table.ends[1]],
                                      data[start + table.ends[-1]:]],
                                     [data[start + table.ends[1]:start + table.ends[-1]]])
            try:
                found, pool, pending = _body(data, start, buffers, table, leave,
                                             checksum.each, path)
            except codec.Refused:
                return None
            finally:
                crc, crcs = checksum.result()
        if crc is None or crc.to_bytes(_SUM, "big") != data[head + _KEY:start] \
                or (table is not None and pending is None and crcs != [table.whole]):
            if pending is not None:
                pending.close()
            return None
        share.adopt(pool)
        return found, pending


def _body(data: memoryview, start: int, buffers: list[Mapped],
          table: records.Records | None, leave: list[object] | None,
          crcs: Callable[[], list[int]], path: Path) -> tuple[Any, Any, lazy.Lazy | None]:
    """The decoded body, every record filled (or, ``lazy.ENABLED``, left to fill: its
    filling third), and the documents' shared strings it was written with. The records
    are decoded only once their CRC-32 (``crcs()``, taken on the checksum's thread while
    the value decodes) matched: a damaged one might name a memo index in the billions,
    which the decoder would make room for."""
    if table is None:
        return codec.decode(data, start, buffers, leave), [], None
    filled = filling.decode(data, start, buffers, table.ends, table.crcs, table.whole)
    try:
        if lazy.ENABLED:
            return filled.value, filled.pool, lazy.Lazy(filled, path, leave)
        if crcs() != [table.whole]:
            raise codec.Refused("not a source snapshot: a record damaged")
        filled.fill_all(checked=True)
    except codec.Refused:
        filled.close()
        raise
    decoder = filled.close()
    if leave is not None:
        leave.append(decoder)  # its memo: see ``codec.decode``
    return filled.value, filled.pool, None


__all__ = ["FILE", "RESAVE", "body_of", "checksum_of", "due", "framed", "keep", "resume", "save",
           "snapshot_key", "wanted"]
