"""Input files' parses kept in ``.ssgen/`` across processes: a new process re-reads and
re-parses only the files whose stat changed since the last one read them.

Owns the on-disk format (a folder of ``SHARDS`` checksummed, versioned ``marshal`` files, each
replaced atomically, so a one-file edit rewrites 1/64 of the cache), when a stat match may be
trusted, and the fallback (the bytes of a shard file and of the mark are ``shard``'s).
Each shard file holds its entries' index (stamps, digests, hashes, faults; checked on
load) and then the packed documents, read and checked only when a document of the shard
is asked for: a new process after a one-file edit reads the ~3 MB index of 16k files, not
the ~22 MB with their documents. An entry is the file's stat stamp
(mtime, ctime, size, inode), the digest of its bytes, what it parsed to and each parsed
document's ``content_hash`` (so a new process does not serialise 16k documents again to
diff them against the manifest). A stamp match
is trusted only if the file had not changed for ``RACY_NS`` when it was read (the racy-git
rule: a same-size edit in the same timestamp tick would keep the stamp); otherwise the file
is read again and its digest compared. ctime is in the stamp because no tool can set it:
an edit that restores the old mtime and size still shows. Any doubt about a shard
(missing, truncated, corrupt, written by another ssgen, Python or configuration) drops its
entries: those files are read and parsed as if there were no cache, never a stale document.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
import threading
import time
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import orjson

from ssgen.errors import SourceError
from ssgen.sources import content_hash
from ssgen.sources.atomic import write_atomic
from ssgen.sources.filecache.columns import Columns
from ssgen.sources.filecache.shard import (
    MAGIC,
    MARK_MAGIC,
    SHARDS,
    Blob,
    Entry,
    Stamp,
    Unavailable,
)
from ssgen.sources.filecache.shard import checksum as _checksum
from ssgen.sources.filecache.shard import decode as _decode
from ssgen.sources.filecache.shard import encode as _encode
from ssgen.sources.filecache.shard import read_mark as _read_mark
from ssgen.sources.filecache.shard import shard as _shard

MARK_FILE = ".mark"  # hidden: not one of the shards
RACY_NS = 1_000_000_000
# Entries to rewrite from which ``save(background=True)`` forks: a cold build's 16,000
# files take ~0.1 s CPU to marshal, hash and write, which the build's other core can do
# while this one queries and plans; a few shards of an edit cost less than the fork.
# From 2,048: a 4,000-file cold build saved its ~30 ms in the build process, while the
# other core idled from the parse's end to the render's fork. From 256 (as many as
# ``parse_ahead`` forks for): a 1,000-file cold build's save (64 shard files created
# and renamed) was 3-15% of its build process's CPU before the render (two timelines at
# load 12), on the critical path, with the other core idle; the fork cost 11 ms there.
BACKGROUND = 256
_SAVING: list[int] = []  # the processes saving a cache in the background
# The modules whose code decides what a file parses to: an edit of any of them (a new
# ssgen, or a checkout between builds) invalidates every entry.
_PARSERS = ("filecache/__init__.py", "filecache/shard.py", "markdown_docs.py",
            "frontmatter/__init__.py", "frontmatter/simple.py")


def file_stamp(path: str) -> Stamp | None:
    """The file's stamp, None when it cannot be stat'ed."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


def digest(data: bytes | bytearray | memoryview) -> bytes:
    """The digest of a file's bytes (the one input fingerprints combine): SHA-256 cut to
    128 bits, which this CPU's SHA extensions hash 2.5x faster than blake2b (70 MB of
    NDJSON at 10,000 posts: 40 against 100 ms of every new process)."""
    return hashlib.sha256(data).digest()[:16]


def cache_key(*parts: str) -> str:
    """What the entries depend on besides each file: the parsers' code, Python, and the
    caller's ``parts`` (its configuration)."""
    digest = hashlib.blake2b(digest_size=16)
    here = Path(__file__).parent.parent  # ssgen/sources
    for name in _PARSERS:
        try:
            digest.update((here / name).read_bytes())
        except OSError:  # a frozen install: no source to hash, so never trust the cache
            digest.update(os.urandom(16))
    digest.update(sys.version.encode() + sys.byteorder.encode())  # the columns' arrays
    digest.update(orjson.__version__.encode())  # content_hash serialises with it
    for part in parts:
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()


