"""Opening the source serve keeps: resumed from the snapshot a build left when there is one.

Owns ``open_kept``. A local site whose inputs keep a snapshot (NDJSON or an export,
``ssgen.sources.snapshot``) starts from ``.ssgen/source.snapshot`` as a new ``ssgen
build`` does (``carry.resume``: the source and the route, data-hash and feed memos the
last process left), instead of parsing every file: at 100,000 posts the whole load took
over 90 s of serve's start. The proof is the build's: the resume re-reads every input
file and diffs it against the bytes the snapshot parsed (``LocalSource.resume``), so a
snapshot that is stale at the start costs a larger diff, never a stale page; one of
another key (code, config, site, perspective), damaged or refused is ignored and the
files are loaded whole, as before. The resumed source is then kept (``LocalSource.keep``).

Either way the opening runs with the cyclic collector off and freezes what it made
(``ssgen.build.heap.frozen_after``), as a build's load does: with it on, the memos adopted
after the decode triggered full collections of the decoded heap (42 s of a 56 s start at
100,000 posts).
"""

from __future__ import annotations

from ssgen.build.heap import frozen_after
from ssgen.config.load import Config
from ssgen.sources import Source, open_source


def open_kept(config: Config) -> Source:
    """The source for serve to keep across its rounds (``open_source(config,
    kept=True)``), resumed from the site's snapshot when one is usable."""
    with frozen_after():
        resumed = _resumed(config)
        return resumed if resumed is not None else open_source(config, kept=True)


def _resumed(config: Config) -> Source | None:
    if config.source.type != "local":
        return None  # the mirror syncs first; a remote source keeps nothing
    from ssgen.sources.inputs import site_inputs, snapshot_wanted

    if not snapshot_wanted(site_inputs(config)):
        return None  # Markdown alone: no snapshot is kept (its parses have their cache)
    from ssgen.build.memo import carry

    source = carry.resume(config, config.source.perspective, None)
    if source is None:
        return None
    source.keep()
    return source


__all__ = ["open_kept"]
