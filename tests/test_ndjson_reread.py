"""Serve's kept source re-reads an NDJSON file into the bytes it keeps.

``differing_region`` compares the file with the kept bytes from both ends through a small
buffer (made tiny here, so that chunk edges fall everywhere); ``patch`` turns the kept
bytearray into the file's bytes. Whole-source equality with a fresh load after random
edit sequences is ``test_local_reload`` (run with ``kept`` too); this file covers the
region itself, a file that changes while it is compared, and a reload that fails after
the kept bytes were patched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssgen.config.load import load_config
from ssgen.sources import leased
from ssgen.sources.local import LocalSource
from ssgen.sources.local.view import View
from ssgen.sources.ndjson import reread as ndjson_reread
from ssgen.sources.ndjson.reread import differing_region


def _stamp(path: Path) -> tuple[int, int, int, int]:
    info = os.stat(path)
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(old=st.binary(max_size=120), cuts=st.lists(st.tuples(
    st.integers(0, 120), st.integers(0, 6), st.binary(max_size=6)), max_size=3),
    chunk=st.integers(1, 17), as_bytes=st.booleans(), mapped=st.booleans())
def test_region_is_the_largest_equal_ends(tmp_path: Path, old: bytes,
                                          cuts: list[tuple[int, int, bytes]], chunk: int,
                                          as_bytes: bool, mapped: bool) -> None:
    new = old
    for at, drop, put in cuts:  # replace, insert or delete a run somewhere
        at = min(at, len(new))
        new = new[:at] + put + new[at + drop:]
    path = tmp_path / "data.ndjson"
    path.write_bytes(new)
    kept: bytes | bytearray = old if as_bytes else bytearray(old)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(ndjson_reread, "_CHUNK", chunk)
        if not mapped:
            patched.setattr(leased, "_lease_safe", lambda fd: False)
        region = differing_region(str(path), kept, _stamp(path))
    assert region is not None
    prefix, suffix = region.prefix, region.suffix
    assert region.size == len(new) and prefix + suffix <= min(len(old), len(new))
    assert new[:prefix] == old[:prefix]
    assert new[len(new) - suffix:] == old[len(old) - suffix:]
    assert region.middle == new[prefix:len(new) - suffix]
    # The largest: one more byte at either end would differ (or overlap).
    room = min(len(old), len(new)) - prefix - suffix
    assert room == 0 or old[prefix] != new[prefix]
    assert room == 0 or old[len(old) - suffix - 1] != new[len(new) - suffix - 1]


def test_a_file_not_the_stamped_one_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "data.ndjson"
    path.write_bytes(b'{"_id":"a","_type":"t"}\n')
    stamp = _stamp(path)
    path.write_bytes(b'{"_id":"a","_type":"u"}\n')  # same size, new mtime/ctime
    os.utime(path, ns=(10**18, 10**18))
    assert differing_region(str(path), b'{"_id":"a","_type":"t"}\n', stamp) is None
    assert differing_region(str(tmp_path / "gone.ndjson"), b"", stamp) is None


def test_a_change_during_the_compare_gives_none(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that changes the file between the first and the last look at it."""
    path = tmp_path / "data.ndjson"
    path.write_bytes(b"x" * 100)
    stamp = _stamp(path)
    real = os.preadv

    def read_then_write(fd: int, buffers: list[memoryview], offset: int) -> int:
        found = real(fd, buffers, offset)
        path.write_bytes(b"x" * 99 + b"y")
        os.utime(path, ns=(10**18, 10**18))
        return found

    monkeypatch.setattr(ndjson_reread.os, "preadv", read_then_write)
    monkeypatch.setattr(leased, "_lease_safe", lambda fd: False)  # read, not mapped
    assert differing_region(str(path), b"x" * 50 + b"z" + b"x" * 49, stamp) is None


def test_the_mapped_file_cannot_be_opened_for_writing(tmp_path: Path) -> None:
    """While the compare reads the mapping, no writer can open (let alone truncate) the
    file: a non-blocking open for writing is refused, a blocking one would wait."""
    path = tmp_path / "data.ndjson"
    path.write_bytes(b"y" * 5000)
    fd = os.open(path, os.O_RDONLY)
    try:
        with leased.leased_map(fd, 5000) as view:
            assert view is not None and bytes(view[-3:]) == b"yyy"
            with pytest.raises(BlockingIOError):
                os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # the lease is gone
        writer = os.open(path, os.O_WRONLY)
        try:  # no lease while anyone has the file open for writing
            with leased.leased_map(fd, 5000) as view:
                assert view is None
        finally:
            os.close(writer)
        with leased.leased_map(fd, 4999) as view:  # not the size it was stamped at
            assert view is None
    finally:
        os.close(fd)


