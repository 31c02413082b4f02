"""The files that make up a local site's dataset, and reading them for a fingerprint.

Owns (``files``: which files are inputs, dataset files then Markdown, a mirrored Sanity
site's snapshot) their stat stamps, and ``read_inputs``: the bytes of every input hashed into one
fingerprint, without parsing, so a build can tell that nothing changed. Markdown files whose
stamp the ``FileCache`` trusts are neither read nor hashed again (their digest is cached).
The hashing waits until the fingerprint (or a file's digest) is first asked for: a
``revalidate``, which neither compares nor keeps one, hashes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ssgen.errors import SourceError
from ssgen.sources.filecache import FileCache, Stamp, now_ns
from ssgen.sources.filecache import digest as digest  # the one digest of a file's bytes
from ssgen.sources.inputs.files import DATASET_SUFFIXES as DATASET_SUFFIXES
from ssgen.sources.inputs.files import LISTING as LISTING
from ssgen.sources.inputs.files import Input as Input
from ssgen.sources.inputs.files import Layout as Layout
from ssgen.sources.inputs.files import cache_of as cache_of
from ssgen.sources.inputs.files import inputs_of as inputs_of
from ssgen.sources.inputs.files import layout as layout
from ssgen.sources.inputs.files import markdown_cache as markdown_cache
from ssgen.sources.inputs.files import site_inputs as site_inputs
from ssgen.sources.inputs.files import snapshot_path as snapshot_path
from ssgen.sources.inputs.files import unread_files as unread_files
from ssgen.sources.ndjson import gc_paused
from ssgen.sources.parallel import Later, later, map_halves, map_split, map_threaded
from ssgen.sources.settle import read_settled, settled

if TYPE_CHECKING:
    from ssgen.config.load import Config

_Stamp = Stamp
# A Markdown file's stamp left to the parsing child that reads it (``start_listing``'s
# ``children``): it takes it from the open file (``read_stamped``), with no stat by path
# in this process first; whoever reads such a file without a stamp takes one the same way.
UNSTAMPED: _Stamp = (-1, -1, -1, -1)


class ReadFile:
    """One input file as ``read_inputs`` read it; its digest is taken when first asked
    for: ``ssgen revalidate`` never asks for the dataset file's (the SHA-256 of 70 MB at
    10,000 starter posts, ~40 ms), a build comparing fingerprints does, and takes it
    ahead (``hash_ahead``) on a thread while it imports."""

    __slots__ = ("_digest", "_hashing", "data", "stamp")

    def __init__(self, stamp: _Stamp, data: bytes, file_digest: bytes | None = None) -> None:
        self.stamp, self.data, self._digest = stamp, data, file_digest
        self._hashing: threading.Thread | None = None

    @property
    def digest(self) -> bytes:
        """The digest of ``data`` (``filecache.digest``)."""
        self._wait()
        if self._digest is None:
            self._digest = digest(self.data)
        return self._digest

    @property
    def taken(self) -> bytes | None:
        """The digest if it was taken already, or is being taken ahead (None: not yet,
        nothing hashed for it)."""
        self._wait()
        return self._digest

    def hash_ahead(self) -> None:
        """Start taking the digest on a thread, when ``data`` is large enough for it to
        pay (hashlib lets go of the GIL: another core hashes); ``digest`` waits for it."""
        if self._digest is None and self._hashing is None and type(self.data) is bytes \
                and len(self.data) >= HASH_AHEAD_MIN:
            self._hashing = threading.Thread(target=self._hash, name="ssgen-hash-ahead",
                                             daemon=True)
            self._hashing.start()

    def _hash(self) -> None:
        with contextlib.suppress(Exception):  # then ``digest`` hashes it itself
            self._digest = digest(self.data)

    def _wait(self) -> None:
        hashing = self._hashing
        if hashing is not None:
            # A forked child's copy of the thread counts as stopped: ``join`` returns.
            hashing.join()
            self._hashing = None


# Files this large are hashed on a thread by ``hash_ahead`` (smaller ones cost less than
# the thread: ~0.1 ms).
HASH_AHEAD_MIN = 1 << 20


def hash_ahead(read: ReadInputs) -> None:
    """Start hashing ``read``'s large files on threads, for a fingerprint asked later."""
    for file in read.files.values():
        file.hash_ahead()


