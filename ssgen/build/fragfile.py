"""``.ssgen/fragments.cache``: the value-keyed include outputs a new process reuses.

Owns the file, its key and when it is trusted. The key covers everything an include's
output depends on besides the values it reads (``ssgen.render.fragments.store``): every
template's text, all of ssgen's code and Jinja2's and MarkupSafe's versions (one digest,
hashed again only when a file's stamp changed: ``ssgen.sources.codestamp``), Python's
version, and the configuration's hash. A full build never reads it (it renders every
fragment afresh) but writes what it rendered, so the next new process starts warm.
Entries not used by the last ``KEEP`` saves are dropped, so old versions of cards do not
pile up. A full build takes the key only when it has something to save (hashing ssgen's
code and reading the package versions cost ~20 ms of every start otherwise). The
key holds the template texts the renderer answers for, which are those it compiled (a
shared renderer's: as read when the build began, whatever was saved since).

The file is read and written in proportion to what a build renders, not to the site
(13,800 cards, 31 MB at 10,000 starter posts): after ``MAGIC`` and the key come the
records (one entry's output and image tags each, marshalled), then an index (per entry:
its value key, the record's place, length and CRC-32, and the save generation it was
last used in), then a trailer naming the index, checksummed with the key (SHA-256). A
new process maps the file, checks the trailer and reads the index (~0.5 MB), and decodes
a record only when a render asks for its key, after checking the record's CRC-32 (a
damaged record is a miss, never an output). A save appends what was rendered since, a
new index and a new trailer to the end of the very file it loaded (same inode and
size), so the last trailer always names a whole index: a reader that maps the file
meanwhile finds the older trailer, or a torn one, which it refuses (as a crash mid-write
leaves it), and records the index names are never written again. A file another
process replaced, one of another key, or one more than half garbage (records no index
names any more) is written anew, whole, and replaced atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import mmap
import os
import struct
import sys
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from ssgen.build import analysisfile, templatecode
from ssgen.config.load import Config
from ssgen.errors import SsgenError
from ssgen.memos import site_memo
from ssgen.render.environment import Renderer
from ssgen.render.fragments import store as fragment_store
from ssgen.render.fragments.store import Entry, PersistedFragments
from ssgen.sources.atomic import write_atomic
from ssgen.sources.codestamp import ssgen_digest

MAGIC = b"ssgen-fragments-3\n"
FILE = "fragments.cache"
KEEP = 64
_KEY = 16  # the store key's size (blake2b)
_VALUE_KEY = 20  # a value key's size (``fragment_store.value_key``)
_ROW = struct.Struct(f"<{_VALUE_KEY}sQIII")  # value key, offset, length, CRC-32, generation
_TAIL = struct.Struct("<QQII")  # index offset, index length, save generation, rows
_TAIL_SIZE = _TAIL.size + 32  # and the SHA-256 of the key, the tail and the index
_SLACK = 1 << 20  # garbage tolerated before a save rewrites the file, beside the live bytes
# State folder -> (renderer, configuration hash, template texts, store key): ``key_ahead``.
_AHEAD: dict[str, tuple[Renderer, str, list[tuple[str, str | None]], bytes]] = site_memo()

_Row = tuple[bytes, int, int, int, int]


@contextmanager
def persisted_fragments(config: Config, renderer: Renderer, *, full: bool) -> Iterator[None]:
    """Within the block, includes consult and fill the site's persisted fragments, and
    the renderer knows what earlier processes worked out of the templates
    (``ssgen.build.analysisfile``) and takes the templates they compiled
    (``ssgen.build.templatecode``), under the same key; on a normal exit what was
    rendered or used, what the renderer learned and what it compiled is saved."""
    path, analysis_path = config.state_dir / FILE, config.state_dir / analysisfile.FILE
    code_path = config.state_dir / templatecode.FILE
    texts = None if not full else _template_texts(renderer)
    key = None if full else store_key(config, renderer)
    loaded, generation = (None, 0) if key is None else load(path, key)
    known = None if key is None else analysisfile.load(analysis_path, key)
    if known is not None:
        renderer.adopt(known)
    code = templatecode.PersistedCode(
        (None if key is None else templatecode.load(code_path, key)) or {})
    renderer.env.bytecode_cache = code
    store = PersistedFragments(loaded if loaded is not None else {}, generation + 1,
                               read=not full)
    fragment_store.activate(store)
    try:
        yield
    finally:
        fragment_store.activate(None)
        renderer.env.bytecode_cache = None
    analysis = renderer.analysis()
    learned = analysis != known if known is not None else any(analysis.values())
    if not store.added and not learned and not code.added:
        return
    if key is None:
        # Taken now: only valid for the entries if the templates are those they came
        # from (always so for a shared renderer, which answers for the texts it read).
        key = _key_taken(config, renderer, texts) or store_key(config, renderer)
        if _template_texts(renderer) != texts:
            return
    if learned:
        analysisfile.save(analysis_path, key, analysis)
    if code.added:
        templatecode.save(code_path, key, code.entries)
    if store.added:
        save(path, key, store, loaded)


def _template_texts(renderer: Renderer) -> list[tuple[str, str | None]]:
    # The texts the renderer answers for, which are those it compiles (for the shared
    # renderer: as read when the build began, whatever was saved since).
    return [(name, renderer.template_source(name)) for name in renderer.list_templates()]


def store_key(config: Config, renderer: Renderer) -> bytes:
    """What every entry depends on besides the values its template reads. ssgen's code
    and the package versions through ``ssgen.sources.codestamp``: hashed only when a
    file's stamp changed since the last process hashed them (~270 files: ~50 ms)."""
    return key_of(config, code_key(config), _template_texts(renderer))


