"""A snapshot body's per-document records: written after the value, filled into its shells.

Owns ``encode`` and ``Filling``. The dicts of ``groups`` (a snapshot's documents, each
with its maintained items: ``records.groups``) are written *empty* where the value holds
them (shells: one empty dict each, made by a prefix before the value, every reference to
it by its memo index), and each group's contents after the value as a record of its own
(one pickle). The value is written with the shared short strings of the documents
(``pool``), the groups' ids and sizes beside it, so that a record rarely needs more than
the value. The pool written holds too the key objects of the groups' dicts that it lacks
(``_with_keys``): a maintained item's keys are its projection's objects (``slug``,
``publishedAt``), one per query, not the documents' pooled ones, and the first record to
write one would be the one that every later record refers to (at 10,000 posts each new
process missed three such records: ~60 ms of the decoder's memo copied, ``_renew``).

A record decodes alone, in any order, after the value: it is written in pickle protocol 3,
whose memo writes name their index (``PUT n``, not protocol 4's implicit ``MEMOIZE``),
numbered on from the value's memo in the order the records are written. A record then
refers to the value's objects, its own, or an earlier record's at that record's own
indices: decoded before, that is the very object; not decoded yet, the decoder raises
("memo value not found at index n"), and ``Filling`` fills the record that wrote index
n (the records' first indices bisected) and tries again. Never another object at that
index. A fill reads its records in file order, each one read ahead whole; a load that
failed leaves the rest of its record in the decoder's buffer, so the decoder is replaced
by one holding its memo before the retry.

``Filling`` keeps the decoder (and its memo) after the value: ``fill(ids)`` fills the
shells of those documents' groups, and of any shell their contents hold (another
document an item holds), each record's CRC-32 checked first; ``fill_all()`` the rest, in
order. Every holder of a document or item holds the very dict that is filled: identity
kept, no subclass. A record damaged, out of place or of another shape is ``Refused``
(the caller loads the files whole).
"""

from __future__ import annotations

import bisect
import io
import itertools
import operator
import pickle
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from ssgen import shells as shells_mod
from ssgen.sources.snapshot import codec

# The shells' prefix: PROTO 5, MARK, then per shell EMPTY_DICT MEMOIZE, then LIST STOP.
_PREFIX, _SHELL, _CLOSE = b"\x80\x05(", b"}\x94", b"l."
_RECORDS = 3  # the records' pickle protocol: memo writes name their index
_MISSED = re.compile(r"Memo value not found at index (\d+)")  # CPython's words


def _first_index(record: memoryview) -> int | None:
    """The memo index of a record's first dict (``PROTO 3``, the int ``at``, a ``MARK``
    when the group holds more than three objects (a tuple of more than three), then
    ``EMPTY_DICT``, ``BINPUT``/``LONG_BINPUT``), None if it does not start so."""
    head = bytes(record[:16])
    width = {b"K": 1, b"M": 2, b"J": 4}.get(head[2:3])
    if head[:2] != b"\x80\x03" or width is None:
        return None
    put = 3 + width + (head[3 + width:4 + width] == b"(")
    if head[put:put + 1] != b"}":
        return None
    put += 1
    if head[put:put + 1] == b"q":
        return head[put + 1]
    if head[put:put + 1] == b"r":
        return int.from_bytes(head[put + 1:put + 5], "little")
    return None


def _id_entry(obj: dict[str, Any]) -> Any:
    """What the shells' table says of ``obj``'s ``_id``: ``dict.get``'s value when a
    string or None, False when it is another value (a reader must fill it to tell)."""
    found = obj.get("_id")
    return found if found is None or type(found) is str else False


def encode(value: Any, groups: Sequence[Sequence[dict[str, Any]]], pool: list[str],
           buffers: list[pickle.PickleBuffer] | None = None) -> tuple[bytes, list[int]]:
    """``value`` as ``codec.encode`` writes it, the dicts of ``groups`` (each object in one
    group; a group's first its document, with a string ``_id``) as shells filled by one
    record per group (see the module docstring), ``pool`` written with the value. Returns
    the stream and the end of its shells' prefix, of the value, and of each record in it."""
    out = io.BytesIO()
    shells = [obj for group in groups for obj in group]
    out.write(_PREFIX + _SHELL * len(shells) + _CLOSE)
    pickler = codec._Encoder(out, protocol=5,
                             buffer_callback=None if buffers is None else buffers.append)
    pickler.memo = {id(obj): (index, obj) for index, obj in enumerate(shells)}
    ends = [out.tell()]
    pickler.dump((value, _with_keys(pool, groups), [group[0]["_id"] for group in groups],
                  [len(group) for group in groups], [_id_entry(obj) for obj in shells]))
    ends.append(out.tell())
    records = codec._Encoder(out, protocol=_RECORDS)
    records.memo = pickler.memo  # a copy: numbered on from the value's
    at = 0
    for group in groups:
        # The contents as new dicts (what a record holds), the shells by reference.
        records.dump((at, tuple([dict(obj) for obj in group])))
        at += len(group)
        ends.append(out.tell())
    return out.getvalue(), ends


