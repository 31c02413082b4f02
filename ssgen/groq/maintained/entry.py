"""What a maintained query keeps per candidate document (``_Entry``; ``same_sets`` and
``item_reads_of`` keep its read sets the very objects while equal; ``recount`` the traced
ids' counts; ``columns``, ``check_columns`` and ``from_columns``: the entries as a snapshot
holds them), and
the parts of the result a re-evaluated document may change (``ITEMS``,
``ORDER``, ``TRACE``)."""

from __future__ import annotations

from operator import is_
from typing import Any

from ssgen.fastclass import dataclass

# What a re-evaluated document may change: the items shown, their order and membership,
# the read trace.
ITEMS, ORDER, TRACE = 1, 2, 4
ALL = ITEMS | ORDER | TRACE
NONE: frozenset[Any] = frozenset()


@dataclass(slots=True)
class _Entry:
    """One outer document's state in a maintained correlated query."""

    passes: bool
    keys: tuple[Any, ...]
    item: Any
    # Ids read by the filter and sort keys (the document itself if it passes), and by
    # the item's expression: a slice before the Map evaluates items only inside it.
    reads: frozenset[str]
    item_reads: frozenset[str]
    keys_read: frozenset[Any]  # index keys its subqueries looked up (ctx.keys)
    # Its item's stamp (``ssgen.stamp``): renewed with the item object, 0 when it does not pass.
    stamp: int = 0


# The fields of an entry in ``columns``' order (its constructor's).
_FIELDS = ("passes", "keys", "item", "reads", "item_reads", "keys_read", "stamp")


def columns(entries: dict[str, _Entry]) -> tuple[list[Any], ...]:
    """``entries`` as columns: their ids, then each field of every entry (``_FIELDS``),
    in one order; an empty set as one object (each entry has its own). A snapshot's
    ~60k entries at 10,000 posts then cost a list step each to encode and a ``map`` of
    the constructor to decode, not a reduction and a call (with its argument tuple)
    each. The read sets, each a ``FROZENSET`` the decoder builds (~0.3 us for one of one
    id: 58k of them ~17 ms at 10,000 posts): ``reads`` of the document itself alone
    (every passing entry's) as None, and equal ``item_reads`` as one object (the posts
    of one author and category read the same ids: decoded once)."""
    shared: dict[frozenset[str], frozenset[str]] = {}
    return ([*entries], [entry.passes for entry in entries.values()],
            [entry.keys for entry in entries.values()],
            [entry.item for entry in entries.values()],
            [None if len(entry.reads) == 1 and doc_id in entry.reads else entry.reads or NONE
             for doc_id, entry in entries.items()],
            [shared.setdefault(reads, reads) if (reads := entry.item_reads) else NONE
             for entry in entries.values()],
            [entry.keys_read or NONE for entry in entries.values()],
            [entry.stamp for entry in entries.values()])


def check_columns(found: Any) -> None:
    """A ``TypeError`` unless ``found`` is what ``columns`` gives (a damaged or hostile
    snapshot: its decode then fails), so that ``from_columns`` cannot fail later."""
    if type(found) is not tuple or len(found) != len(_FIELDS) + 1 \
            or any(type(column) is not list for column in found):
        raise TypeError("a maintained query's entries are not columns")
    ids, *fields = found
    if any(len(column) != len(ids) for column in fields) \
            or not set(map(type, ids)) <= {str}:  # in C: 30,000 ids at 10,000 posts
        raise TypeError("a maintained query's entry columns do not match")


def from_columns(found: Any) -> dict[str, _Entry]:
    """The entries ``columns`` gave (checked: ``check_columns``)."""
    check_columns(found)
    ids, passes, keys, items, reads, *rest = found
    reads = [frozenset((doc_id,)) if read is None else read
             for doc_id, read in zip(ids, reads, strict=True)]
    return dict(zip(ids, map(_Entry, passes, keys, items, reads, *rest), strict=True))


class Columned:
    """A maintained query's entries by id (``_entries``), a snapshot's made from their
    columns on first use: of the queries a resumed snapshot holds, a one-post edit reads
    a few (~40 ms of a 10,000-post snapshot's decode made all of them)."""

    _entry_map: dict[str, _Entry]
    _columns: tuple[list[Any], ...] | None  # a snapshot's entries, until first used

    @property
    def _entries(self) -> dict[str, _Entry]:
        found = self._columns
        if found is not None:
            self._entry_map, self._columns = from_columns(found), None
        return self._entry_map

    def _entry_columns(self) -> tuple[list[Any], ...]:
        """The entries as ``columns`` gives them (a snapshot's as decoded, if unused)."""
        found = self._columns
        return found if found is not None else columns(self._entry_map)


# Per entry whose item holds kept correlated lists: its item's own reads, the lists'
# traces (the very frozensets) and their union, the entry's item reads.
ItemParts = dict[str, tuple[frozenset[str], tuple[frozenset[str], ...], frozenset[str]]]


def item_reads_of(parts: ItemParts, doc_id: str, own: set[str],
                  listed: list[frozenset[str]]) -> frozenset[str]:
    """``own`` and the ``listed`` traces as one set: the last one when they are the
    same (an author's posts' trace, unchanged by a retitle: no union of its ids)."""
    if not listed:
        parts.pop(doc_id, None)
        return frozenset(own)
    mine, lists = frozenset(own), tuple(listed)
    last = parts.get(doc_id)
    if last is not None and len(last[1]) == len(lists) and all(map(is_, last[1], lists)) \
            and last[0] == mine:
        return last[2]
    union = mine.union(*lists)
    parts[doc_id] = (mine, lists, union)
    return union


def recount(counts: dict[str, int], old: frozenset[str], new: frozenset[str]) -> None:
    """Each traced id's count of entries (``counts``) after one entry's counted reads
    went from ``old`` to ``new``."""
    if old == new:
        return
    for read in new - old:
        counts[read] = counts.get(read, 0) + 1
    for read in old - new:
        left = counts[read] - 1
        if left:
            counts[read] = left
        else:
            del counts[read]


def same_sets(old: _Entry, new: _Entry, parts: ItemParts, doc_id: str) -> None:
    """Give ``new`` (``doc_id``'s entry) the very sets of ``old`` that it equals: compared
    by identity after (an author entry reads its 10,000 posts, and still does after one of
    them changed). ``parts``' union for ``doc_id`` follows the item reads it held."""
    # ``is`` first: ``==`` of two frozensets compares them whole even when identical.
    if new.reads is not old.reads and new.reads == old.reads:
        new.reads = old.reads
    if new.item_reads is not old.item_reads and new.item_reads == old.item_reads:
        union, new.item_reads = new.item_reads, old.item_reads
        kept = parts.get(doc_id)
        if kept is not None and kept[2] is union:
            # Else ``item_reads_of`` hands the union out again, and each round compares
            # it whole with the entry's (a resumed snapshot's entries: 25,000 ids each).
            parts[doc_id] = (kept[0], kept[1], old.item_reads)
    if new.keys_read is not old.keys_read and new.keys_read == old.keys_read:
        new.keys_read = old.keys_read


__all__ = ["ALL", "ITEMS", "NONE", "ORDER", "TRACE", "Columned", "ItemParts", "_Entry",
           "check_columns", "columns", "from_columns", "item_reads_of", "recount", "same_sets"]
