"""A command's input files read, and their Markdown parsed, while its build's modules load.

Owns ``begin(config, jobs)``, ``start(layout, jobs)``, ``read_ahead(config)``,
``inputs(config)``, ``pending(config)`` and ``discard()``. ``ssgen build`` spends
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
``start`` begins the same for a ``Layout`` before the configuration is loaded (from the
plan the last build left, or a cold build's first look at ``ssgen.toml``); ``begin``
keeps what it began only for the loaded configuration's layout and jobs, and stops it
otherwise. ``discard`` stops children whose work no build took (an error before loading).
``pending`` hands a read still running on a thread over with the files it listed, so that a
build that resumes a snapshot decodes it first and takes the bytes only when it needs them.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import TYPE_CHECKING, NamedTuple

from ssgen.sources.inputs import (
    Layout,
    Listed,
    Listing,
    ReadInputs,
    completed,
    hash_ahead,
    layout,
    list_inputs,
    read_inputs,
    read_listed,
    stamped,
    start_listing,
)
from ssgen.sources.ndjson import gc_paused
from ssgen.sources.parse_ahead import MIN_FILES, Parsing, start_unread

if TYPE_CHECKING:
    from ssgen.config.load import Config


class _Begun(NamedTuple):
    """What ``begin`` (or ``start``) listed and read for a site and the parse it started,
    for the site's ``layout`` and ``jobs`` (``read``: on a thread when nothing parses)."""

    listed: Listed
    read: ReadInputs | _Reading
    parsing: Parsing | None
    layout: Layout
    jobs: int | None


# site folder -> what was begun for it (at most one a process)
_BEGUN: dict[str, _Begun] = {}
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
    begun = _BEGUN.get(site.site_dir)
    if begun is not None and begun.layout == site and begun.jobs == jobs:
        return
    discard()
    _list(site, jobs)


def start(site: Layout, jobs: int | None) -> None:
    """``begin`` for a local site's ``layout`` as the command guesses it before the
    configuration is loaded (``ssgen.build.ahead``: the last build's plan, or a first
    look at ``ssgen.toml``): the stats, and the parse of what the cache lacks, run on the
    other core while this process imports; ``begin`` keeps them when the loaded
    configuration has that layout (and the same jobs), and starts again otherwise."""
    discard()
    _list(site, jobs)


def _list(site: Layout, jobs: int | None) -> None:
    if site.source_type != "local" or jobs == 1:
        return
    with gc_paused():  # as in read_inputs
        # A cold build's Markdown files stamped by the parsing children that read them.
        listing = start_listing(site, MIN_FILES if (jobs or os.cpu_count() or 1) > 1 else 0)
        if isinstance(listing, Listing):
            _STAMPING[site.site_dir] = (listing, jobs)
        else:
            begun = _BEGUN[site.site_dir] = _read(site, listing, jobs, threaded=True)
            if not isinstance(begun.read, _Reading):
                # The build asks for the fingerprint once imported: the other core hashes
                # the large files meanwhile (the SHA-256 of 70 MB at 10k posts: ~40 ms).
                hash_ahead(begun.read)


def _read(site: Layout, listed: Listed, jobs: int | None, *,
          threaded: bool = False) -> _Begun:
    """The unread files given to parsing children, the others read here; ``threaded``
    and no Markdown to parse: read on a thread (``_Reading``) while the build imports."""
    parsing = start_unread(site.markdown_type, listed, jobs)
    if parsing is None:
        listed = stamped(listed)  # what ``start_listing`` left to children that did not start
    if threaded and parsing is None:
        return _Begun(listed, _Reading(listed), None, site, jobs)
    try:
        read = read_listed(listed, parsing.paths if parsing is not None else ())
    except BaseException:
        if parsing is not None:
            parsing.cancel()
        raise
    return _Begun(listed, read, parsing, site, jobs)


class _Reading:
    """``read_listed`` of a plain build's listed files on a thread, their large files then
    hashed on threads (the build asks for the fingerprint once imported), for ``inputs``
    to take: the main thread imports the build meanwhile (``os.read`` and hashlib let go
    of the GIL: the 670 MB dataset of 100,000 starter posts, ~0.3 s CPU to read and ~0.6 s
    to hash). ``take`` gives None when the read raised: ``inputs`` reads again, so that an
    error is the one reading then meets."""

    def __init__(self, listed: Listed) -> None:
        self._listed = listed
        self._read: ReadInputs | None = None
        self._thread = threading.Thread(target=self._run, name="ssgen-read-listed",
                                         daemon=True)
        self._thread.start()

    def listed(self) -> Listed:
        """The files it reads, as listed and stat'ed before the read."""
        return self._listed

    def _run(self) -> None:
        with contextlib.suppress(Exception):
            read = read_listed(self._listed)
            hash_ahead(read)
            self._read = read

    def take(self) -> ReadInputs | None:
        self._thread.join()
        return self._read


