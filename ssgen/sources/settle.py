"""Reading a dataset file only once its writer has finished with it.

Owns the rule that an NDJSON or export file's bytes are trusted only when the file held
still across the read (its stamp before equals its stamp after) and its last write is at
least ``SETTLE_NS`` old. A file rewritten in place is, between the writer's ``write``
calls, a valid prefix of itself: read then, it parses cleanly and drops every document
not yet written, and the build removes their pages. Webhooks are sent after the CMS
commits and ``--watch`` waits for saves to settle, but a reload that trusted any stamp
would still catch a slow writer mid-file. A writer that pauses longer than
``SETTLE_NS`` mid-file cannot be told from one that finished: writing the file elsewhere
and renaming it into place is the safe way (docs/sources.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ssgen.errors import SourceError
from ssgen.sources.filecache import Stamp

Stat = Callable[[], Stamp]  # the file's stamp now (a ``SourceError`` if it is gone)
Read = Callable[[int], bytes]  # the file's bytes, given the size it was just stat'ed at

SETTLE_NS = 10_000_000  # a write this recent may be one of several: wait this long for more
PATIENCE_NS = 5_000_000_000  # then give up: the file keeps changing


class Clock:
    """The time and the sleep ``settled`` uses (a seam: tests step a writer in ``sleep``)."""

    def __init__(self, now: Callable[[], int] = time.time_ns,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.now, self.sleep = now, sleep


CLOCK = Clock()


def settled(name: str, stat: Stat, stamp: Stamp) -> Stamp:
    """The file's stamp once no write has touched it for ``SETTLE_NS`` (``stamp``: as
    just stat'ed); a ``SourceError`` naming the file (``name``) if it keeps changing."""
    clock = CLOCK  # looked up at each call: tests put a virtual clock here
    give_up = clock.now() + PATIENCE_NS
    while True:
        age = clock.now() - stamp[0]  # since the last write (a rename or chmod writes nothing)
        if age >= SETTLE_NS:
            return stamp
        if clock.now() > give_up:
            raise SourceError(
                f"{name}: still being written after {PATIENCE_NS // 10**9} s, so "
                "it was not read; the site keeps its previous content. Write the file "
                "elsewhere and rename it into place.")
        clock.sleep((SETTLE_NS - max(age, 0)) / 1e9)
        stamp = stat()


def read_settled(name: str, stat: Stat, read: Read, stamp: Stamp) -> tuple[Stamp, bytes]:
    """The file's bytes and the stamp they are the bytes of: read once the file has
    settled (``settled``), and again if a write lands during the read."""
    clock = CLOCK  # looked up at each call: tests put a virtual clock here
    give_up = clock.now() + PATIENCE_NS
    while True:
        stamp = settled(name, stat, stamp)
        data = read(stamp[1])
        after = stat()
        if after == stamp and len(data) == stamp[1]:
            return stamp, data
        if clock.now() > give_up:
            raise SourceError(
                f"{name}: changed during every read for {PATIENCE_NS // 10**9} s; "
                "the site keeps its previous content. Write the file elsewhere and rename "
                "it into place.")
        stamp = after