def _empty_dicts(shells: list[Any]) -> bool:
    """Whether ``shells`` are all empty plain dicts (checked in C: 30,000 at 10,000 posts)."""
    return not any(shells) and set(map(type, shells)) <= {dict}


def _with_keys(pool: list[str], groups: Sequence[Sequence[dict[str, Any]]]) -> list[str]:
    """``pool`` and, after it, each string key object of the groups' dicts that is not
    one of its objects (by identity: an equal string of another object is another memo
    entry). Only the dicts' own keys: a walk of all they hold costs seconds at 10,000
    posts, and their nested dicts' keys are the documents' (pooled) or the value's."""
    keys: dict[int, Any] = {}
    for group in groups:
        for obj in group:
            keys.update(zip(map(id, obj), obj, strict=True))
    for text in pool:
        keys.pop(id(text), None)
    return [*pool, *[key for key in keys.values() if type(key) is str]]


class Filling:
    """The records of a decoded body, filled into their shells on demand (see the module
    docstring). ``decode`` makes one; ``close`` lets go of the decoder and the data."""

    def __init__(self, decoder: codec._Decoder, stream: codec._InPlace, data: memoryview,
                 ends: Sequence[int], crcs: Sequence[int], whole: int) -> None:
        self._decoder: codec._Decoder | None = decoder
        self._stream, self._data = stream, data
        self._ends, self._crcs, self.whole = list(ends), list(crcs), whole
        shells = decoder.load()
        if type(shells) is not list or stream.at != self._ends[0] \
                or not _empty_dicts(shells):
            raise codec.Refused("not a source snapshot: no shells")
        if shells_mod.STRICT:
            shells = _strict(decoder, len(shells))
        stream.seek(self._ends[0], self._ends[1])
        found = decoder.load()
        if stream.at != self._ends[1] or type(found) is not tuple or len(found) != 5:
            raise codec.Refused("not a source snapshot: the value's end")
        self.value, self.pool, ids, sizes, self._keys = found
        self._shells: list[dict[str, Any]] = shells
        self._check(ids, sizes)
        self._at: dict[int, int] | None = None  # id(shell) -> its place in ``_shells``
        self._ids: list[str] = ids
        self._starts = list(itertools.accumulate(sizes, initial=0))
        self._filled = bytearray(len(ids))
        self.unfilled = len(shells)
        self._index: dict[str, int] | None = None
        self._owner: dict[int, int] | None = None
        self.misses = 0  # records that needed an earlier one's objects
        self._new: list[int] = []  # filled since ``fill`` last looked

    def _check(self, ids: Any, sizes: Any) -> None:
        if type(ids) is not list or type(sizes) is not list or len(ids) != len(sizes) \
                or len(ids) != len(self._ends) - 2 or len(self._crcs) != len(ids) \
                or not all(type(size) is int and size > 0 for size in sizes) \
                or sum(sizes) != len(self._shells) or type(self._keys) is not list \
                or len(self._keys) != len(self._shells):
            raise codec.Refused("not a source snapshot: the records' index")

    def fill(self, ids: Iterable[str]) -> None:
        """Fill the groups of the documents ``ids`` (ids without one: nothing), and every
        shell their contents hold; ``Refused`` when a record is not as written."""
        _refusing(self._fill_ids, ids)

    def _fill_ids(self, ids: Iterable[str]) -> None:
        if self._index is None:
            self._index = {doc_id: group for group, doc_id in enumerate(self._ids)}
        self._fill_groups([self._index[doc_id] for doc_id in ids if doc_id in self._index])

    def _fill_groups(self, pending: list[int]) -> None:
        """Fill the groups ``pending`` in file order, then those their contents hold."""
        while pending:
            for group in sorted(set(pending)):
                if not self._filled[group]:
                    self._fill(group, True)
            pending = []
            while self._new:  # those filled, and any earlier record they needed
                pending.extend(self._held(self._new.pop()))

    def shell_id(self, obj: object) -> Any:
        """``obj``'s ``_id`` as ``dict.get`` gives it: from the shells' table when it is
        an unfilled shell (``ssgen.shells.UNKNOWN`` when the table cannot tell)."""
        at = self._place(obj)
        if at is None:
            return obj.get("_id") if isinstance(obj, dict) else None
        found = self._keys[at]
        return shells_mod.UNKNOWN if found is False or (found is not None and type(found)
                                                         is not str) else found

    def is_unfilled(self, obj: object) -> bool:
        """Whether ``obj`` is one of the shells, its record not filled yet."""
        return self._place(obj) is not None

    def fill_objects(self, objs: Iterable[object]) -> None:
        """Fill the groups of those of ``objs`` that are unfilled shells (see ``fill``)."""
        _refusing(self._fill_objects, objs)

    def _fill_objects(self, objs: Iterable[object]) -> None:
        pending = [bisect.bisect_right(self._starts, at) - 1 for obj in objs
                   if (at := self._place(obj)) is not None]
        self._fill_groups(pending)

    def _place(self, obj: object) -> int | None:
        """The place of ``obj`` among the shells when it is an unfilled one."""
        if self.unfilled == 0 or (type(obj) is not dict and \
                type(obj) is not shells_mod.StrictShell):
            return None
        if self._at is None:
            self._at = dict(zip(map(id, self._shells), range(len(self._shells)), strict=True))
        at = self._at.get(id(obj))
        if at is None:
            return None
        group = bisect.bisect_right(self._starts, at) - 1
        return None if self._filled[group] else at

    def fill_all(self, checked: bool = False) -> None:
        """Fill every shell not filled yet, in order. ``checked``: the caller compares
        the records' CRC-32 (``whole``) before it uses them; else one CRC-32 of all of
        them when none was filled before, each one's otherwise."""
        _refusing(self._fill_rest, checked)

    def _fill_rest(self, checked: bool) -> None:
        whole = self.unfilled == len(self._shells)
        if whole and not checked:
            start, end = self._ends[1], self._ends[-1]
            if zlib.crc32(self._data[start:end]) != self.whole:
                raise codec.Refused("not a source snapshot: a record damaged")
        for group in range(len(self._ids)):
            if not self._filled[group]:
                self._fill(group, not whole)
        self._new.clear()

    def _fill(self, group: int, check: bool) -> None:
        """Fill one group; ``check``: a lazy fill (its CRC-32 checked)."""
        start, end = self._ends[group + 1], self._ends[group + 2]
        if check and zlib.crc32(self._data[start:end]) != self._crcs[group]:
            raise codec.Refused("not a source snapshot: a record damaged")
        while True:
            try:
                record = self._load(start, end)
                break
            except pickle.UnpicklingError as exc:  # an earlier record's object it refers to
                self.misses += 1
                self._renew()
                self._fill_needed(group, exc, check)
        at, size = self._starts[group], self._starts[group + 1] - self._starts[group]
        if type(record) is not tuple or len(record) != 2 or record[0] != at \
                or type(record[1]) is not tuple or len(record[1]) != size:
            raise codec.Refused("not a source snapshot: a record out of place")
        for shell, contents in zip(self._shells[at:at + size], record[1], strict=True):
            if type(contents) is not dict:
                raise codec.Refused("not a source snapshot: a record of another shape")
            shells_mod.become_dict(shell)
            shell.update(contents)
        self._filled[group] = 1
        self._new.append(group)
        self.unfilled -= size

    def _fill_needed(self, group: int, exc: Exception, check: bool) -> None:
        """Fill the earlier record that wrote the memo index a load of ``group`` missed;
        ``Refused`` when there is none left to fill (a record of ours always tells its
        owner: a forged one is not searched for)."""
        found = _MISSED.fullmatch(str(exc))
        owner = self._owner_of(int(found[1]), group) if found else None
        if owner is None or self._filled[owner]:
            raise codec.Refused(f"not a source snapshot: {exc}"[:300]) from exc
        self._fill(owner, check)

    def _owner_of(self, index: int, group: int) -> int | None:
        """The record before ``group`` whose first memo index is the last at or below
        ``index`` (bisected: a record's first memo write is its first dict's)."""
        low, high = 0, group
        while low < high:
            middle = (low + high) // 2
            first = _first_index(self._data[self._ends[middle + 1]:self._ends[middle + 2]])
            if first is None:
                return None
            if first <= index:
                low = middle + 1
            else:
                high = middle
        return low - 1 if low > 0 else None

    def _load(self, start: int, end: int) -> Any:
        assert self._decoder is not None, "the filling was closed"
        self._stream.seek(start, end)
        record = self._decoder.load()
        if self._stream.at != end:
            raise codec.Refused("not a source snapshot: a record's end")
        return record

    def _renew(self) -> None:
        """A new decoder holding the last one's memo (a C-level copy, ~3 M entries at
        10,000 posts): a load that failed mid-record leaves the rest of that record read
        ahead in its decoder's buffer, which the next load would take first."""
        assert self._decoder is not None, "the filling was closed"
        fresh = codec._Decoder(cast(Any, self._stream))
        fresh.memo = self._decoder.memo
        self._decoder = fresh

    def _held(self, group: int) -> list[int]:
        """The other unfilled groups whose shells the contents of ``group`` hold."""
        if self._owner is None:
            sizes = map(operator.sub, self._starts[1:], self._starts)
            self._owner = dict(zip(map(id, self._shells), itertools.chain.from_iterable(
                map(itertools.repeat, itertools.count(), sizes)), strict=True))
        owner, found = self._owner, []
        stack: list[Any] = list(self._shells[self._starts[group]:self._starts[group + 1]])
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            items = node.values() if type(node) is dict else node
            for item in items:
                kind = type(item)
                if (kind is dict or kind is list or kind is shells_mod.StrictShell) \
                        and id(item) not in seen:
                    seen.add(id(item))
                    other = owner.get(id(item))
                    if other is None:
                        stack.append(item)
                    elif other != group and not self._filled[other]:
                        found.append(other)
        return found

    @property
    def decoder(self) -> Any:
        """The decoder, while not closed."""
        return self._decoder

    def close(self) -> Any:
        """Let go of the decoder and the data (after ``fill_all``, or to give up); the
        decoder, which a process that exits right after may keep (``codec.decode``'s
        ``leave``)."""
        decoder, self._decoder = self._decoder, None
        self._data.release()
        return decoder