def read_ahead(config: Config) -> None:
    """Start ``read_inputs`` of ``config``'s local input files on a thread, for ``inputs``
    to take: for a command that asks for no fingerprint and parses no Markdown ahead
    (``ssgen revalidate``), whose imports then run while the files are read (``os.read``
    lets go of the GIL: the 70 MB dataset at 10,000 starter posts, ~25 ms). Call it after
    any fork: the thread is not one a forked child should copy."""
    discard()
    if config.source.type == "local":
        _AHEAD[str(config.site_dir)] = _Ahead(config)


class _Ahead:
    """``read_inputs(config)`` on a thread; ``take`` waits for it (None: it raised, and
    the caller reads again, so that an error is the one reading then meets)."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._read: ReadInputs | None = None
        self._listed: Listed | None = None
        self._was_listed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ssgen-read-ahead",
                                         daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # Not ``read_inputs``: its pause of the collector is the process's, not this
        # thread's (the command pauses it itself until its modules are imported).
        with contextlib.suppress(Exception):
            try:
                self._listed = list_inputs(self._config)
            finally:
                self._was_listed.set()
            self._read = read_listed(self._listed)

    def listed(self) -> Listed | None:
        """The files it reads, once listed (None: the listing raised)."""
        self._was_listed.wait()
        return self._listed

    def take(self) -> ReadInputs | None:
        self._thread.join()
        return self._read


# site folder -> the read ``read_ahead`` started for it (at most one a process)
_AHEAD: dict[str, _Ahead] = {}


class Pending:
    """A read on a thread (``begin``'s with nothing to parse, or ``read_ahead``'s) handed
    over with the files it listed: ``take`` gives what ``inputs`` would (once, waiting for
    the bytes then). For a build that resumes a snapshot: its decode needs none of the
    bytes, only ``LocalSource.resume`` after it does (the 670 MB of 100,000 starter posts:
    ~0.3 s CPU and more wall under load, on the other core while the decode runs)."""

    def __init__(self, config: Config, listed: Listed) -> None:
        self._config = config
        self.listed = listed
        self._taken: ReadInputs | None = None

    def take(self) -> ReadInputs:
        """The read, as ``inputs(config)`` gives it (taken once)."""
        if self._taken is None:
            self._taken = inputs(self._config)
        return self._taken


def pending(config: Config) -> Pending | None:
    """The read begun for ``config`` on a thread, not waited for (only for its listing);
    None when there is none (``inputs`` then reads, or finishes what ``begin`` began)."""
    site = str(config.site_dir)
    begun, ahead = _BEGUN.get(site), _AHEAD.get(site)
    listed: Listed | None = None
    if site in _STAMPING:
        return None
    if begun is not None and isinstance(begun.read, _Reading):
        listed = begun.read.listed()
    elif begun is None and ahead is not None:
        listed = ahead.listed()
    return Pending(config, listed) if listed is not None else None


def inputs(config: Config) -> ReadInputs:
    """The site's input files as ``read_inputs`` gives them, with the Markdown parses in
    its cache: those ``begin`` started when it did (finished here), or the read
    ``read_ahead`` started, else read now."""
    begun = _BEGUN.pop(str(config.site_dir), None)
    stamping = _STAMPING.pop(str(config.site_dir), None)
    ahead = _AHEAD.pop(str(config.site_dir), None)
    discard()  # another site's: not this build's to finish
    if ahead is not None and begun is None and stamping is None:
        read = ahead.take()
        if read is not None:
            return read
    if stamping is not None:  # stamped by a child meanwhile: the rest as ``begin``'s
        with gc_paused():
            begun = _read(stamping[0].layout, stamping[0].finish(), stamping[1])
    if begun is not None and isinstance(begun.read, _Reading):
        taken = begun.read.take()
        return taken if taken is not None else read_inputs(config)
    if begun is None:
        return read_inputs(config)
    listed, taken_here, parsing = begun[:3]
    assert not isinstance(taken_here, _Reading)  # threaded only when nothing parses
    if parsing is not None:
        parsing.finish(taken_here)
        taken_here = completed(taken_here, listed, parsing.digests, parsing.stamps)
    return taken_here


def discard() -> None:
    """Forget what ``begin`` or ``read_ahead`` read and stop the children ``begin``
    started (a read on a thread ends by itself)."""
    _AHEAD.clear()
    while _BEGUN:
        parsing = _BEGUN.popitem()[1].parsing
        if parsing is not None:
            parsing.cancel()
    while _STAMPING:
        _STAMPING.popitem()[1][0].judging.cancel()