def key_ahead(config: Config, renderer: Renderer) -> None:
    """The store key a full build's ``persisted_fragments`` takes as it ends, taken now
    (while the build's pages render beside: ``ssgen.build.pipeline.pages``)."""
    texts = _template_texts(renderer)
    _AHEAD[str(config.state_dir)] = (renderer, config.hash, texts,
                                     key_of(config, code_key(config), texts))


def _key_taken(config: Config, renderer: Renderer,
               texts: list[tuple[str, str | None]] | None) -> bytes | None:
    """``key_ahead``'s key, when it was taken of this renderer, configuration and
    template texts."""
    taken = _AHEAD.pop(str(config.state_dir), None)
    if taken is None or taken[0] is not renderer or taken[1] != config.hash \
            or taken[2] != texts:
        return None
    return taken[3]


def code_key(config: Config) -> bytes:
    """The digest of ssgen's code and of the Jinja2 and MarkupSafe versions."""
    return ssgen_digest(config.state_dir)


def key_of(config: Config, code: bytes, texts: Iterable[tuple[str, str | None]]) -> bytes:
    """The store key of ``config``, the code digest ``code`` and every template's name
    and text (``texts``, sorted by name)."""
    digest = hashlib.blake2b(digest_size=_KEY)
    for part in (sys.version, config.hash):
        digest.update(part.encode() + b"\0")
    digest.update(code)
    for name, text in texts:
        digest.update(name.encode() + b"\0" + (text or "").encode() + b"\0")
    return digest.digest()


class Readable(Protocol):
    """A file's bytes by slice: a map of it, or reads at offsets (``memo.fragments``)."""

    def __len__(self) -> int: ...

    def __getitem__(self, where: slice, /) -> bytes: ...


class FragmentFile:
    """A loaded cache file's entries: its index read, each record decoded when asked
    for (``get``); ``update`` adds entries in memory (a render worker's own)."""

    def __init__(self, data: Readable, index: bytes, stamp: tuple[int, int]) -> None:
        self._data, self._index, self.stamp = data, index, stamp
        self._where = {index[at:at + _VALUE_KEY]: at for at in range(0, len(index), _ROW.size)}
        self._more: dict[bytes, Entry] = {}

    def __len__(self) -> int:
        return len(self._where.keys() | self._more.keys())

    def get(self, key: bytes) -> Entry | None:
        """The entry for ``key``; None when there is none or its record is damaged."""
        found = self._more.get(key)
        if found is not None:
            return found
        at = self._where.get(key)
        if at is None:
            return None
        _, offset, length, crc, generation = _ROW.unpack_from(self._index, at)
        record = self._data[offset:offset + length]
        if not _intact(record, crc):
            return None
        try:
            value = marshal.loads(record)
        except (EOFError, ValueError, TypeError):
            return None
        if type(value) is not tuple or len(value) != 2 or type(value[0]) is not str \
                or type(value[1]) is not tuple or not all(type(tag) is str for tag in value[1]):
            return None
        return value[0], value[1], generation

    def update(self, more: Mapping[bytes, Entry]) -> None:
        self._more.update(more)

    def rows(self) -> Iterator[_Row]:
        """The index's rows: (value key, offset, length, CRC-32, generation)."""
        return _ROW.iter_unpack(self._index)

    def record(self, offset: int, length: int) -> bytes:
        """A record's bytes as the file holds them."""
        return self._data[offset:offset + length]

    @property
    def size(self) -> int:
        return self.stamp[1]


def _intact(record: bytes, crc: int) -> bool:
    return zlib.crc32(record) == crc


def load(path: Path, key: bytes) -> tuple[FragmentFile | None, int]:
    """The entries and save generation of the file at ``path`` if its key is ``key`` and
    its trailer and index are whole; nothing when it is missing, another key's, damaged
    or unreadable. Only the index is read here (see the module docstring)."""
    try:
        with open(path, "rb") as file:
            info = os.fstat(file.fileno())
            data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # missing, unreadable, empty
        return None, 0
    loaded, generation = entries(data, key, info.st_ino)
    if loaded is None:
        data.close()
    return loaded, generation


