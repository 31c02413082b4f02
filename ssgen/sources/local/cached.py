"""One input file of the local source as last read, and an NDJSON file re-read against it.

Owns ``Cached`` (a file's stat stamp, documents and kept bytes, the digest taken only when
a fingerprint asks; a snapshot pickles it, see ``ssgen.sources.snapshot.allowed``),
``parse_file`` (a file parsed against its last parse) and ``reread`` (a kept source's
NDJSON file patched in place where it differs from the kept bytes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssgen.sources.filecache import RACY_NS
from ssgen.sources.inputs import digest, read_stable
from ssgen.sources.local.parse import parse_input
from ssgen.sources.ndjson.diff import patch
from ssgen.sources.ndjson.reread import differing_region

if TYPE_CHECKING:
    from ssgen.config.source import SourceConfig
    from ssgen.sources.inputs import Input
    from ssgen.sources.ndjson import Data, Loaded
    from ssgen.sources.ndjson.diff import Splice

Stamp = tuple[int, int, int, int]
_UNKNOWN = b"unknown"  # not the 16 bytes of any file's digest


class Cached:
    """One input file as last read: its stat stamp, its documents and its bytes (NDJSON:
    kept to diff the next read against, digested only when a fingerprint is asked for).
    ``racy``: the file changed within ``RACY_NS`` of the read, so a second write in the
    same timestamp tick could keep the stamp (the racy-git rule): the next reload compares
    the bytes, not the stamp."""

    racy = False

    def __init__(self, stamp: Stamp, loaded: Loaded, data: Data | None,
                 digest: bytes | None = None) -> None:
        self.stamp, self.loaded, self.data = stamp, loaded, data
        self._digest = digest

    @property
    def digest(self) -> bytes:
        if self._digest is None:
            self._digest = digest(self.data or b"")
        return self._digest

    def forget_digest(self) -> None:
        """Its bytes are gone (patched into the next read's): a digest no file has."""
        if self._digest is None:
            self._digest = _UNKNOWN


def mark_racy(cached: Cached, read_at: int) -> Cached:
    """``cached``, marked racy when its stamp's times are within ``RACY_NS`` of ``read_at``
    (the clock before its stat)."""
    cached.racy = max(cached.stamp[0], cached.stamp[3]) >= read_at - RACY_NS
    return cached


def parse_file(source: SourceConfig, item: Input, data: Data,
               previous: Cached | None) -> Splice:
    """The file's new documents against its last parse (``previous``)."""
    return parse_input(source, item, data, (
        previous.loaded, previous.data) if previous is not None else None)


def reread(source: SourceConfig, item: Input, stamp: Stamp,
           old: Cached) -> tuple[Cached, Splice]:
    """A kept source's NDJSON file: the kept bytes patched in place where the file
    differs from them (see ``ndjson.reread``), or the file read whole when that
    cannot be told."""
    assert old.data is not None
    region = differing_region(item.path, old.data, stamp)
    if region is None:
        stamp, data = read_stable(item, stamp)
        splice = parse_file(source, item, data, old)
        return Cached(stamp, splice.loaded, data), splice
    # A bytearray from the first re-read on: then patched, never copied again.
    kept = old.data if type(old.data) is bytearray else bytearray(old.data)
    # From here ``old`` no longer holds the bytes it parsed: were this reload to
    # fail, the next one parses the file whole, and no fingerprint vouches for it.
    old.data = None
    old.forget_digest()
    found = patch(old.loaded, kept, region.prefix, region.suffix, region.middle)
    if found is None:
        found = parse_file(source, item, kept, old)
    return Cached(stamp, found.loaded, kept), found
