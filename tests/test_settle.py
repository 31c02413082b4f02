"""A dataset file being rewritten in place is read only once its writer is done.

A writer rewriting an NDJSON file leaves, between its writes, a prefix of the file that
parses cleanly: read then, every document not yet written would lose its page. Here the
writer is stepped by the reader's own waiting (a virtual clock: ``settle.CLOCK``), at
cut points hypothesis chooses, line boundaries included, so the test does not depend on
the machine's speed. Every way a source reads the file (a first load, a reload, serve's
kept re-read, a new process's ``read_inputs``) must end with the whole file's documents.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ssgen.sources.inputs as inputs
from ssgen.config.load import load_config
from ssgen.errors import SourceError
from ssgen.sources import settle
from ssgen.sources.local import LocalSource, read_inputs

START = 1_700_000_000 * 10**9  # the virtual clock's start (ns): any fixed time works


class Writer:
    """Rewrites ``path`` in place to ``lines``, one chunk per step, each write stamped
    with the virtual clock's time."""

    def __init__(self, path: Path, data: bytes, cuts: list[int], clock: VirtualClock) -> None:
        self.path, self.data, self.clock = path, data, clock
        self.ends = sorted({min(cut, len(data)) for cut in cuts} | {len(data)})
        self.written = 0

    def step(self) -> None:
        if self.written >= len(self.data):
            return
        end = self.ends.pop(0)
        with self.path.open("r+b" if self.written else "wb") as file:
            file.seek(self.written)
            file.write(self.data[self.written:end])
        self.written = end
        os.utime(self.path, ns=(self.clock.time, self.clock.time))


class VirtualClock(settle.Clock):
    """Time passes only when the reader waits; ``on_wait`` runs halfway through each wait."""

    def __init__(self) -> None:
        super().__init__(self._now, self._sleep)
        self.time = START
        self.on_wait: Callable[[], None] = lambda: None

    def _now(self) -> int:
        return self.time

    def _sleep(self, seconds: float) -> None:
        # The writer writes halfway through the wait: less than SETTLE_NS before the
        # reader looks again, as a writer that is still busy does.
        wait = max(int(seconds * 1e9), 2)
        self.time += wait // 2
        self.on_wait()
        self.time += wait - wait // 2


def documents(count: int, tag: str) -> bytes:
    return b"".join(orjson.dumps({"_id": f"p{i}", "_type": "post", "title": f"{tag}{i}"}) + b"\n"
                    for i in range(count))


def make_site(root: Path, clock: VirtualClock, body: bytes) -> Path:
    (root / "content").mkdir(parents=True, exist_ok=True)
    (root / "ssgen.toml").write_text('[site]\ntitle = "t"\n')
    path = root / "content" / "data.ndjson"
    path.write_bytes(body)
    old = clock.time - 10 * settle.SETTLE_NS  # written long ago: settled
    os.utime(path, ns=(old, old))
    return path


def titles(source: LocalSource) -> dict[str, str]:
    return {doc["_id"]: doc["title"] for doc in source.documents}


MODES = ["load", "reload", "kept", "read_inputs"]


def read_while_writing(root: Path, mode: str, count: int, cuts: list[int],
                       clock: VirtualClock) -> dict[str, str]:
    """The documents a source of ``mode`` reads while a writer rewrites the file."""
    path = make_site(root, clock, documents(count, "old"))
    config = load_config(root)
    source = LocalSource(config, kept=mode == "kept") if mode in ("reload", "kept") else None
    writer = Writer(path, documents(count, "new"), cuts, clock)
    writer.step()  # the file is now a fresh prefix of itself
    clock.on_wait = writer.step
    if source is not None:
        source.reload()
        return titles(source)
    if mode == "read_inputs":
        return titles(LocalSource(config, preread=read_inputs(config)))
    return titles(LocalSource(config))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    virtual = VirtualClock()
    monkeypatch.setattr(settle, "CLOCK", virtual)
    return virtual


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.sampled_from(MODES), count=st.integers(1, 40),
       cuts=st.lists(st.integers(1, 2000), min_size=1, max_size=6), data=st.data())
def test_a_file_rewritten_in_place_is_read_whole(
    tmp_path_factory: pytest.TempPathFactory, clock: VirtualClock, mode: str, count: int,
    cuts: list[int], data: st.DataObject,
) -> None:
    whole = documents(count, "new")
    # Cuts at line ends too: the prefixes that parse cleanly and lose documents silently.
    ends = [i + 1 for i, byte in enumerate(whole) if byte == 0x0A]
    cuts = cuts + data.draw(st.lists(st.sampled_from(ends), max_size=3))
    root = tmp_path_factory.mktemp("site")
    assert read_while_writing(root, mode, count, cuts, clock) == \
        {f"p{i}": f"new{i}" for i in range(count)}


@pytest.mark.parametrize("mode", MODES)
def test_without_settling_a_prefix_at_a_line_end_loses_documents(
    tmp_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch, mode: str,
) -> None:
    """The mutant: a reader that trusts any stamp reads the first half and drops the rest
    (so the property above can fail)."""
    monkeypatch.setattr(settle, "SETTLE_NS", 0)
    whole = documents(10, "new")
    half = whole.index(b"\n", len(whole) // 2) + 1
    found = read_while_writing(tmp_path, mode, 10, [half], clock)
    assert found != {f"p{i}": f"new{i}" for i in range(10)}
    assert len(found) < 10


def test_a_write_during_the_read_is_read_again(
    tmp_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = make_site(tmp_path, clock, documents(5, "old"))
    config = load_config(tmp_path)
    source = LocalSource(config)
    real = inputs.read_bytes
    calls: list[int] = []

    def read_then_write(item: inputs.Input, size: int = -1) -> bytes:
        data = real(item, size)
        calls.append(len(data))
        if len(calls) == 1:  # a write lands between the read and the check after it
            path.write_bytes(documents(6, "new"))
            stamp = clock.time - settle.SETTLE_NS
            os.utime(path, ns=(stamp, stamp))
        return data

    path.write_bytes(documents(5, "mid"))
    settled_at = clock.time - settle.SETTLE_NS
    os.utime(path, ns=(settled_at, settled_at))
    monkeypatch.setattr(inputs, "read_bytes", read_then_write)
    source.reload()
    assert len(calls) == 2
    assert titles(source) == {f"p{i}": f"new{i}" for i in range(6)}


def test_a_file_that_never_settles_is_an_error_and_keeps_the_last_state(
    tmp_path: Path, clock: VirtualClock,
) -> None:
    path = make_site(tmp_path, clock, documents(3, "old"))
    source = LocalSource(load_config(tmp_path))
    before = titles(source)

    def keep_writing() -> None:
        path.write_bytes(documents(3, f"w{clock.time}-"))
        os.utime(path, ns=(clock.time, clock.time))

    keep_writing()
    clock.on_wait = keep_writing
    with pytest.raises(SourceError, match=r"content/data\.ndjson: still being written.*rename"):
        source.reload()
    assert titles(source) == before
