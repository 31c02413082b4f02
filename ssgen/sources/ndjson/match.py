"""Matching the lines of an NDJSON file's changed region with the lines it had before.

Owns ``matched_lines``: what ``parse_lines`` returns for the region when given every
old line of it as ``known`` (a new line whose bytes equal an old line's reuses that
line's document and digest; any other is parsed), without slicing and hashing each old
line. Old and new lines of an untouched stretch sit at a shift the last match
predicts, so the stretch is found at memcmp speed (chunks doubling from there) and its
lines taken in at once; a line that is not in one (an edited, inserted or moved line) is
hashed, as ``parse_lines`` hashes every line it parses, and looked up among the old
lines' recorded digests, its bytes then compared to rule out a collision. The old
lines' bytes must be distinct for the result to be ``parse_lines``'s (of equal lines,
the known dict keeps the last); when two digests are equal it returns None and the
caller uses ``parse_lines``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

from ssgen.errors import SourceError
from ssgen.sources.ndjson import BOM, Data, Fault, Lines, Loaded, line_digest, parse_line
from ssgen.sources.ndjson.mapped import Kept

_NEWLINE = 10
ASSET = b'"_sanityAsset"'  # an exported asset's line: the whole file is parsed again


_FIRST_CHUNK = 1 << 14


class _Unsure(Exception):
    """A line that ``parse_lines`` alone must see (it names an exported asset)."""


def matched_lines(previous: Loaded, old: Kept, new: Data, documents: tuple[int, int],
                  region: tuple[int, int], number: int) -> Lines | None:
    """``parse_lines(new, *region, number, previous.display, known)`` where ``known``
    holds the lines of ``previous``'s documents ``documents`` (first, last) in ``old``;
    None when two of those lines are equal (then ``parse_lines`` must decide) or a new
    line names an exported asset (the file must be parsed whole, see ``reparse``).
    ``previous`` has no faults (``reparse`` parses such a file whole): an unchanged
    stretch takes in its old lines' documents, and the lines that were faults in it would
    be missed."""
    first, last = documents
    by_digest = {previous.digests[index]: index for index in range(first, last)}
    if len(by_digest) != last - first:
        return None
    starts, numbers = previous.starts.tolist(), previous.numbers.tolist()
    out = Lines()
    try:
        _match(out, previous, (old, new), (starts, numbers), (first, last), region, number,
               by_digest)
    except _Unsure:
        return None
    return out


def _match(out: Lines, previous: Loaded, data: tuple[Kept, Data],
           lines: tuple[list[int], list[int]], documents: tuple[int, int],
           region: tuple[int, int], number: int, by_digest: dict[str, int]) -> None:
    """Take in each line of ``region``: with a stretch of old lines, alone with the old
    line expected there, with the old line of its digest, or parsed."""
    (old, new), (starts, numbers), (expected, last), (offset, stop) = data, lines, documents, region
    old_view = memoryview(old)
    while offset <= stop:
        if expected < last and offset and starts[expected]:
            expected, after = _stretch(out, previous, (old, new), (starts, numbers),
                                       (expected, last), (offset, stop), number)
            if after != offset:
                offset = after
                continue
        end = new.find(b"\n", offset, stop)
        end = stop if end < 0 else end
        out.count += 1
        if expected < last and offset and _same(old, old_view, starts[expected], new, offset, end):
            _append(out, previous, expected, offset, number)
            expected += 1
        else:
            expected = _unmatched(out, previous, old, new[offset:end], offset, number,
                                  by_digest, starts, expected)
        offset = end + 1


def _stretch(out: Lines, previous: Loaded, data: tuple[Kept, Data],
             lines: tuple[list[int], list[int]], documents: tuple[int, int],
             region: tuple[int, int], number: int) -> tuple[int, int]:
    """Take in at once the old lines from ``documents[0]`` on that recur unchanged, each
    with its newline, from ``region[0]`` on (found at memcmp speed); the next old line to
    expect and the offset after them (the same two when none does)."""
    (old, new), (starts, numbers), (expected, last), (offset, stop) = data, lines, documents, region
    base, view = starts[expected], memoryview(new)
    run = matching_run(min(stop - offset, len(old) - base), lambda done, size: old.startswith(
        view[offset + done:offset + done + size], base + done))
    end, index = -1, bisect_left(starts, base + run, expected, last)
    while index > expected:  # the last line starting in the run may end past it
        end = old.find(b"\n", starts[index - 1])
        if 0 <= end < base + run:
            break
        index -= 1
    if index == expected:
        return expected, offset
    shift, line_shift = offset - base, number + out.count - numbers[expected]
    out.documents += previous.documents[expected:index]
    out.digests += previous.digests[expected:index]
    out.starts += [value + shift for value in starts[expected:index]]
    out.numbers += [value + line_shift for value in numbers[expected:index]]
    out.count += numbers[index - 1] - numbers[expected] + 1
    return index, end + shift + 1


def matching_run(limit: int, matches: Callable[[int, int], bool]) -> int:
    """How far ``matches(done, size)`` (the next ``size`` bytes after ``done`` agree)
    holds, up to ``limit``: chunks doubling while they match, halving to find the end,
    so the comparison runs at memcmp speed with few Python steps."""
    done, size = 0, _FIRST_CHUNK
    while done < limit:
        size = min(size, limit - done)
        if matches(done, size):
            done, size = done + size, size * 2
        elif size == 1:
            break
        else:
            size //= 2
    return done


def _same(old: Kept, old_view: memoryview, old_start: int, new: Data,
          start: int, end: int) -> bool:
    """Whether the old line at ``old_start`` is the new line ``new[start:end]`` (not
    for the old file's first line, whose byte order mark ``parse_lines`` drops)."""
    if old_start == 0:
        return False
    old_end = old_start + end - start
    if old_end > len(old) or (old_end < len(old) and old[old_end] != _NEWLINE):
        return False
    return new.startswith(old_view[old_start:old_end], start)


def _append(out: Lines, previous: Loaded, index: int, offset: int, number: int) -> None:
    out.documents.append(previous.documents[index])
    out.digests.append(previous.digests[index])
    out.starts.append(offset)
    out.numbers.append(number + out.count - 1)


def _unmatched(out: Lines, previous: Loaded, old: Kept, line: Data, offset: int,
               number: int, by_digest: dict[str, int], starts: list[int],
               expected: int) -> int:
    """Take in a line not found at its predicted place; the old line to expect next."""
    if offset == 0 and line.startswith(BOM):  # as parse_lines does
        line = line[len(BOM):]
    if not line.strip():
        return expected
    if ASSET in line:
        raise _Unsure
    digest = line_digest(line)
    index = by_digest.get(digest)
    if index is not None and _old_line(old, starts[index]) == line:
        _append(out, previous, index, offset, number)
        return index + 1
    at = number + out.count - 1
    try:
        doc = parse_line(line, previous.display, at)
    except SourceError as exc:
        out.faults.append(Fault(f"{previous.display}:{at}", f"{exc}; the line is skipped"))
        return expected
    out.documents.append(doc)
    out.digests.append(digest)
    out.starts.append(offset)
    out.numbers.append(at)
    return expected + 1  # an edited line in place of the one expected


def _old_line(old: Kept, start: int) -> bytes:
    stop = old.find(b"\n", start)
    line = bytes(old[start:stop if stop >= 0 else len(old)])
    return line[len(BOM):] if start == 0 and line.startswith(BOM) else line


__all__ = ["matched_lines"]
