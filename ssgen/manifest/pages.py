"""A process-wide copy of each manifest's page records, kept in step with writes.

``page_paths()``, ``pages_for_route()`` and ``pages_at()`` read many page rows (10k
rows: several ms each, a few times per rebuild; a paginated route's rebuild asks for
the record of each of its pages), while serve's rebuilds change a handful. The copy is
valid for one generation of the pages table (meta ``pages_generation``, replaced by
every transaction that writes pages). A commit by this process applies its page writes
to the copy; one by another process leaves the copy on an old generation, and the next
read loads the table again.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import field
from typing import Any

from ssgen.fastclass import dataclass
from ssgen.manifest.schema import PageRecord, page_record

GENERATION_KEY = "pages_generation"
Row = tuple[Any, ...]  # a ``PAGE_SELECT`` row: path, route, params (JSON), ... file


@dataclass
class PageIndex:
    """Every recorded page's row, as of one generation of the pages table."""

    generation: str
    rows: dict[str, Row]
    by_route: dict[str, set[str]] = field(default_factory=dict)
    _records: dict[str, PageRecord] = field(default_factory=dict)  # decoded on first use

    def __post_init__(self) -> None:
        for path, row in self.rows.items():
            self.by_route.setdefault(row[1], set()).add(path)

    def records(self, paths: Iterable[str]) -> dict[str, PageRecord]:
        """The records of those of ``paths`` that are recorded, by path."""
        rows, decoded = self.rows, self._records
        found: dict[str, PageRecord] = {}
        for path in paths:
            record = decoded.get(path)
            if record is None:
                row = rows.get(path)
                if row is None:
                    continue
                record = decoded[path] = page_record(row)
            found[path] = record
        return found

    def apply(self, writes: list[tuple[str, Row | None]]) -> None:
        """``(path, row)`` recorded, or ``(path, None)`` removed, in order."""
        for path, row in writes:
            old = self.rows.pop(path, None)
            self._records.pop(path, None)
            if old is not None:
                self.by_route[old[1]].discard(path)
            if row is not None:
                self.rows[path] = row
                self.by_route.setdefault(row[1], set()).add(path)


@dataclass
class PageWrites:
    """The page writes of one open transaction of one ``Manifest``."""

    writes: list[tuple[str, Row | None]] = field(default_factory=list)
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