def _strict(decoder: codec._Decoder, count: int) -> list[dict[str, Any]]:
    """The shells as ``StrictShell``s (``ssgen.shells.STRICT``), put in the decoder's
    memo where the prefix's empty dicts were, so that the value holds them. (A memo set
    from a dict is lost in CPython 3.11: it is copied from another decoder's, which
    made them from these trusted bytes.)"""
    made = b"cssgen.shells\nStrictShell\n)R\x94"  # GLOBAL, EMPTY_TUPLE, REDUCE, MEMOIZE
    maker = pickle.Unpickler(io.BytesIO(_PREFIX + made * count + _CLOSE))
    shells: list[dict[str, Any]] = maker.load()
    decoder.memo = maker.memo
    return shells


def _refusing(call: Callable[[Any], None], argument: Any) -> None:
    """``call(argument)``, any error but ``Refused`` made one (a forged record whose
    CRC-32 matches, say)."""
    try:
        call(argument)
    except codec.Refused:
        raise
    except Exception as exc:
        raise codec.Refused(f"not a source snapshot: {exc!r}"[:300]) from exc


def decode(data: memoryview, start: int, buffers: Iterable[Any], ends: Sequence[int],
           crcs: Sequence[int], whole: int) -> Filling:
    """The body ``encode`` wrote at ``data[start:]`` (a view the filling holds until it is
    closed), its value decoded, its records left to fill; ``Refused`` for anything
    else (never another error)."""
    view = data[start:]
    stream = codec._InPlace(view)
    stream.seek(0, ends[0])
    decoder = codec._Decoder(cast(Any, stream), buffers=buffers)  # views: see ``_InPlace``
    try:
        return Filling(decoder, stream, view, ends, crcs, whole)
    except codec.Refused:
        view.release()
        raise
    except Exception as exc:  # truncated, bit-flipped, forged: all just not a snapshot
        view.release()
        raise codec.Refused(f"not a source snapshot: {exc!r}"[:300]) from exc


__all__ = ["Filling", "decode", "encode"]