class Fingerprint:
    """A read's fingerprint, combined (and its files hashed) when first asked for."""

    __slots__ = ("_make", "_value")

    def __init__(self, make: Callable[[], str]) -> None:
        self._make: Callable[[], str] | None = make
        self._value = ""

    def value(self) -> str:
        """The fingerprint (taken once)."""
        if self._make is not None:
            self._value, self._make = self._make(), None
        return self._value


class ReadInputs(NamedTuple):
    """A local site's input files as read for their fingerprint, by path; a
    ``LocalSource`` given them parses these bytes instead of reading the files again."""

    files: dict[str, ReadFile]
    taken: Fingerprint
    cache: FileCache | None = None  # Markdown files found in it were not read
    read_at: int = 0  # time.time_ns() before the first stat
    inputs: list[Input] | None = None  # the files, in load order
    stamps: list[_Stamp] | None = None  # each input's stamp as stat'ed for this read
    hits: list[bytes | None] | None = None  # each input's digest the cache vouched for

    @property
    def fingerprint(self) -> str:
        """A hash of the files' names and bytes ("" while other processes' digests are
        missing: see ``read_listed``)."""
        return self.taken.value()


class Listed(NamedTuple):
    """A local site's input files listed and stat'ed, not read yet (``list_inputs``)."""

    cache: FileCache | None
    read_at: int  # time.time_ns() before the first stat
    inputs: list[Input]
    stamps: list[_Stamp]
    hits: list[bytes | None]  # the cache's digest of each Markdown file it trusts unread

    def unread(self) -> list[tuple[Input, _Stamp]]:
        """The files ``read_listed`` reads (those the cache does not vouch for)."""
        return [(item, stamp) for item, stamp, hit in zip(self.inputs, self.stamps, self.hits,
                                                           strict=True) if hit is None]


def snapshot_wanted(read: ReadInputs | list[Input]) -> bool:
    """Whether a build from these inputs keeps a source snapshot (an NDJSON or export
    file: ``ssgen.sources.snapshot``); here, so that a build of Markdown alone decides it
    without importing the snapshot's modules."""
    inputs = read if isinstance(read, list) else read.inputs or ()
    return any(item.kind != "markdown" for item in inputs)


def read_inputs(config: Config) -> ReadInputs:
    """Read a local site's input files and fingerprint them: a hash of their names and
    bytes (read, not parsed).

    The build compares the fingerprint with the one recorded by the last build to skip
    loading and querying a dataset no file change can have touched. Bytes, not mtimes:
    two saves in one timestamp tick with the same size must not look unchanged.
    """
    # No cyclic collections while the Markdown cache's documents are unpacked: 16k files
    # make ~150k objects, and the collector's passes over them cost 0.08-0.1 s CPU.
    with gc_paused():
        return read_listed(list_inputs(config))


def list_inputs(config: Config) -> Listed:
    """``read_inputs`` up to the reading: the files, their stamps and the cache's hits
    (``ssgen.sources.early`` starts the parsing children in between)."""
    cache, read_at = markdown_cache(config), now_ns()
    return _stamped(cache, read_at, site_inputs(config))


class Listing(NamedTuple):
    """``list_inputs`` with the stamps and the cache's verdicts still being taken by a
    forked child (``start_listing``), for the site's ``layout``."""

    layout: Layout
    cache: FileCache
    read_at: int
    inputs: list[Input]
    judging: Later[tuple[list[_Stamp], list[bytes | None]]]

    def finish(self) -> Listed:
        """The ``Listed``, once the child answered (the chunks it had not reached judged
        here meanwhile)."""
        parts = self.judging.take()
        stamps = [stamp for part, _ in parts for stamp in part]
        hits = [hit for _, part in parts for hit in part]
        self.cache.hits += len(hits) - hits.count(None)
        return Listed(self.cache, self.read_at, self.inputs, stamps, hits)


