"""One input file of the local source as last read, and an NDJSON file re-read against it.

Owns ``Cached`` (a file's stat stamp, documents and kept bytes, the digest taken only when
a fingerprint asks; a snapshot pickles it, see ``ssgen.sources.snapshot.allowed``),
``parse_file`` (a file parsed against its last parse) and ``reread`` (a kept source's
NDJSON file patched in place where it differs from the kept bytes: the patch is applied
at ``Cached.settle``, which serve calls after the round's replies, or by the first
reader of the bytes before it; the file's mapping is unmapped then too). Told the line
of the one document a webhook named, ``reread`` takes that line as the change and leaves
the proof of the rest (``ndjson.proof``) running for ``Cached.prove``.
"""

from __future__ import annotations

import os
import pickle
import threading
from typing import TYPE_CHECKING, Any

from ssgen.sources.filecache import RACY_NS
from ssgen.sources.inputs import digest, read_stable
from ssgen.sources.local.parse import parse_input
from ssgen.sources.ndjson.diff import splice_around
from ssgen.sources.ndjson.mapped import Kept, Mapped

if TYPE_CHECKING:
    from ssgen.config.source import SourceConfig
    from ssgen.sources.inputs import Input
    from ssgen.sources.ndjson import Data, Loaded
    from ssgen.sources.ndjson.diff import Pending, Splice
    from ssgen.sources.ndjson.proof import Proof
    from ssgen.sources.ndjson.reread import Region

Stamp = tuple[int, int, int, int]
_UNKNOWN = b"unknown"  # not the 16 bytes of any file's digest
# Two threads reading the bytes of one file while its patch is pending apply it once.
_SETTLING = threading.Lock()


class Cached:
    """One input file as last read: its stat stamp, its documents and its bytes (NDJSON:
    kept to diff the next read against, digested only when a fingerprint is asked for).
    ``racy``: the file changed within ``RACY_NS`` of the read, so a second write in the
    same timestamp tick could keep the stamp (the racy-git rule): the next reload compares
    the bytes, not the stamp. ``pending``: the patch that turns the kept bytes into the
    file's, applied before ``data`` is first read (``settle``). ``proof``: the thread
    proving that patch the whole difference (a webhook's hint, ``ndjson.proof``),
    waited for before the patch (``prove``)."""

    racy = False
    _pending: Pending | None = None
    _proof: Proof | None = None
    # The kept bytes as a snapshot's decode mapped them (``__setstate__``), in place of
    # ``data`` until the resume's re-read replaces this file's ``Cached``.
    _mapped: Mapped | None = None

    def __init__(self, stamp: Stamp, loaded: Loaded, data: Data | None,
                 digest: bytes | None = None, pending: Pending | None = None,
                 proof: Proof | None = None) -> None:
        self.stamp, self.loaded, self._data = stamp, loaded, data
        self._digest = digest
        if pending is not None:
            self._pending = pending
        if proof is not None:
            self._proof = proof

    @property
    def data(self) -> Data | None:
        """The file's bytes as last read (its pending patch applied first); None also
        when its proof failed."""
        if self._pending is not None or self._proof is not None:
            self.settle()
        return self._data

    @data.setter
    def data(self, value: Data | None) -> None:
        self.__dict__.pop("_pending", None)
        self._data = value

    @property
    def proving(self) -> bool:
        """Whether the proof of the last re-read is still to be waited for (``prove``)."""
        return self._proof is not None

    def prove(self) -> bool:
        """Wait for the proof of the last re-read, if any; False when it failed: the
        kept bytes are then forgotten and the stamp unknown, so the next reload reads the
        file whole and parses it against ``loaded`` (what the view holds)."""
        with _SETTLING:
            return self._proved()

    def _proved(self) -> bool:
        proof = self.__dict__.pop("_proof", None)
        if proof is None or proof.wait():
            return True
        self.__dict__.pop("_pending", None)
        self._data, self._digest = None, _UNKNOWN
        self.stamp, self.racy = (-1, -1, -1, -1), False
        return False

    def settle(self) -> None:
        """Apply the pending patch of the kept bytes, if any."""
        with _SETTLING:
            self._proved()
            pending = self.__dict__.pop("_pending", None)
            if pending is not None:
                assert type(self._data) is bytearray
                self._data = pending.applied(self._data)

    def own(self) -> None:
        """The kept bytes made a bytearray, which ``reread`` patches in place (read or
        resumed from a snapshot as bytes, the first re-read copied them in its round:
        70 MB at 10k starter posts, 87 ms of serve's first webhook after a start)."""
        if type(self._data) is bytes:
            self._data = bytearray(self._data)

    @property
    def kept(self) -> Kept | None:
        """The bytes ``loaded`` was parsed from, for the next read to be diffed against:
        ``data``, or the snapshot's map of them (``Mapped``)."""
        data = self.data
        return data if data is not None else self._mapped

    def __getstate__(self) -> dict[str, Any]:
        """As before the pending patch existed: its fields, ``data`` the file's bytes, as
        a ``PickleBuffer``: the snapshot's encoder writes them out of band, after the body
        (``ssgen.sources.snapshot``), and its decoder maps them back (``Mapped``)."""
        self.settle()
        state = dict(self.__dict__)
        mapped = state.pop("_mapped", None)
        data = state.pop("_data")
        data = mapped if data is None else data
        state["data"] = pickle.PickleBuffer(data) if data else data
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        state.pop("_mapped", None)
        data = state.pop("data", None)
        if type(data) is Mapped:
            self._data, self._mapped = None, data
        else:
            self._data = data
        self.__dict__.update(state)

    @property
    def digest(self) -> bytes:
        if self._digest is None:
            kept = self.kept
            if kept is None:
                self._digest = digest(b"")
            else:
                with memoryview(kept) as view:
                    self._digest = digest(view)
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
        previous.loaded, previous.kept) if previous is not None else None)


