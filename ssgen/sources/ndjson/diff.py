"""Re-parsing only the lines of an NDJSON file that an edit changed.

Owns finding the changed region of a file against the bytes it had at the last parse
(the common prefix and suffix, compared chunk-wise at memcmp speed) and splicing the
documents parsed from that region into a copy of the previous ``Loaded``: documents,
digests, line offsets and numbers after the region shift by the byte and line deltas
without being visited (see ``Offsets``). A line of the region whose bytes are unchanged
(a moved line) keeps its document object, as every line outside the region does.
Inside the region each new line is matched with the old ones by ``ndjson.match`` (one
memcmp at the place the last match predicts, else a lookup of its digest among the old
lines'), not by slicing and hashing every old line of the region: after a few edits
since the snapshot a new process resumed, the region spans most of the file.
``splice_around`` parses a kept file's changed lines without patching its bytes yet
(``Pending``: serve moves the bytes after the change once the round has replied).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ssgen.sources.ndjson import BOM, Data, Known, Loaded, parse_lines
from ssgen.sources.ndjson.mapped import Kept
from ssgen.sources.ndjson.match import ASSET, matched_lines, matching_run
from ssgen.sources.ndjson.patching import patch_in_place


class Splice(NamedTuple):
    """A file's new parse and the documents it dropped and gained against the last one."""

    loaded: Loaded
    removed: list[dict[str, Any]]
    added: list[dict[str, Any]]
    added_digests: list[str]  # digests of ``added``, or [] when unknown


def common_prefix(old: Kept, new: Data) -> int:
    """The length of the longest common prefix of two byte strings."""
    view = memoryview(new)
    return matching_run(min(len(old), len(new)),
                         lambda done, size: old.startswith(view[done:done + size], done))


def common_suffix(old: Kept, new: Data, limit: int) -> int:
    """The length of the longest common suffix of two byte strings, at most ``limit``."""
    old_end, new_end, view = len(old), len(new), memoryview(new)
    return matching_run(limit, lambda done, size: old.endswith(
        view[new_end - done - size:new_end - done], 0, old_end - done))


def reparse(previous: Loaded, old: Kept, new: Data) -> Splice | None:
    """``previous`` (the parse of ``old``) updated to ``new``, parsing the changed lines
    only; None when the whole file must be parsed again (exported assets to restore, or
    skipped lines, whose recorded file:line the splice would not move)."""
    if previous.has_exported_assets or previous.faults:
        return None
    prefix = common_prefix(old, new)
    if prefix == len(old) == len(new):
        return Splice(previous, [], [], [])
    suffix = common_suffix(old, new, min(len(old), len(new)) - prefix)
    start = old.rfind(b"\n", 0, prefix) + 1
    newline = old.find(b"\n", len(old) - suffix)
    old_stop = len(old) if newline < 0 else newline
    new_stop = old_stop + len(new) - len(old)
    first, last = previous.starts.find(start), previous.starts.find(old_stop + 1)
    number = _line_number(previous, old, start, first)
    lines = matched_lines(previous, old, new, (first, last), (start, new_stop), number)
    if lines is None:
        if new.find(ASSET, start, new_stop) >= 0:
            return None
        known = _known_lines(previous, old, first, last)
        lines = parse_lines(new, start, new_stop, number, previous.display, known)
    if lines.faults:
        return None
    # The region's old lines, counted from the line numbers of its documents (not by
    # counting its newlines: 60 MB when a stale snapshot's region spans the file).
    line_delta = lines.count - (_line_number(previous, old, old_stop, last) - number) - 1
    loaded = _copy(previous)
    loaded.documents[first:last] = lines.documents
    loaded.digests[first:last] = lines.digests
    loaded.starts.splice(first, last, lines.starts, len(new) - len(old))
    loaded.numbers.splice(first, last, lines.numbers, line_delta)
    return Splice(loaded, previous.documents[first:last], lines.documents, lines.digests)


def patch(previous: Loaded, data: bytearray, prefix: int, suffix: int,
          middle: bytes, *, own: bool = False) -> Splice | None:
    """Like ``reparse``, for a file whose new bytes are ``data`` (the bytes ``previous``
    was parsed from) with ``data[prefix:len(data) - suffix]`` replaced by ``middle``.
    ``data`` is patched to the new bytes in place, also when None is returned (then
    parse ``data`` whole). ``own``: ``previous`` is the caller's alone and is spliced in
    place, not copied (four lists of 100,000 objects: ~9 ms, each reference count a cache
    miss in a 7 GB heap)."""
    stop = len(data) - suffix
    if prefix == stop and not middle:
        return Splice(previous, [], [], [])
    if previous.has_exported_assets or previous.faults:
        data[prefix:stop] = middle
        return None
    lines = _Lines(previous, data, prefix, suffix)  # read from ``data`` before the patch
    data[prefix:stop] = middle
    return lines.splice(data, 0, len(middle) - (stop - prefix), own)


