"""Stamps: a value key for a maintained item (or a page spec) that survives a snapshot.

A maintained query hands back the very same item object for a document whose item did
not change, and the route memos compare items by identity. Identity does not survive
being decoded apart (a record decoded on demand is a new object), so each passing entry
also carries a stamp: an int renewed whenever its item is a new object (re-projected
and not equal to the last), kept when the item is. Two equal stamps therefore stand for
the very same item value; a consumer may compare stamps where it compared items. A
whole result list has a stamp of its own too (its version), renewed whenever the query
hands out a new list, and so has each page spec (``ssgen.routes.page.PageSpec``), made
with it. A module of its own at the bottom of the layers: ``groq`` and ``routes`` take
stamps, and a new process that imports neither maintained queries nor routes' memos
pays nothing for it.

A stamp is this process's epoch (64 random bits, drawn again in a forked child) above a
counter: stamps made by different processes (a resumed snapshot's and the resuming
process's, a saving child's) never meet by accident (two epochs equal: 2**-64).
"""

from __future__ import annotations

import os
from itertools import count

_SHIFT = 64
_state: list[int] = [0]  # this process's epoch, above the counter's bits
_counter = [count(1)]


def _draw() -> None:
    _state[0] = int.from_bytes(os.urandom(8)) << _SHIFT  # not secrets: it imports hmac, base64
    _counter[0] = count(1)


_draw()
os.register_at_fork(after_in_child=_draw)


def new() -> int:
    """A stamp no other item (of any query, of any process) has."""
    return _state[0] | next(_counter[0])


__all__ = ["new"]