def start_listing(site: Layout, children: int = 0) -> Listed | Listing:
    """``list_inputs``, its stamps and verdicts all left to one forked child when the site
    has a parse cache (a new process after an edit: the child stats 16k files while this
    one imports the build, instead of half of them before it); else ``list_inputs``.
    ``children``: with an empty cache (a cold build), at least this many Markdown files
    (>0) are left unstamped (``UNSTAMPED``) for the parsing children that read them."""
    cache, read_at = cache_of(site), now_ns()
    inputs = inputs_of(site)
    # An empty cache (a cold build): the parsing children start from ``begin``, not later.
    judging = later(lambda part: _judged(cache, part), inputs, _judgement) \
        if cache is not None and cache.names() else None
    if cache is not None and judging is None and children > 0 and \
            sum(item.kind == "markdown" for item in inputs) >= children:
        # 1,000 stats by path here (~2 ms CPU; ~8 ms at 4,000) before the children fork,
        # where each child takes its files' stamps from the files it opens anyway.
        stamps = [UNSTAMPED if item.kind == "markdown" else stamp_of(item) for item in inputs]
        return Listed(cache, read_at, inputs, stamps, [None] * len(inputs))
    if cache is None or judging is None:
        return _stamped(cache, read_at, inputs)
    return Listing(site, cache, read_at, inputs, judging)


def stamped(listed: Listed) -> Listed:
    """``listed`` with every stamp taken (those ``start_listing`` left to children that
    did not start: stat'ed now)."""
    if UNSTAMPED not in listed.stamps:
        return listed
    return listed._replace(stamps=[stamp_of(item) if stamp == UNSTAMPED else stamp
                                   for item, stamp in zip(listed.inputs, listed.stamps,
                                                          strict=True)])


def _stamped(cache: FileCache | None, read_at: int, inputs: list[Input]) -> Listed:
    # Stamps before reading: a later write then shows as a new stamp. Threads: a cold page
    # cache makes each stat and read a disk round trip; half on the other core in a child
    # (ssgen.sources.parallel).
    if cache is None or cache.empty():  # nothing to judge: the stamps alone
        stamps = map_split(stamp_of, inputs)
        return Listed(cache, read_at, inputs, stamps, [None] * len(inputs))
    # The cache's verdicts on each half's stamps are taken where the stamps are.
    halves = map_halves(lambda part: _judged(cache, part), inputs, _judgement)
    stamps = [stamp for part, _ in halves for stamp in part]
    hits = [hit for _, part in halves for hit in part]
    cache.hits += len(hits) - hits.count(None)
    return Listed(cache, read_at, inputs, stamps, hits)


def _judged(cache: FileCache,
            part: Sequence[Input]) -> tuple[list[_Stamp], list[bytes | None]]:
    """The stamps of ``part`` and the cache's digest of each file it trusts unread."""
    stamps = map_threaded(stamp_of, part)
    names = [item.path if item.kind == "markdown" else "" for item in part]
    return stamps, cache.trusted(names, stamps, count=False)


def _judgement(found: Any, count: int) -> bool:
    """Whether a child's answer is ``_judged``'s for ``count`` inputs."""
    return (type(found) is tuple and len(found) == 2 and type(found[0]) is list
            and type(found[1]) is list and len(found[0]) == len(found[1]) == count)


def read_listed(listed: Listed, elsewhere: Container[str] = ()) -> ReadInputs:
    """The rest of ``read_inputs``: read the listed files the cache does not vouch for.
    ``elsewhere``: paths that other processes read and digest (the parsing children of
    ``ssgen.sources.parse_ahead``): not read here, and the fingerprint is left "" until
    ``completed`` adds their digests."""
    every = listed.unread()
    unread = [(item, stamp) for item, stamp in every if item.path not in elsewhere]
    files = {item.path: ReadFile(stamp, data)
             for item, (stamp, data) in zip((item for item, _ in unread),
                                            map_threaded(_read_stamped, unread), strict=True)}
    taken = Fingerprint(str if len(unread) != len(every)
                        else lambda: _fingerprint(listed, files, {}))
    return ReadInputs(files, taken, listed.cache, listed.read_at, listed.inputs,
                      _read_stamps(listed, files), listed.hits)


