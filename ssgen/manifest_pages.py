"""A process-wide copy of each manifest's page path -> route map, kept in step with writes.

``page_paths()`` and ``pages_for_route()`` read every page row (10k rows: several ms
each, a few times per rebuild), while serve's rebuilds change a handful. The copy is
valid for one generation of the pages table (meta ``pages_generation``, replaced by
every transaction that writes pages). A commit by this process applies its page writes
to the copy; one by another process leaves the copy on an old generation, and the next
read loads the table again.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

GENERATION_KEY = "pages_generation"


@dataclass
class PageIndex:
    """Every recorded page's route, as of one generation of the pages table."""

    generation: str
    route_of: dict[str, str]
    by_route: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path, route in self.route_of.items():
            self.by_route.setdefault(route, set()).add(path)

    def apply(self, writes: list[tuple[str, str | None]]) -> None:
        """``(path, route)`` recorded, or ``(path, None)`` removed, in order."""
        for path, route in writes:
            old = self.route_of.pop(path, None)
            if old is not None:
                self.by_route[old].discard(path)
            if route is not None:
                self.route_of[path] = route
                self.by_route.setdefault(route, set()).add(path)


@dataclass
class PageWrites:
    """The page writes of one open transaction of one ``Manifest``."""

    writes: list[tuple[str, str | None]] = field(default_factory=list)
    rolled_back: bool = False  # a savepoint undid some: the writes list is not the truth

    @property
    def touched(self) -> bool:
        """Whether the transaction wrote (or tried to write) pages."""
        return bool(self.writes) or self.rolled_back


_INDEXES: dict[str, PageIndex] = {}
_LOCK = threading.Lock()


def new_generation() -> str:
    """A generation id no other transaction has written."""
    return uuid.uuid4().hex


def cached(key: str, generation: str | None) -> PageIndex | None:
    """The copy for the manifest at ``key`` if it is of this ``generation``."""
    with _LOCK:
        index = _INDEXES.get(key)
    return index if index is not None and generation and index.generation == generation \
        else None


def store(key: str, index: PageIndex) -> None:
    """Keep ``index`` as the copy of the manifest at ``key``."""
    with _LOCK:
        _INDEXES[key] = index


def committed(key: str, before: str | None, after: str, writes: PageWrites) -> None:
    """After a commit that moved the pages table from generation ``before`` to ``after``:
    bring the copy along, or drop it when it was not of ``before`` or cannot follow."""
    with _LOCK:
        index = _INDEXES.get(key)
        if index is None:
            return
        if writes.rolled_back or not before or index.generation != before:
            del _INDEXES[key]
            return
        index.apply(writes.writes)
        index.generation = after
