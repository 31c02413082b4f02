"""A source snapshot's per-document records (``ssgen.sources.snapshot.records``).

Each visible document and its maintained items are empty shells in the body, filled from
a record of their own after it; each record has a CRC-32 in the table at the file's end
(the file's checksum covers the table, not the records). Checked here on the cards site:
the decoded documents and items are the very objects every holder holds, filled; a
record flipped, a record of an earlier snapshot spliced in, a record missing, two records
swapped (two posts', two authors'): each refused (the files loaded whole), and the next process after an edit builds
what a clean full build does.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from sitekit import (
    CardSite,
    forget_process,
    full_card_build,
    mutant,
    new_process,
    output_files,
    retitle,
    snapshot_file,
)

from ssgen import shells
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.errors import SnapshotDamaged
from ssgen.sources import snapshot as snap
from ssgen.sources.snapshot import filling, lazy, records

HEAD = len(snap.MAGIC) + snap._KEY + snap._SUM


NOTE = "N" * 70  # a field no page reads, long enough to be written in p1's own record


def _built(tmp_path: Path) -> tuple[CardSite, Path]:
    site, root = CardSite(), tmp_path / "site"
    site.docs["p1"]["note"] = NOTE
    site.write(root)
    new_process(root)
    return site, root


def _records(data: bytes) -> tuple[records.Records, list[bytes]]:
    table = records.read(data, HEAD)
    assert table is not None
    return table, [data[HEAD + start:HEAD + end]
                   for start, end in itertools.pairwise(table.ends[1:])]


def _rebuilt(data: bytes, kept: list[bytes]) -> bytearray:
    """``data``'s snapshot with ``kept`` as its records, table and checksums made to fit."""
    table, _ = _records(data)
    size = table.size
    buffers = snap._entries(data, snap._table(size, data[size - len(snap._TAIL) - 4:size])
                            or (size, 0))
    stream = data[HEAD:HEAD + table.ends[1]] + b"".join(kept)
    ends = [*table.ends[:2],
            *list(itertools.accumulate(map(len, kept), initial=table.ends[1]))[1:]]
    key = data[len(snap.MAGIC):len(snap.MAGIC) + snap._KEY]
    parts = snap.framed(key, stream, [memoryview(data)[at:at + n] for at, n in buffers], ends)
    return bytearray(b"".join(bytes(part) for part in parts))


def _full(site: CardSite, root: Path) -> None:
    """A full build of ``site`` in ``root`` (which saves a snapshot of its own)."""
    site.write(root)
    forget_process()
    assert build(load_config(root), full=True, jobs=1).ok


def _loaded(root: Path) -> object:
    """The snapshot's source and extra, every record filled (also when left to fill)."""
    found = snap._load(snapshot_file(root), snap.snapshot_key(load_config(root), "published"))
    if found is None:
        return None
    if found[2] is not None:
        try:
            found[2].fill_all()
        except SnapshotDamaged:  # found at the fill: the build would load the files whole
            return None
    return found[:2]


def test_each_document_and_its_items_are_one_record_filled_in_place(tmp_path: Path) -> None:
    """One record a document; after the decode the dataset's documents, the parsed
    file's and the maintained items are the very objects, filled (none left empty)."""
    site, root = _built(tmp_path)
    data = snapshot_file(root).read_bytes()
    _, kept = _records(data)
    assert len(kept) == len(site.docs) and all(kept)
    found = _loaded(root)
    assert found is not None
    source = found[0]  # type: ignore[index]
    docs = list(source.dataset.documents)
    assert sorted(doc["_id"] for doc in docs) == sorted(site.docs)
    assert all(doc == site.docs[doc["_id"]] for doc in docs)
    [cached] = source._cache.values()
    assert all(any(parsed is doc for doc in docs) for parsed in cached.loaded.documents)
    items = [item for _, item in source.results.items() if type(item) is dict]
    assert items and all(items)
    # A list item's author name is the author document's very string (one memo).
    names = {doc["name"]: doc["name"] for doc in docs if doc["_type"] == "author"}
    authored = [item["author"]["name"] for item in items if "author" in item]
    assert authored and all(name is names[name] for name in authored)


def _noted(data: bytes) -> int:
    """The place of the record that holds p1's note."""
    _, kept = _records(data)
    [found] = [at for at, record in enumerate(kept) if NOTE.encode() in record]
    return found


def _flip_note(data: bytes) -> bytearray:
    """p1's note changed inside its record (the file's checksum still matches: it does
    not cover the records)."""
    table, _ = _records(data)
    at = data.index(NOTE.encode(), HEAD + table.ends[1])
    damaged = bytearray(data)
    damaged[at] = ord("B")
    return damaged


def _splice_older(data: bytes, older: bytes, fix_table: bool) -> bytearray:
    """p1's record replaced by the one of an earlier snapshot of the site (its note
    another), the table's row made to fit it (``fix_table``: its CRC too), the file's
    checksum left as it was."""
    _, kept = _records(data)
    _, before = _records(older)
    at = _noted(data)
    rebuilt = _rebuilt(data, [*kept[:at], before[at], *kept[at + 1:]])
    if not fix_table:  # the row's CRC the current record's
        table, _ = _records(bytes(rebuilt))
        row = len(rebuilt) - len(records.TAIL) - 4 - 12 * (len(table.crcs) - at)
        rebuilt[row + 8:row + 12] = records.crcs([memoryview(kept[at])])[0].to_bytes(4, "big")
    rebuilt[HEAD - snap._SUM:HEAD] = data[HEAD - snap._SUM:HEAD]
    return rebuilt