class FileCache:
    """Entries by file path, loaded from and saved to one folder under ``.ssgen/``.

    Loaded entries stay in their columns (``Columns``) until asked for; those ``put``
    since loading, and the names dropped, are kept beside them."""

    def __init__(self, path: Path | None, key: str,
                 entries: dict[str, Entry] | None = None) -> None:
        """``path``: the cache's folder; None: kept in memory only (never saved)."""
        self.path, self.key = path, key
        self._columns = Columns()
        self._columns.done()
        self._own: dict[str, Entry] = dict(entries) if entries is not None else {}
        self._gone: set[str] = set()  # loaded names dropped since (``keep_only``)
        self.dirty: set[int] = set()  # the shards to rewrite
        self.hits = 0
        # The mark the entries were saved with, when the loaded ones are exactly those
        # (the same shard files); "" when unknown. See ``save``.
        self.mark = ""
        self._saved_mark = ""
        self.replaced: set[str] = set()  # the names ``put`` gave a new entry since loading
        # Each shard file's checksum as loaded or last written here (None: none usable).
        self.checks: list[bytes | None] = [None] * SHARDS

    @classmethod
    def load(cls, path: Path, key: str) -> FileCache:
        """The cache saved in the folder ``path`` for ``key``; without the entries of any
        shard in doubt."""
        cache = cls(path, key)
        columns = Columns()
        for shard in range(SHARDS):
            part, blob, check = _decode(path / f"{shard:02x}", key, shard)
            cache.checks[shard] = check
            if part is not None and blob is not None:
                columns.add(shard, part, blob)
        columns.done()
        cache._columns = columns
        cache.mark = cache._saved_mark = _read_mark(path / MARK_FILE, key, cache.checks)
        return cache

    def empty(self) -> bool:
        """Whether no name has an entry (a cold build's cache), without listing them."""
        return not self._own and len(self._columns.index) <= len(self._gone)

    @property
    def entries(self) -> dict[str, Entry]:
        """Every entry by name (a new dict: changes go through ``put`` and ``keep_only``)."""
        columns, gone = self._columns, self._gone
        found = {name: columns.entry(at) for name, at in columns.index.items()
                 if name not in gone}
        found.update(self._own)
        return found

    def names(self) -> AbstractSet[str]:
        """The names that have an entry (a view of the loaded ones while none was put or
        dropped: no set of 16k names made)."""
        loaded = self._columns.index.keys()
        if not self._gone and not self._own:
            return loaded
        return (loaded - self._gone) | self._own.keys()

    def entry(self, name: str) -> Entry | None:
        """The entry of ``name`` (None: none)."""
        entry = self._own.get(name)
        if entry is not None or name in self._gone:
            return entry
        at = self._columns.index.get(name)
        return None if at is None else self._columns.entry(at)

    def hit(self, name: str, stamp: Stamp | None) -> Entry | None:
        """The entry of ``name`` when its stamp is ``stamp`` and may be trusted unread."""
        entry = self.entry(name)
        if entry is None or stamp is None or entry.stamp != stamp or not entry.trusted:
            return None
        self.hits += 1
        return entry

    def trusted(self, names: list[str], stamps: list[Stamp], *,
                count: bool = True) -> list[bytes | None]:
        """For each name with its stamp, the digest of its entry when ``hit`` would give it
        (None otherwise), in one pass over the columns; ``count``: as hits."""
        columns = self._columns
        get, kept, trusted, digests = (columns.index.get, columns.stamps(), columns.trusted,
                                       columns.digests)
        found = [digests[at] if (at := get(name)) is not None and kept[at] == stamp
                 and trusted[at] else None for name, stamp in zip(names, stamps, strict=True)]
        since = self._own.keys() | self._gone  # put or dropped since loading
        if since:
            for at, name in enumerate(names):
                if name in since:
                    entry = self.entry(name)
                    found[at] = entry.digest if entry is not None and entry.trusted \
                        and entry.stamp == stamps[at] else None
        if count:
            self.hits += len(found) - found.count(None)
        return found

    def faults(self, names: list[str]) -> list[tuple[str, str]]:
        """The faults of the entries of ``names``, in that order (none without an entry)."""
        columns = self._columns
        faulty = {name: entry.faults for name, entry in self._own.items() if entry.faults}
        faulty.update((name, columns.faults[at]) for at in columns.faults
                      if (name := columns.names[at]) not in self._own and name not in self._gone)
        if not faulty:
            return []
        return [fault for name in names if name in faulty for fault in faulty[name]]

    def same(self, name: str, digest: bytes) -> Entry | None:
        """The entry of ``name`` when the bytes just read have its ``digest`` (a racy or
        touched file whose content is unchanged: its parse is reused)."""
        entry = self.entry(name)
        return entry if entry is not None and entry.digest == digest else None

    def put(self, name: str, stamp: Stamp, digest: bytes, read_at_ns: int,
            documents: list[dict[str, Any]], faults: list[tuple[str, str]],
            hashes: list[str] | None = None) -> None:
        """Record a file read at ``read_at_ns`` (``time.time_ns()`` before its stat);
        ``hashes``: the documents' ``content_hash``es when already known."""
        trusted = max(stamp[0], stamp[3]) < read_at_ns - RACY_NS
        if hashes is None or len(hashes) != len(documents):
            hashes = [content_hash(doc) for doc in documents]
        entry = Entry(stamp, digest, trusted, documents, faults, hashes)
        old = self.entry(name)
        # The same bytes parse to the same documents (the key covers the parsers): a
        # loaded entry's packed documents need not be compared.
        if old is None or old[:3] != entry[:3] or old.faults != faults or old.hashes != hashes \
                or not old.available:
            self._own[name] = entry
            self._gone.discard(name)
            self.dirty.add(_shard(name))
            self.replaced.add(name)

    def keep_only(self, names: AbstractSet[str]) -> None:
        """Forget the files that are no longer inputs."""
        for name in self._columns.index.keys() - names - self._gone:
            self._own.pop(name, None)
            self._gone.add(name)
            self.dirty.add(_shard(name))
        for name in self._own.keys() - names:
            del self._own[name]
            self.dirty.add(_shard(name))

    def save(self, *, background: bool = False, mark: str = "",
             least: int | None = None) -> None:
        """Rewrite the shards whose entries changed (each atomically; a failure only
        loses cache entries), then the ``mark``: a caller's name for this set of entries
        (``ssgen.sources.lazy``: the source state a build records in the manifest), kept
        with the checksum of every shard file, so a later ``load`` gives it back only
        while the shard files are all those it was saved with (no extra cost: each
        file's checksum is checked on load anyway). The old mark goes first: a save
        that fails or is killed halfway leaves none. ``background``: a large rewrite (a
        cold build's) is done by a forked process while this one goes on (``settle``
        waits for it). ``least``: the entries to rewrite from which it forks, instead of
        ``BACKGROUND``, and only with no other thread (a fork copies the locks they hold)."""
        if self.path is None or (not self.dirty and mark == self._saved_mark):
            return
        self._saved_mark = mark
        size = len(self._columns.names) + len(self._own)
        fork_from = BACKGROUND if least is None else least
        if background and size * len(self.dirty) >= fork_from * SHARDS \
                and (least is None or threading.active_count() == 1):
            try:
                pid = os.fork()
            except OSError:
                pid = -1  # no process to spare: written here
            if pid == 0:  # the child: writes, then exits without running the caller's code
                try:
                    self._write(mark)
                finally:
                    os._exit(0)
            if pid > 0:
                _SAVING.append(pid)
                self.dirty.clear()
                return
        self._write(mark)

    def _shard_entries(self, shards: set[int]) -> dict[int, dict[str, Entry]]:
        """The entries of each of ``shards``, by name."""
        found: dict[int, dict[str, Entry]] = {shard: {} for shard in shards}
        columns, own, gone = self._columns, self._own, self._gone
        for shard in shards:
            for at in columns.of_shard(shard):
                name = columns.names[at]
                if name not in gone and name not in own:
                    found[shard][name] = columns.entry(at)
        for name, entry in own.items():
            shard = _shard(name)
            if shard in found:
                found[shard][name] = entry
        return found

    def _write(self, mark: str) -> None:
        if self.path is None:
            return
        with contextlib.suppress(OSError):  # a file in the folder's place: dealt with below
            (self.path / MARK_FILE).unlink(missing_ok=True)
        shards = self._shard_entries(self.dirty)
        try:
            if self.path.is_file() or self.path.is_symlink():  # damage: make it a folder again
                self.path.unlink()
        except OSError:
            return
        for shard, entries in shards.items():
            data, check = _encode(self.key, shard, entries)
            try:
                # No fsync: a torn file after a power loss fails its checksum, which only
                # costs parsing those files again.
                write_atomic(self.path / f"{shard:02x}", data, "file cache", durable=False)
            except (SourceError, OSError):
                return  # a read-only .ssgen/: the next process parses again
            self.checks[shard] = check
        self.dirty.clear()
        if mark:
            body = marshal.dumps((self.key, mark, tuple(self.checks)))
            check = _checksum(body)
            try:
                write_atomic(self.path / MARK_FILE, MARK_MAGIC + check + body, "file cache mark",
                             durable=False)
            except (SourceError, OSError):
                return


def settle() -> None:
    """Wait for the caches being saved in the background (``FileCache.save``)."""
    while _SAVING:
        try:
            os.waitpid(_SAVING.pop(), 0)
        except ChildProcessError:
            continue  # reaped by someone else already


def now_ns() -> int:
    """The clock ``put`` compares stamps with."""
    return time.time_ns()


__all__ = ["MAGIC", "MARK_FILE", "MARK_MAGIC", "SHARDS", "Blob", "Entry", "FileCache", "Stamp",
           "Unavailable", "cache_key", "digest", "file_stamp", "now_ns", "settle"]