def _site(tmp_path: Path, titles: list[str]) -> Path:
    root = tmp_path / "site"
    (root / "content").mkdir(parents=True, exist_ok=True)
    (root / "ssgen.toml").write_text('[site]\ntitle = "t"\n[source]\nmarkdown_dir = ""\n')
    _write(root, titles, 0)
    return root


def _write(root: Path, titles: list[str], tick: int) -> None:
    path = root / "content" / "data.ndjson"
    path.write_text("".join(json.dumps({"_id": f"p{i}", "_type": "post", "title": title})
                            + "\n" for i, title in enumerate(titles)))
    os.utime(path, ns=(10**18 + tick, 10**18 + tick))


def _titles(source: LocalSource) -> list[str]:
    return [doc["title"] for doc in source.documents]


def test_a_reload_that_fails_after_the_patch_reads_whole_next(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept bytes were patched to the new file, then the reload failed: the source
    keeps its old documents, and the next reload must not take the patched bytes for
    what it parsed (that would find no difference and keep the old documents)."""
    titles = [f"t{i}" for i in range(50)]
    root = _site(tmp_path, titles)
    config = load_config(root, env={})
    source = LocalSource(config, kept=True)
    titles[20] = "edited"
    _write(root, titles, 1)
    real = View.update

    def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(View, "update", failing)
    with pytest.raises(RuntimeError):
        source.reload()
    assert _titles(source)[20] == "t20"  # the previous state is kept
    monkeypatch.setattr(View, "update", real)
    source.reload()
    assert _titles(source) == titles == _titles(LocalSource(config))
    titles[3] = "again"
    _write(root, titles, 2)
    source.reload()
    assert _titles(source) == titles


def test_kept_bytes_are_one_buffer_patched_in_place(tmp_path: Path) -> None:
    """After the first re-read the kept bytes are a bytearray that later edits patch
    (no new buffer of the file's size per reload), equal to the file."""
    titles = [f"t{i}" for i in range(50)]
    root = _site(tmp_path, titles)
    source = LocalSource(load_config(root, env={}), kept=True)
    path = root / "content" / "data.ndjson"
    buffers = set()
    for step in range(1, 6):
        titles[step * 7] = "x" * step
        _write(root, titles, step)
        source.reload()
        (cached,) = source._cache.values()
        assert type(cached.data) is bytearray and cached.data == path.read_bytes()
        buffers.add(id(cached.data))
        assert _titles(source) == titles
    assert len(buffers) == 1


def test_a_mapping_left_for_later_holds_no_lease_and_is_unmapped_once(tmp_path: Path) -> None:
    """``unmap_later``: the mapping outlives the block, not the lease (a writer may open
    and truncate the file at once; the mapping is not read again); the next leased map
    or ``unmap_left`` unmaps it, so at most one is ever left."""
    path = tmp_path / "data.ndjson"
    path.write_bytes(b"y" * 5000)
    fd = os.open(path, os.O_RDONLY)
    try:
        with leased.leased_map(fd, 5000, unmap_later=True) as view:
            assert view is not None
        (left,) = leased._LEFT
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_TRUNC))  # no lease held
        path.write_bytes(b"z" * 6000)
        with leased.leased_map(fd, 6000, unmap_later=True) as view:
            assert view is not None and bytes(view[:1]) == b"z"
        assert left.closed and len(leased._LEFT) == 1
        leased.unmap_left()
        assert not leased._LEFT
    finally:
        os.close(fd)


def test_a_kept_sources_settle_unmaps_the_file_it_compared(tmp_path: Path) -> None:
    titles = [f"t{i}" for i in range(50)]
    root = _site(tmp_path, titles)
    source = LocalSource(load_config(root, env={}), kept=True)
    titles[7] = "edited"
    _write(root, titles, 1)
    source.reload()
    assert leased._LEFT
    source.settle()
    assert not leased._LEFT and _titles(source) == titles


def test_settle_makes_the_kept_bytes_the_buffer_the_first_reread_patches(
        tmp_path: Path) -> None:
    """Read (or resumed from a snapshot) as bytes, the kept file is made a bytearray by
    ``settle`` (serve: after its start-up round), so the first re-read after a start
    patches that buffer in place instead of copying the file's bytes in its round."""
    titles = [f"t{i}" for i in range(50)]
    root = _site(tmp_path, titles)
    source = LocalSource(load_config(root, env={}), kept=True)
    (cached,) = source._cache.values()
    assert type(cached.data) is bytes
    source.settle()
    (cached,) = source._cache.values()
    buffer = cached.data
    assert type(buffer) is bytearray and buffer == (root / "content" / "data.ndjson").read_bytes()
    titles[7] = "edited"
    _write(root, titles, 1)
    source.reload()
    (cached,) = source._cache.values()
    assert cached.data is buffer and _titles(source) == titles
    plain = LocalSource(load_config(root, env={}))  # not kept: its bytes are not patched
    plain.settle()
    assert all(type(c.data) is not bytearray for c in plain._cache.values())
