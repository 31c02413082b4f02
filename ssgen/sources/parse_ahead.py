"""Parsing the Markdown files of a build on every core before the local source loads them.

``read_inputs`` reads the input files (bytes, for the fingerprint); a cold build (no parse
cache in ``.ssgen/``) must then parse every Markdown file, ~40 us each, one after another
in the loading stage. ``parse_ahead`` parses the files the ``FileCache`` lacks in forked
processes and this one (``ssgen.sources.fanout``: the bytes are inherited, the documents
come back as ``marshal`` data) and puts the parses in the cache, where ``LocalSource``
finds them by digest exactly as it finds a warm cache's. A chunk lost with a killed child
is simply parsed later, by the source, as without this module. ``start_parse`` starts the
children and returns; its ``finish`` is the rest of ``parse_ahead`` (``ssgen.sources.early``
starts them while the build's other modules are still being imported).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ssgen.sources import content_hash
from ssgen.sources.fanout import Started, chunk_size, start
from ssgen.sources.inputs import Input, ReadInputs
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
    return 0 if pending is None else pending.finish()


def start_parse(config: Config, read: ReadInputs, jobs: int | None) -> Parsing | None:
    """``parse_ahead`` with its children started and this process's part left to
    ``finish``; None when there is nothing to parse on several cores."""
    cache, jobs = read.cache, jobs or os.cpu_count() or 1
    if cache is None or read.inputs is None or jobs <= 1:
        return None
    todo = [item for item in read.inputs if item.kind == "markdown" and item.path in read.files
            and cache.same(item.path, read.files[item.path].digest) is None]
    if len(todo) < MIN_FILES:
        return None
    size = chunk_size(len(todo), _CHUNK)
    default_type = config.source.markdown_type

    def run(index: int) -> list[Any]:
        rows = []
        for item in todo[index * size : (index + 1) * size]:
            loaded = markdown_or_fault(read.files[item.path].data, item.rel, item.display,
                                       default_type)
            rows.append((loaded.documents, [(f.where, f.message) for f in loaded.faults],
                         [content_hash(doc) for doc in loaded.documents]))
        return rows

    def done(index: int, rows: list[Any]) -> None:
        items: list[Input] = todo[index * size : (index + 1) * size]
        assert cache is not None
        for item, (documents, faults, hashes) in zip(items, rows, strict=True):
            file = read.files[item.path]
            cache.put(item.path, file.stamp, file.digest, read.read_at, documents, faults,
                      hashes)

    def lost(chunks: list[int]) -> int:
        return len(todo) - sum(len(todo[i * size : (i + 1) * size]) for i in chunks)

    return Parsing(start(-(-len(todo) // size), run, jobs), done, lost)


class Parsing:
    """Markdown files being parsed by forked children (``start_parse``)."""

    def __init__(self, started: Started, done: Callable[[int, list[Any]], None],
                 count: Callable[[list[int]], int]) -> None:
        self._started, self._done, self._count = started, done, count

    def finish(self) -> int:
        """Parse here what no child took yet; every parse in the cache; how many."""
        return self._count(self._started.finish(self._done))

    def cancel(self) -> None:
        """Stop the children; their parses are not wanted."""
        self._started.cancel()