def completed(read: ReadInputs, listed: Listed, digests: Mapping[str, bytes],
              stamps: Mapping[str, _Stamp] | None = None) -> ReadInputs:
    """``read`` (``read_listed(listed, elsewhere)``) with its fingerprint, from the digests
    that other processes took of the files it left to them (``digests``, by path; with the
    stamps they took of those ``listed`` left unstamped, ``stamps``); a file none of them
    digested (a child lost, a file it could not read) is read here."""
    files = dict(read.files)
    for item, stamp in listed.unread():
        if item.path not in files and item.path not in digests:
            stamp, data = _read_stamped((item, stamp))
            files[item.path] = ReadFile(stamp, data)
    return read._replace(files=files,
                         taken=Fingerprint(lambda: _fingerprint(listed, files, digests)),
                         stamps=_read_stamps(listed, files, stamps or {}))


def _read_stamps(listed: Listed, files: Mapping[str, ReadFile],
                 taken: Mapping[str, _Stamp] | None = None) -> list[_Stamp]:
    # A dataset file read once it settled (``settle``) holds the bytes of a later stamp.
    return [files[item.path].stamp if item.path in files
            else taken[item.path] if stamp == UNSTAMPED and taken and item.path in taken
            else stamp
            for item, stamp in zip(listed.inputs, listed.stamps, strict=True)]


def _fingerprint(listed: Listed, files: Mapping[str, ReadFile],
                 digests: Mapping[str, bytes]) -> str:
    # In input order: the cache's digest of an unread file, else this read's, else theirs.
    return combine(
        (item.display, hit if hit is not None
         else files[item.path].digest if item.path in files else digests[item.path])
        for item, hit in zip(listed.inputs, listed.hits, strict=True))


def combine(files: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for display, file_digest in files:
        digest.update(display.encode() + b"\0" + file_digest)
    return digest.hexdigest()


def read_bytes(item: Input, size: int = -1) -> bytes:
    """The file's bytes; ``size``: its size when just stat'ed (-1: asked of the file)."""
    try:
        fd = os.open(item.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            return _read_all(fd, size)
        finally:
            os.close(fd)
    except OSError as exc:
        raise SourceError(f"{item.display}: cannot read: {exc.strerror or exc}") from exc


def _read_all(fd: int, size: int) -> bytes:
    # os.read of the stat'ed size, not open().read(): no buffered reader and no fstat,
    # ~10 of the ~20 us a small file took here. Read on to end of file in case it grew.
    if size < 0:
        size = os.fstat(fd).st_size
    first = os.read(fd, size + 1)
    if len(first) <= size:  # a short read of a regular file is its end: no read for b""
        return first
    parts = [first]
    while part := os.read(fd, 1 << 16):
        parts.append(part)
    return first if len(parts) == 1 else b"".join(parts)


def read_stable(item: Input, stamp: _Stamp) -> tuple[_Stamp, bytes]:
    """A dataset file's bytes once its writer is done with it, and the stamp they are the
    bytes of (``ssgen.sources.settle``)."""
    return read_settled(item.display, lambda: stamp_of(item),
                        lambda size: read_bytes(item, size), stamp)


def settled_stamp(item: Input, stamp: _Stamp) -> _Stamp:
    """``stamp``, or the file's stamp once its writer is done with it (``settle``)."""
    return settled(item.display, lambda: stamp_of(item), stamp)


def _read_stamped(pair: tuple[Input, _Stamp]) -> tuple[_Stamp, bytes]:
    item, stamp = pair
    if stamp == UNSTAMPED:
        return read_stamped(item)
    if item.kind == "markdown":  # one document: a half-saved file is a fault, not a loss
        return stamp, read_bytes(item, stamp[1])
    return read_stable(item, stamp)


def read_stamped(item: Input) -> tuple[_Stamp, bytes]:
    """A Markdown file's stamp, taken from the open file before it is read (as a stat
    before the read: a write meanwhile shows as a later stamp next time), and its bytes."""
    try:
        fd = os.open(item.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            info = os.fstat(fd)
            return ((info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns),
                    _read_all(fd, info.st_size))
        finally:
            os.close(fd)
    except OSError as exc:
        raise SourceError(f"{item.display}: cannot read: {exc.strerror or exc}") from exc


def stamp_of(item: Input) -> _Stamp:
    try:
        info = os.stat(item.path)
    except OSError as exc:
        raise SourceError(f"{item.display}: cannot read: {exc.strerror or exc}") from exc
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)  # as file_stamp
