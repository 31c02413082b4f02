"""The kept NDJSON bytes a snapshot holds out of band (``ssgen.sources.snapshot``'s
buffers, ``ssgen.sources.ndjson.mapped``): written after the body, mapped on their own at
the decode, diffed against in place by the resume, never a copy in the heap; a buffer
that is damaged, misplaced, garbage under a good checksum, or missing is never taken for
the bytes the documents were parsed from: the load is refused, or the diff parses what
differs, and the output equals a clean full build.

Mutants caught (``/tmp/a21/mutants.sh``, each against this file): ``Mapped.endswith``
ignoring its ``end``; ``Mapped.count`` ignoring its ``end``; the ``Cached`` state writing
its bytes in band (no buffer in the file); the table's offsets not checked (a buffer at
the file's head taken for the kept bytes); the checksum over the body only (a flipped
byte of the kept bytes resumed).
"""

from __future__ import annotations

import mmap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import CardSite, full_card_build, new_process, output_files, retitle, snapshot_file

from ssgen.config.load import load_config
from ssgen.sources import snapshot as snap
from ssgen.sources.ndjson.mapped import Mapped
from ssgen.sources.snapshot import records

HEAD = len(snap.MAGIC) + snap._KEY + snap._SUM


def _mapped(path: Path, data: bytes, offset: int = 0) -> Mapped:
    path.write_bytes(bytes(offset) + data)
    with open(path, "rb") as file:
        return Mapped(file.fileno(), len(data), access=mmap.ACCESS_READ, offset=offset)


@settings(max_examples=60, deadline=None)
@given(data=st.lists(st.sampled_from([b"\n", b"a", b"b"]), min_size=1, max_size=40).map(
    b"".join),
       sub=st.sampled_from([b"", b"\n", b"a", b"\na", b"a\n"]),
       start=st.integers(0, 45), end=st.integers(0, 45))
def test_mapped_bytes_answer_as_bytes_do(tmp_path_factory: pytest.TempPathFactory,
                                         data: bytes, sub: bytes, start: int, end: int) -> None:
    """``startswith``, ``endswith``, ``count``, ``find`` and slices of a map (at an offset
    too) agree with the same bytes' (for the offsets the diff passes: from 0 on)."""
    folder = tmp_path_factory.mktemp("mapped")
    for offset in (0, mmap.ALLOCATIONGRANULARITY):
        kept = _mapped(folder / f"m{offset}", data, offset)
        start, end = start % (len(data) + 2), end % (len(data) + 2)  # around the end too
        assert kept.startswith(sub, start) == data.startswith(sub, start)
        assert kept.endswith(sub, start, end) == data.endswith(sub, start, end)
        assert kept.endswith(sub) == data.endswith(sub)
        assert kept.count(b"\n", start, end) == data.count(b"\n", start, end)
        assert kept.find(b"\n", start) == data.find(b"\n", start)
        assert kept.rfind(b"\n", 0, end) == data.rfind(b"\n", 0, end)
        assert kept[start:end] == data[start:end] and len(kept) == len(data)
        kept.close()


def _built(tmp_path: Path) -> tuple[CardSite, Path]:
    site, root = CardSite(), tmp_path / "site"
    site.write(root)
    new_process(root)
    return site, root


def _end(data: bytes) -> int:
    """Where the buffers' table ends: before the records' table (``records``)."""
    found = records.read(data, HEAD)
    assert found is not None
    return found.size


def _buffers(data: bytes) -> list[tuple[int, int]]:
    end = _end(data)
    table = snap._table(end, data[end - (len(snap._TAIL) + 4):end])
    assert table is not None
    return snap._entries(data, table)


def test_the_kept_bytes_are_out_of_band_and_resumed_from_a_map(tmp_path: Path) -> None:
    """The NDJSON file's bytes are one buffer after the body (at a map's granularity), not
    in the body; the decoded ``Cached`` holds a map of them, not bytes; a new process after
    an edit diffs against that map and builds what a full build does."""
    site, root = _built(tmp_path)
    data = snapshot_file(root).read_bytes()
    ndjson = (root / "content" / "data.ndjson").read_bytes()
    [(offset, size)] = _buffers(data)
    assert offset % mmap.ALLOCATIONGRANULARITY == 0 and data[offset:offset + size] == ndjson
    assert ndjson not in data[:offset]  # not in the body too
    found = snap._load(snapshot_file(root), snap.snapshot_key(load_config(root), "published"))
    assert found is not None
    [cached] = found[0]._cache.values()
    assert cached.data is None and type(cached._mapped) is Mapped
    assert cached.kept is cached._mapped and cached.kept[:] == ndjson
    del found, cached
    retitle(1, "after the map")(site)
    site.write(root)
    new_process(root)
    assert output_files(root) == full_card_build(site, tmp_path / "scratch")


def _rewrite(path: Path, data: bytearray) -> None:
    """``data`` under a checksum that matches it (damage a checksum would not catch)."""
    data[HEAD - snap._SUM:HEAD] = snap.checksum_of(bytes(data[HEAD:])).to_bytes(snap._SUM, "big")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flipped", "garbage", "offset", "misaligned", "past", "count",
                                 "no table"])
def test_a_bad_buffer_is_never_taken_for_the_kept_bytes(tmp_path: Path, how: str) -> None:
    """A flipped byte in the kept bytes (the checksum refuses it); garbage of the same size
    under a good checksum (taken as kept bytes: the diff finds every line changed and parses
    them); a table entry moved to other bytes of the file, misaligned, past the table, a
    count larger than the file, or the table cut off (each refused or diffed): the next
    process's output equals a full build's, and the snapshot is a whole one again after."""
    site, root = _built(tmp_path)
    path = snapshot_file(root)
    data = bytearray(path.read_bytes())
    [(offset, size)] = _buffers(bytes(data))
    end = _end(bytes(data))
    row = end - len(snap._TAIL) - 4 - 16
    key = snap.snapshot_key(load_config(root), "published")
    if how == "flipped":
        data[offset + size // 2] ^= 0x20
        path.write_bytes(bytes(data))
    else:
        if how == "garbage":
            data[offset:offset + size] = bytes(range(7, 107)) * (size // 100) + b"x" * (size % 100)
        elif how == "offset":
            data[row:row + 8] = (0).to_bytes(8, "big")  # the file's head: not after it
        elif how == "misaligned":
            data[row:row + 8] = (offset + 1).to_bytes(8, "big")
        elif how == "past":
            data[row + 8:row + 16] = (size + 32).to_bytes(8, "big")
        elif how == "count":
            data[end - len(snap._TAIL) - 4:end - len(snap._TAIL)] = (10**6).to_bytes(4, "big")
        else:
            del data[end - len(snap._TAIL):end]
        _rewrite(path, data)
    loaded = snap._load(path, key)
    assert (loaded is not None) == (how == "garbage")
    del loaded
    retitle(2, f"after {how}")(site)
    site.write(root)
    new_process(root)
    assert output_files(root) == full_card_build(site, tmp_path / "scratch")
    fresh = path.read_bytes()
    assert fresh[:HEAD - snap._SUM] == data[:HEAD - snap._SUM]
    assert snap._load(path, key) is not None
