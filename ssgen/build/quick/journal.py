"""The quick plan's journal: what the quick builds since the plan was written noted.

Owns the file beside the plan (``<plan>.journal``: ``notes`` reads it, ``note`` writes
it, ``apply`` writes its notes into a plan's columns) and the packed columns' formats
(``STAMP``, ``OUTPUT``). A note is an input's new stamp, digest and trust, an output
file's new size, mtime and hash, and, after an edit of a field a list reads
(``ssgen.build.quick.relist``), the file's new view and list document and the list
pages' new data hashes. The plan itself (a few MB at 16k files) is not written again.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import struct
import zlib
from typing import Any

JOURNAL = ".journal"  # beside the plan: what the quick builds since it noted
MOST_NOTES = 4096  # notes from which the journal is dropped with the plan

Stamp = tuple[int, int, int, int]  # mtime_ns, size, inode, ctime_ns (``filecache``'s)
# The columns are packed, so that reading the plan makes a few large bytes objects, not
# 16k tuples of each: an input's stamp, an output's (size, mtime_ns), an input's offset.
STAMP = struct.Struct("<qqqq")
OUTPUT = struct.Struct("<qq")

Inputs = dict[int, tuple[Stamp, bytes, bool]]
Outputs = dict[int, tuple[int, int, bytes | None]]
# The list notes: "docs" (input -> (view, list document)), "hashes" (list page -> hash).
Lists = dict[str, dict[int, Any]]
Notes = tuple[Inputs, Outputs, int | None, bool, Lists]


def drop(target: str) -> None:
    """Remove the plan file ``target`` and its journal."""
    for path in (target, target + JOURNAL):
        with contextlib.suppress(OSError):
            os.unlink(path)


def notes(target: str, check: bytes) -> Notes | None:
    """The journal's notes on the plan file ``target`` whose ``check`` it names (none:
    no journal, or one of another plan; None: a journal in doubt, so no plan)."""
    try:
        with open(target + JOURNAL, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return {}, {}, None, False, {}
    except OSError:
        return None
    body = data[4:]
    if zlib.crc32(body).to_bytes(4, "little") != data[:4]:
        return None
    try:
        found = marshal.loads(body)
    except (ValueError, EOFError, TypeError):
        return None
    if type(found) is not tuple or len(found) != 6:
        return None
    if found[0] != check:
        return {}, {}, None, False, {}
    kept: Notes = found[1:]
    return kept


def apply(plan: dict[str, Any], inputs: Inputs, outputs: Outputs, lists: Lists) -> None:
    """The notes written into the plan's columns (the list documents and data hashes are
    left in ``plan["list_notes"]`` for ``relist``, which alone reads them)."""
    stamps, digests, trusted, views = (bytearray(plan[name]) for name in (
        "stamps", "digests", "trusted", "views"))
    for at, (stamp, digest, sure) in inputs.items():
        STAMP.pack_into(stamps, at * STAMP.size, *stamp)
        digests[at * 16:(at + 1) * 16] = digest
        trusted[at] = sure
    for at, (view, _) in lists.get("docs", {}).items():
        views[at * 16:(at + 1) * 16] = view
    stats, hashes = bytearray(plan["stats"]), bytearray(plan["hashes"])
    for at, (size, mtime, output_hash) in outputs.items():
        OUTPUT.pack_into(stats, at * OUTPUT.size, size, mtime)
        if output_hash is not None:
            hashes[at * 32:(at + 1) * 32] = output_hash
    plan.update(stamps=bytes(stamps), digests=bytes(digests), trusted=bytes(trusted),
                views=bytes(views), stats=bytes(stats), hashes=bytes(hashes), list_notes=lists)


def note(target: str, plan: dict[str, Any], inputs: Inputs, outputs: Outputs, *, racy: int,
         dirty: bool, lists: Lists | None = None) -> bool:
    """Add to the journal of the plan file ``target`` what a quick build found and wrote;
    False: not written, and no plan left."""
    kept_inputs, kept_outputs, _, was_dirty, kept_lists = plan["notes"]
    # An output noted again with its bytes unchanged (None) keeps the hash noted before.
    merged = ({**kept_inputs, **inputs}, {**kept_outputs, **{
        at: (size, mtime, kept_outputs[at][2] if digest is None and at in kept_outputs
             else digest)
        for at, (size, mtime, digest) in outputs.items()}},
        {kind: {**kept_lists.get(kind, {}), **(lists or {}).get(kind, {})}
         for kind in ("docs", "hashes")})
    if len(merged[0]) + len(merged[1]) + sum(map(len, merged[2].values())) > MOST_NOTES:
        drop(target)  # the next ordinary build writes a plan afresh
        return False
    try:
        body = marshal.dumps((plan["check"], *merged[:2], racy, dirty or was_dirty,
                              merged[2]))
    except ValueError:
        drop(target)
        return False
    journal = target + JOURNAL
    temp = f"{journal}.{os.getpid()}.tmp"
    try:
        with open(temp, "wb") as handle:
            handle.write(zlib.crc32(body).to_bytes(4, "little") + body)
        os.replace(temp, journal)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        drop(target)
        return False
    return True


__all__ = ["JOURNAL", "MOST_NOTES", "OUTPUT", "STAMP", "Notes", "Stamp", "apply", "drop",
           "note", "notes"]