@pytest.mark.parametrize("how", ["flipped", "stale", "stale, its row fitted", "missing",
                                 "swapped", "swapped authors"])
def test_a_bad_record_falls_back_to_the_full_load(tmp_path: Path, how: str) -> None:
    site, root = _built(tmp_path)
    path = snapshot_file(root)
    site.docs["p1"]["note"] = NOTE.lower()  # an earlier snapshot whose p1 record differs
    _full(site, root)
    older = path.read_bytes()
    site.docs["p1"]["note"] = NOTE
    _full(site, root)
    data = path.read_bytes()
    _, kept = _records(data)
    if how == "flipped":
        damaged = _flip_note(data)
    elif how.startswith("stale"):
        damaged = _splice_older(data, older, fix_table=how != "stale")
    elif how == "missing":
        damaged = _rebuilt(data, kept[:-1])
    elif how == "swapped authors":  # two records that decode in either order
        damaged = _rebuilt(data, [kept[1], kept[0], *kept[2:]])
    else:
        damaged = _rebuilt(data, [*kept[:4], kept[5], kept[4], *kept[6:]])
    path.write_bytes(bytes(damaged))
    assert _loaded(root) is None
    retitle(2, f"after {how}")(site)
    site.write(root)
    new_process(root)
    assert output_files(root) == full_card_build(site, tmp_path / "scratch")


def test_mutant_records_unchecked_is_caught(tmp_path: Path) -> None:
    """A lazy resume takes no CRC-32 of the records at the open: a fill of them all that
    trusts them (as when the open had) resumes a flipped note; so does a fill of one
    that does not check its own."""
    _, root = _built(tmp_path)
    path = snapshot_file(root)
    path.write_bytes(bytes(_flip_note(path.read_bytes())))
    real_all, real_one = filling.Filling.fill_all, filling.Filling._fill

    def trusting(self: filling.Filling, checked: bool = False) -> None:
        real_all(self, checked=True)

    def unchecked(self: filling.Filling, group: int, check: bool) -> None:
        real_one(self, group, False)

    with mutant(filling.Filling, "fill_all", trusting):
        found = _loaded(root)
    assert found is not None
    assert _p1(found[0])["note"] != NOTE  # type: ignore[index]
    if lazy.ENABLED:  # p1 filled alone
        loaded = snap._load(path, snap.snapshot_key(load_config(root), "published"))
        assert loaded is not None and loaded[2] is not None
        with mutant(filling.Filling, "_fill", unchecked):
            loaded[2].fill(["p1"])
        assert _p1(loaded[0])["note"] != NOTE


def _p1(source: Any) -> dict[str, Any]:
    return source.dataset.by_id["p1"]  # type: ignore[no-any-return]


def test_a_flipped_record_is_found_at_its_fill(tmp_path: Path) -> None:
    """Not at the open: the records are left to fill unread; filling p1 refuses it
    (``SnapshotDamaged``: the file removed), filling another does not."""
    if not lazy.ENABLED:
        pytest.skip("records filled at the open")
    site, root = _built(tmp_path)
    path = snapshot_file(root)
    path.write_bytes(bytes(_flip_note(path.read_bytes())))
    found = snap._load(path, snap.snapshot_key(load_config(root), "published"))
    assert found is not None and found[2] is not None
    other = next(doc for doc in site.docs if doc != "p1")
    found[2].fill([other])
    with pytest.raises(SnapshotDamaged):
        found[2].fill(["p1"])
    assert not path.exists()


def test_mutant_a_fill_skipped_is_caught(tmp_path: Path) -> None:
    """A decode that leaves the last record unfilled resumes an empty document."""
    site, root = _built(tmp_path)
    real = filling.Filling._fill

    def skipping(self: filling.Filling, group: int, check: bool) -> None:
        if group != len(self._ids) - 1:
            real(self, group, check)

    with mutant(filling.Filling, "_fill", skipping):
        found = _loaded(root)
    assert found is not None
    docs = list(found[0].dataset.documents)  # type: ignore[index]
    try:
        differs = any(doc != site.docs.get(doc.get("_id")) for doc in docs)
    except shells.UnfilledRead:  # SSGEN_STRICT_SHELLS: the empty shell is read
        differs = True
    assert differs


def test_a_damaged_record_is_not_decoded(tmp_path: Path) -> None:
    """Records are decoded only once their CRC-32 matched (a damaged one might name a
    memo index in the billions: the decoder would make room for it)."""
    _, root = _built(tmp_path)
    path = snapshot_file(root)
    path.write_bytes(bytes(_flip_note(path.read_bytes())))

    def decoded(self: filling.Filling, start: int, end: int) -> None:
        raise AssertionError("a damaged record decoded")

    with mutant(filling.Filling, "_load", decoded):
        assert _loaded(root) is None
