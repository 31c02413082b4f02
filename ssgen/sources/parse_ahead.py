"""Parsing the Markdown files of a build on every core before the local source loads them.

``read_inputs`` reads the input files (bytes, for the fingerprint); a cold build (no parse
cache in ``.ssgen/``) must then parse every Markdown file, ~40 us each, one after another
in the loading stage. ``parse_ahead`` parses the files the ``FileCache`` lacks in forked
processes and this one (``ssgen.sources.fanout``: the bytes are inherited, the documents
come back as ``marshal`` data) and puts the parses in the cache, where ``LocalSource``
finds them by digest exactly as it finds a warm cache's. A chunk lost with a killed child
is simply parsed later, by the source, as without this module. ``start_parse`` starts the
children and returns; its ``finish`` is the rest of ``parse_ahead`` (``ssgen.sources.early``
starts them while the build's other modules are still being imported). ``start_unread``
starts them before the files are read: each child reads the files of its chunks itself
and sends back their digests with the parses, so this process reads only the other
input files (``read_listed(listed, elsewhere=parsing.paths)``) and ``Parsing.finish``
gives the digests for the fingerprint: it is taken of the bytes that were parsed.
With every file read here (``start_parse``, or ``read_listed`` without ``elsewhere``),
a parse is put in the cache only when the child's bytes have the digest of this
process's read (a file saved in between is parsed again by the source, from the bytes
the fingerprint was taken of).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ssgen.errors import SourceError
from ssgen.sources import content_hash
from ssgen.sources.fanout import Started, chunk_size, start
from ssgen.sources.filecache import FileCache, Stamp
from ssgen.sources.inputs import (
    UNSTAMPED,
    Input,
    Listed,
    ReadFile,
    ReadInputs,
    digest,
    read_bytes,
    read_stamped,
)
from ssgen.sources.markdown_docs import markdown_or_fault

if TYPE_CHECKING:
    from ssgen.config.load import Config

# Fewer files than this: forking and sending the documents back cost more than it saves.
MIN_FILES = 256
_CHUNK = 32  # small: the last chunk a busy machine holds up is short


def parse_ahead(config: Config, read: ReadInputs, jobs: int | None) -> int:
    """Parse into ``read.cache`` the Markdown files ``read`` holds that it lacks, on
    ``jobs`` processes (all cores when None); the number of files parsed."""
    pending = start_parse(config, read, jobs)
    return 0 if pending is None else pending.finish(read)


def start_parse(config: Config, read: ReadInputs, jobs: int | None) -> Parsing | None:
    """``parse_ahead`` with its children started and this process's part left to
    ``finish``; None when there is nothing to parse on several cores."""
    cache = read.cache
    if cache is None or read.inputs is None:
        return None
    todo = [item for item in read.inputs if item.kind == "markdown" and item.path in read.files
            and cache.same(item.path, read.files[item.path].digest) is None]
    return _start(config.source.markdown_type, cache, todo, dict(read.files), jobs)


def start_unread(markdown_type: str, listed: Listed, jobs: int | None) -> Parsing | None:
    """``start_parse`` before the files are read (see the module's doc): every Markdown
    file the cache does not vouch for by its stamp goes to the children, which read it
    (``markdown_type``: the ``_type`` of a file whose front matter gives none; the
    configuration need not be loaded yet)."""
    if listed.cache is None:
        return None
    unread = [(item, stamp) for item, stamp in listed.unread() if item.kind == "markdown"]
    return _start(markdown_type, listed.cache, [item for item, _ in unread], {}, jobs,
                  {item.path: stamp for item, stamp in unread})


def _start(default_type: str, cache: FileCache, todo: list[Input],
           files: dict[str, ReadFile], jobs: int | None,
           stamps: dict[str, Stamp] | None = None) -> Parsing | None:
    # ``files``: the bytes read so far, by path; the children keep the copy they forked
    # with and read what it lacks (``stamps``: as stat'ed); ``Parsing.finish`` fills this
    # process's copy. A file it still lacks then was read by a child alone: its parse
    # goes in the cache with the child's digest, which ``Parsing.digests`` keeps.
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(todo) < MIN_FILES:
        return None
    size = chunk_size(len(todo), _CHUNK)
    stamps = stamps or {}
    digests: dict[str, bytes] = {}
    taken: dict[str, Stamp] = {}  # the stamps the readers took of files listed unstamped

    def run(index: int) -> list[Any]:
        # A row: the file's digest, the stamp taken of it here (None: it had one), then,
        # unless the cache holds its parse, its documents, faults and their hashes.
        rows: list[Any] = []
        for item in todo[index * size : (index + 1) * size]:
            stamp = stamps.get(item.path)
            own = None
            if stamp == UNSTAMPED and item.path not in files:
                own, data = _stamped_bytes(item)
            else:
                data = _bytes(item, files, stamp[1] if stamp else -1)
            if data is None:
                rows.append(None)  # unreadable: the source says why
                continue
            found = digest(data)
            if cache.same(item.path, found) is not None:
                rows.append((found, own))  # parsed before
                continue
            loaded = markdown_or_fault(data, item.rel, item.display, default_type)
            rows.append((found, own, loaded.documents,
                         [(f.where, f.message) for f in loaded.faults],
                         [content_hash(doc) for doc in loaded.documents]))
        return rows

    def done(index: int, rows: list[Any]) -> None:
        items: list[Input] = todo[index * size : (index + 1) * size]
        for item, row in zip(items, rows, strict=True):
            file = files.get(item.path)
            if row is None or (file is not None and row[0] != file.digest):
                continue  # not the bytes the fingerprint was taken of: the source parses it
            if file is None:  # read by the child alone: the fingerprint takes its digest
                digests[item.path] = row[0]
                if row[1] is not None:
                    taken[item.path] = row[1]
            if len(row) > 2:
                stamp = file.stamp if file is not None else taken.get(item.path) \
                    or stamps[item.path]
                cache.put(item.path, stamp, row[0], read_at[0], *row[2:])

    def lost(chunks: list[int]) -> int:
        return len(todo) - sum(len(todo[i * size : (i + 1) * size]) for i in chunks)

    read_at = [0]  # ``finish`` sets it: the read's clock, for the entries' stamps
    parsing = Parsing(start(-(-len(todo) // size), run, jobs), done, lost, files, read_at)
    parsing.paths, parsing.digests, parsing.stamps = frozenset(stamps), digests, taken
    return parsing


def _stamped_bytes(item: Input) -> tuple[Stamp | None, bytes | None]:
    try:
        return read_stamped(item)
    except SourceError:
        return None, None


def _bytes(item: Input, files: dict[str, ReadFile], size: int) -> bytes | None:
    file = files.get(item.path)
    if file is not None:
        return file.data
    try:
        return read_bytes(item, size)
    except SourceError:
        return None


class Parsing:
    """Markdown files being parsed by forked children (``start_parse``)."""

    def __init__(self, started: Started, done: Callable[[int, list[Any]], None],
                 count: Callable[[list[int]], int], files: dict[str, ReadFile],
                 read_at: list[int]) -> None:
        self._started, self._done, self._count = started, done, count
        self._files, self._read_at = files, read_at
        # ``start_unread``: the files the children read (this process need not), and the
        # digest of each one a child alone read, once ``finish`` has the results.
        self.paths: frozenset[str] = frozenset()
        self.digests: dict[str, bytes] = {}
        self.stamps: dict[str, Stamp] = {}  # of the files listed unstamped, as they read them

    def finish(self, read: ReadInputs) -> int:
        """Parse here what no child took yet, from ``read`` (the files as the build read
        them); every parse of ``read``'s bytes in its cache; how many files were parsed."""
        self._files.update(read.files)
        self._read_at[0] = read.read_at
        return self._count(self._started.finish(self._done))

    def cancel(self) -> None:
        """Stop the children; their parses are not wanted."""
        self._started.cancel()