def entries(data: Readable, key: bytes, inode: int) -> tuple[FragmentFile | None, int]:
    """The entries and save generation of a file's bytes ``data`` (its inode ``inode``)
    if its key is ``key`` and its trailer and index are whole, else (None, 0)."""
    found = _index(data, key)
    if found is None:
        return None, 0
    index, generation = found
    return FragmentFile(data, index, (inode, len(data))), generation


def _index(data: Readable, key: bytes) -> tuple[bytes, int] | None:
    """The index the file's trailer names, and the generation of the save that wrote it."""
    head, size = len(MAGIC), len(data)
    if size < head + _KEY + _TAIL_SIZE or data[:head] != MAGIC \
            or data[head:head + _KEY] != key:
        return None
    tail = data[size - _TAIL_SIZE:]
    at, length, generation, rows = _TAIL.unpack_from(tail)
    if length != rows * _ROW.size or at < head + _KEY or at + length != size - _TAIL_SIZE:
        return None
    index = data[at:at + length]
    if _digest(key, tail[:_TAIL.size], index) != tail[_TAIL.size:]:
        return None
    return index, generation


def _digest(key: bytes, tail: bytes, index: bytes) -> bytes:
    return hashlib.sha256(key + tail + index).digest()


def save(path: Path, key: bytes, store: PersistedFragments,
         loaded: FragmentFile | None) -> None:
    """Write what the next process may reuse: this run's entries and the loaded ones
    used in the last ``KEEP`` saves, appended to the file ``loaded`` came from when it is
    still that file and not mostly garbage, else written anew. A failed write leaves no
    file to trust (it is only a cache: the build goes on)."""
    now = store.generation
    kept = [] if loaded is None else _kept(loaded, store, now)
    fresh = [(value_key, marshal.dumps((text, images)))
             for value_key, (text, images, _) in store.added.items()
             if len(value_key) == _VALUE_KEY]
    live = sum(row[2] for row in kept) + sum(len(record) for _, record in fresh)
    if loaded is not None and loaded.size <= 2 * live + _SLACK \
            and _append(path, key, loaded, kept, fresh, now):
        return
    blob = _whole(key, loaded, kept, fresh, now)
    try:
        write_atomic(path, blob, "fragment cache", durable=False)
    except SsgenError:
        path.unlink(missing_ok=True)


def _kept(loaded: FragmentFile, store: PersistedFragments, now: int) -> list[_Row]:
    """The loaded rows the next file keeps: those used now (dated now) or in the last
    ``KEEP`` saves, less those rendered again."""
    used, added = store.used, store.added
    return [(value_key, offset, length, crc, now if value_key in used else generation)
            for value_key, offset, length, crc, generation in loaded.rows()
            if value_key not in added and (generation > now - KEEP or value_key in used)]


def _records(start: int, fresh: list[tuple[bytes, bytes]], now: int) -> list[_Row]:
    rows, at = [], start
    for value_key, record in fresh:
        rows.append((value_key, at, len(record), zlib.crc32(record), now))
        at += len(record)
    return rows


def _ending(key: bytes, at: int, rows: list[_Row], now: int) -> bytes:
    """The index of ``rows`` (it starts at offset ``at``) and the trailer naming it."""
    index = b"".join(_ROW.pack(*row) for row in rows)
    tail = _TAIL.pack(at, len(index), now, len(rows))
    return index + tail + _digest(key, tail, index)


def _append(path: Path, key: bytes, loaded: FragmentFile, kept: list[_Row],
            fresh: list[tuple[bytes, bytes]], now: int) -> bool:
    """Append ``fresh`` and an index of every row to the file ``loaded`` is a map of;
    False, writing nothing, when the file there is no longer that one."""
    try:
        with open(path, "r+b") as file:
            info = os.fstat(file.fileno())
            if (info.st_ino, info.st_size) != loaded.stamp:
                return False
            rows = kept + _records(info.st_size, fresh, now)
            records = b"".join(record for _, record in fresh)
            file.seek(info.st_size)
            file.write(records + _ending(key, info.st_size + len(records), rows, now))
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()  # its end may be torn: refused anyway, but leave none
    return True


def _whole(key: bytes, loaded: FragmentFile | None, kept: list[_Row],
           fresh: list[tuple[bytes, bytes]], now: int) -> bytes:
    """A new file of the kept records (copied as they are) and the fresh ones."""
    start = len(MAGIC) + _KEY
    parts, rows, at = [], [], start
    for value_key, offset, length, crc, generation in kept:
        assert loaded is not None  # rows are kept from it
        parts.append(loaded.record(offset, length))
        rows.append((value_key, at, length, crc, generation))
        at += length
    rows += _records(at, fresh, now)
    body = b"".join(parts + [record for _, record in fresh])
    return MAGIC + key + body + _ending(key, start + len(body), rows, now)
