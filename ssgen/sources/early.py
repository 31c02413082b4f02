"""A command's input files read, and their Markdown parsed, while its build's modules load.

Owns ``begin(config, jobs)``, ``start(layout, jobs)``, ``inputs(config)`` and
``discard()``. ``ssgen build`` spends
its first ~0.1 s CPU importing what a build needs (Jinja2, the manifest, the stages) on one
core while the other waits. ``begin``, called as soon as the configuration is loaded,
lists and stats the local site's input files (with a parse cache, a new process after
an edit: in a forked child, taken by ``inputs`` once the build's modules are imported;
the rest of ``begin`` then waits until then), starts forked children reading and parsing
the Markdown files the parse cache lacks (``ssgen.sources.parse_ahead.start_unread``),
then reads the other input files here (``read_listed``, while they parse); the build's
``inputs`` then takes that read, after this process has parsed what the children had not
taken yet, with the fingerprint of the bytes the children read and parsed (``completed``:
no file is read twice). The read is the one the build would have made itself, only
earlier: its fingerprint may be older than the files, which only makes the next build
look again.
``discard`` stops children whose work no build took (an error before loading).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssgen.sources.inputs import (
    Layout,
    Listed,
    Listing,
    ReadInputs,
    completed,
    layout,
    read_inputs,
    read_listed,
    start_listing,
)
from ssgen.sources.ndjson import gc_paused
from ssgen.sources.parse_ahead import Parsing, start_unread

if TYPE_CHECKING:
    from ssgen.config.load import Config

# site folder -> what ``begin`` listed and read for it and the parse it started (at most
# one a process)
_BEGUN: dict[str, tuple[Listed, ReadInputs, Parsing | None]] = {}
# site folder -> the listing a child is still stamping, and the jobs (instead of _BEGUN)
_STAMPING: dict[str, tuple[Listing, int | None]] = {}


def begin(config: Config, jobs: int | None) -> None:
    """Read ``config``'s local input files and start parsing them on the other cores;
    nothing for a remote source or a single job, where there is nothing to overlap. A
    listing ``start`` began for this site's ``layout`` is kept (any other is stopped)."""
    site = layout(config)
    stamping = _STAMPING.get(site.site_dir)
    if stamping is not None and stamping[0].layout == site and stamping[1] == jobs:
        return
    discard()
    if config.source.type != "local" or jobs == 1:
        return
    with gc_paused():  # as in read_inputs
        listing = start_listing(site)
        if isinstance(listing, Listing):
            _STAMPING[site.site_dir] = (listing, jobs)
        else:
            _BEGUN[site.site_dir] = _read(config, listing, jobs)


def start(site: Layout, jobs: int | None) -> None:
    """``begin``'s listing, started for a local site's ``layout`` as a command's last
    build saw it, before the configuration is loaded (``ssgen.build.ahead``): its child
    stats the files while this process imports; ``begin`` keeps it when the loaded
    configuration has that layout. Nothing without a warm parse cache."""
    discard()
    if site.source_type != "local" or jobs == 1:
        return
    with gc_paused():
        listing = start_listing(site)
    if isinstance(listing, Listing):
        _STAMPING[site.site_dir] = (listing, jobs)


def _read(config: Config, listed: Listed,
          jobs: int | None) -> tuple[Listed, ReadInputs, Parsing | None]:
    """The unread files given to parsing children, the others read here."""
    parsing = start_unread(config, listed, jobs)
    try:
        read = read_listed(listed, parsing.paths if parsing is not None else ())
    except BaseException:
        if parsing is not None:
            parsing.cancel()
        raise
    return listed, read, parsing


def inputs(config: Config) -> ReadInputs:
    """The site's input files as ``read_inputs`` gives them, with the Markdown parses in
    its cache: those ``begin`` started when it did (finished here), else read now."""
    begun = _BEGUN.pop(str(config.site_dir), None)
    stamping = _STAMPING.pop(str(config.site_dir), None)
    discard()  # another site's: not this build's to finish
    if stamping is not None:  # stamped by a child meanwhile: the rest as ``begin``'s
        with gc_paused():
            begun = _read(config, stamping[0].finish(), stamping[1])
    if begun is None:
        return read_inputs(config)
    listed, read, parsing = begun
    if parsing is not None:
        parsing.finish(read)
        read = completed(read, listed, parsing.digests)
    return read


def discard() -> None:
    """Forget what ``begin`` read and stop the children it started."""
    while _BEGUN:
        _, (_, _, parsing) = _BEGUN.popitem()
        if parsing is not None:
            parsing.cancel()
    while _STAMPING:
        _STAMPING.popitem()[1][0].judging.cancel()