class Pending(NamedTuple):
    """A patch of kept bytes not applied yet: ``data[start:stop] = middle``."""

    start: int
    stop: int
    middle: bytes

    def applied(self, data: bytearray) -> bytearray:
        """``data`` patched in place (``patch_in_place``: the bytes after ``stop`` moved
        outside the GIL when the sizes differ), or a patched copy when a view of ``data``
        still exported elsewhere forbids resizing it (``BufferError``): the holder of
        that view keeps the bytes it took, and the caller takes the new ones."""
        try:
            return patch_in_place(data, self.start, self.stop, self.middle)
        except BufferError:
            patched = bytearray(data[:self.start])
            patched += self.middle
            patched += memoryview(data)[self.stop:]
            return patched


def splice_around(previous: Loaded, data: Data, prefix: int, suffix: int,
                  middle: bytes, *, own: bool = False) -> tuple[Splice, Pending] | None:
    """``patch``'s splice with ``data`` left as it is: the changed lines are parsed from
    the old bytes around the change and ``middle``, and the patch is returned
    (``Pending``) for the caller to apply later: moving the bytes after the change is
    ~70 MB of memory traffic on a 70 MB file, which serve does after the round's
    replies. None: apply it now and parse the file whole (as when ``patch`` is None);
    ``previous`` is then as it was, also with ``own`` (as in ``patch``: spliced in
    place when the splice succeeds)."""
    stop = len(data) - suffix
    pending = Pending(prefix, stop, middle)
    if prefix == stop and not middle:
        return Splice(previous, [], [], []), pending
    if previous.has_exported_assets or previous.faults:
        return None
    lines = _Lines(previous, data, prefix, suffix)
    piece = b"".join((data[lines.start:prefix], middle, data[stop:lines.old_stop]))
    found = lines.splice(piece, lines.start, len(middle) - (stop - prefix), own)
    return None if found is None else (found, pending)


class _Lines:
    """The whole lines around a changed byte range of the old bytes, and what the last
    parse knows of them (their documents by line bytes, the first line's number)."""

    def __init__(self, previous: Loaded, old: Data, prefix: int, suffix: int) -> None:
        self.previous = previous
        self.start = old.rfind(b"\n", 0, prefix) + 1
        newline = old.find(b"\n", len(old) - suffix)
        self.old_stop = len(old) if newline < 0 else newline
        self.first = previous.starts.find(self.start)
        self.last = previous.starts.find(self.old_stop + 1)
        self.number = _line_number(previous, old, self.start, self.first)
        self.known = _known_lines(previous, old, self.first, self.last)
        self.old_lines = old.count(b"\n", self.start, self.old_stop) + 1

    def splice(self, new: Data, origin: int, delta: int, own: bool = False) -> Splice | None:
        """The last parse with these lines parsed again from ``new`` (the new bytes from
        file offset ``origin`` on: the old bytes with ``delta`` more bytes inside the
        range; ``own``: in place, see ``patch``); None: parse the file whole."""
        start, new_stop, previous = self.start - origin, self.old_stop + delta - origin, \
            self.previous
        if new.find(ASSET, start, new_stop) >= 0:
            return None
        lines = parse_lines(new, start, new_stop, self.number, previous.display, self.known,
                            origin)
        if lines.faults:
            return None
        first, last = self.first, self.last
        removed = previous.documents[first:last]
        loaded = previous if own else _copy(previous)
        loaded.documents[first:last] = lines.documents
        loaded.digests[first:last] = lines.digests
        loaded.starts.splice(first, last, lines.starts, delta)
        loaded.numbers.splice(first, last, lines.numbers, lines.count - self.old_lines)
        return Splice(loaded, removed, lines.documents, lines.digests)


def _line_number(loaded: Loaded, data: Kept, offset: int, index: int) -> int:
    """The line number at ``offset``; ``index``: the first document whose line starts
    there or after, so the newlines counted are those of one document's line and blank
    ones."""
    if index == 0:
        return data.count(b"\n", 0, offset) + 1
    return loaded.numbers[index - 1] + data.count(b"\n", loaded.starts[index - 1], offset)


def _known_lines(loaded: Loaded, data: Kept, first: int, last: int) -> Known:
    """The bytes of the lines of documents ``[first, last)`` -> (document, digest)."""
    known: Known = {}
    for index in range(first, last):
        start = loaded.starts[index]
        stop = data.find(b"\n", start)
        line = bytes(data[start:stop if stop >= 0 else len(data)])
        if start == 0 and line.startswith(BOM):
            line = line[len(BOM):]
        known[line] = (loaded.documents[index], loaded.digests[index])
    return known


def _copy(loaded: Loaded) -> Loaded:
    """A copy whose lists can be spliced while ``loaded`` stays as it was."""
    other = Loaded(loaded.display, loaded.documents.copy())
    other.numbers, other.starts = loaded.numbers.copy(), loaded.starts.copy()
    other.digests = loaded.digests.copy()
    return other