def reread(source: SourceConfig, item: Input, stamp: Stamp, old: Cached,
           line: tuple[int, int] | None = None) -> tuple[Cached, Splice]:
    """A kept source's NDJSON file: the kept bytes patched in place where the file
    differs from them (see ``ndjson.reread``), or the file read whole when that
    cannot be told. ``line``: the kept bytes' range of the one document a webhook
    named; the file is taken to differ there alone, proved by a thread (the new
    ``Cached``'s ``prove``)."""
    assert old.data is not None
    region = _logged(item, stamp, old)
    if region is None and line is not None:
        if type(old.data) is not bytearray:  # patched from now on (as below)
            old.data = bytearray(old.data)
        assert type(old.data) is bytearray
        hinted = _hinted(item, stamp, old, old.data, line)
        if hinted is not None:
            return hinted
    if region is None:
        # Only a kept file's re-read needs these (and ``proof`` ctypes): not a cold build.
        from ssgen.sources.ndjson.reread import differing_region

        region = differing_region(item.path, old.data, stamp, unmap_later=True)
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
    # In place (``own``): ``old`` is dropped by the reload (its bytes are the new
    # file's from here), and a failed splice leaves its parse as it was.
    found = splice_around(old.loaded, kept, region.prefix, region.suffix, region.middle,
                          own=True)
    if found is None:
        kept[region.prefix:len(kept) - region.suffix] = region.middle
        splice = parse_file(source, item, kept, old)
        return Cached(stamp, splice.loaded, kept), splice
    return Cached(stamp, found[0].loaded, kept, pending=found[1]), found[0]


def _logged(item: Input, stamp: Stamp, old: Cached) -> Region | None:
    """Where the file differs from the kept bytes by its change log (``ndjson.changelog``):
    only the bytes its writer says it changed are read, under the file's stamp; None when
    the log does not vouch for this change (the caller proves or compares as usual)."""
    from ssgen.sources.ndjson.changelog import logged_region, stamp_of
    from ssgen.sources.ndjson.reread import Region

    found = logged_region(item.path, old.stamp, not old.racy, stamp)
    if found is None:
        return None
    prefix, suffix = found
    size = stamp[1]
    try:
        fd = os.open(item.path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if stamp_of(fd) != stamp:
            return None
        middle = os.pread(fd, size - prefix - suffix, prefix)
        if len(middle) != size - prefix - suffix or stamp_of(fd) != stamp:
            return None
    except OSError:
        return None
    finally:
        os.close(fd)
    return Region(prefix, suffix, middle, size)


def _hinted(item: Input, stamp: Stamp, old: Cached, kept: bytearray,
            line: tuple[int, int]) -> tuple[Cached, Splice] | None:
    from ssgen.sources.ndjson.proof import hinted_region

    found = hinted_region(item.path, stamp, kept, line)
    if found is None:
        return None
    region, proof = found
    spliced = splice_around(old.loaded, kept, region.prefix, region.suffix, region.middle,
                            own=True)  # as in ``reread``
    if spliced is None:
        proof.wait()
        return None
    old.data = None  # as below: patched from here on
    old.forget_digest()
    return Cached(stamp, spliced[0].loaded, kept, pending=spliced[1], proof=proof), spliced[0]
