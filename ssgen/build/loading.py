"""Loading the source a build reads when none is given: the local files (resumed from
the snapshot a previous process left when there is one, see ``ssgen.sources.snapshot``),
a mirror, or a remote source.

The full local source is imported when a build loads a source (~7 ms CPU), the snapshot's
modules (and the maintained queries they bring, ~4 ms more) only when its inputs keep one
(NDJSON or an export: ``snapshot_wanted``): a new process after a one-file edit of a
Markdown site takes the lazy source (``ssgen.sources.lazy``) and imports neither, a cold
build of a Markdown site the source alone."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterable, Mapping

from ssgen.build.progress import Reporter
from ssgen.config.load import Config
from ssgen.routes.page import PageSpec
from ssgen.sources import Source, early, open_source
from ssgen.sources.inputs import ReadInputs, snapshot_wanted, unread_files
from ssgen.sources.mirror import mirrored
from ssgen.sources.parse_ahead import parse_ahead


def load_source(config: Config, drafts: bool, reporter: Reporter,
                read: ReadInputs | early.Pending | None, jobs: int | None, *,
                full: bool = False, leave: list[object] | None = None) -> Source:
    """The source, loaded with the cyclic collector off and frozen after (see below);
    ``read``: the input files as a fingerprint just read them, or a read still running
    (``early.pending``: also taken when None is given); ``full``: from the files
    alone, with no snapshot resumed (a full build is the reference), but with its list
    queries' results maintained as an incremental build's are, so that it leaves a
    snapshot too and the first new process after it resumes one. ``leave``: what a
    process that exits after the build keeps until then (``carry.resume``'s)."""
    from ssgen.sources.local import LocalSource

    for name in unread_files(config):
        reporter.warn(f"{name} is not read: the local source reads NDJSON (.ndjson, .jsonl: "
                      "one document a line), export archives and Markdown; convert a JSON "
                      f"array with `jq -c '.[]' {name}` into a .ndjson file")
    # Frozen before the collector is back on: its first pass after a load would walk
    # every new document (~0.7 s at 10k documents) only to find no garbage.
    enabled = gc.isenabled()
    gc.disable()
    try:
        if read is None and config.source.type == "local":
            read = early.pending(config)
        perspective = "drafts" if drafts else config.source.perspective
        if isinstance(read, early.Pending):
            # A read still on its thread: a snapshot, when the files keep one, decoded
            # first, its bytes taken only to bring it up to them (``snapshot.resume``).
            if snapshot_wanted(read.listed.inputs) and not full:
                from ssgen.build.memo import carry

                if (resumed := carry.resume(config, perspective, read.take, leave)) is not None:
                    return resumed
            read = read.take()
        if read is None and config.source.type == "local":
            # Read with many files in flight, then parsed (see ssgen.sources.parallel).
            read = early.inputs(config)
        if read is not None:  # the files the fingerprint just read: not read twice
            keep = snapshot_wanted(read)
            if keep and not full:
                from ssgen.build.memo import carry

                if (resumed := carry.resume(config, perspective, read, leave)) is not None:
                    return resumed
            parse_ahead(config, read, jobs)  # on every core (a cold build parses them all)
            return LocalSource(config, drafts=drafts, preread=read, maintain=keep)
        if mirrored(config):  # synced at the start of the build
            return LocalSource(config, drafts=drafts)
        return open_source(config, drafts=drafts)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def keep_snapshot(config: Config, source: Source | None, hash_pages: Iterable[PageSpec],
                  hashes: Mapping[str, str], *, later: bool = False) -> None:
    """``carry.keep``: the snapshot of a full local source saved when worth it (a
    resumed one's re-save at the process's exit, ``later``). No other
    source keeps one (a given one: ``carry.keep`` is a no-op for it), and a
    ``LocalSource`` exists only once its module is imported: a build that never imported
    it (the lazy source's) imports none of the snapshot's modules for nothing."""
    local = sys.modules.get("ssgen.sources.local")
    if local is None or not isinstance(source, local.LocalSource) or not source.maintains:
        return  # nothing ``snapshot.due`` would save
    from ssgen.build.memo import carry

    carry.keep(config, source, hash_pages, hashes, later=later)


__all__ = ["keep_snapshot", "load_source"]
