"""The NDJSON proof cut into pieces, shared between its thread and the round that waits.

``ndjson.proof`` compares the file with the kept bytes outside the hinted line in
pieces (``_pieces``, none under ``_PIECE``): its thread claims them from the front,
``Proof.wait`` from the back. Here ``_PIECE`` is a few bytes, so a small file has
many: whatever the file holds, wherever
it differs and whenever the caller waits, the verdict is whether the file equals the
kept bytes outside the line, each piece is compared once, and the switch interval the
proof lowered is back once its thread is done. Mutants caught (tests below): a piece
left out of the compare, a waiter that does not share, a switch interval left lowered.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import mutant

from ssgen.sources.ndjson import proof

_STAMP_FIELDS = ("st_mtime_ns", "st_size", "st_ino", "st_ctime_ns")
_SWITCH = sys.getswitchinterval()  # the interpreter's, which no test here changes


def _stamp(path: Path) -> tuple[int, int, int, int]:
    info = os.stat(path)
    stamp = tuple(getattr(info, field) for field in _STAMP_FIELDS)
    assert len(stamp) == 4
    return stamp[0], stamp[1], stamp[2], stamp[3]


def _proved(path: Path, kept: bytearray, line: tuple[int, int], *, sleep: float) -> bool:
    found = proof.hinted_region(str(path), _stamp(path), kept, line)
    assert found is not None
    region, started = found
    assert region.prefix == line[0] and region.suffix == len(kept) - line[1]
    time.sleep(sleep)
    verdict = started.wait()
    started._thread.join(5)
    assert not started._thread.is_alive()
    return verdict


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(min_size=0, max_size=200), st.data(), st.integers(1, 9),
       st.sampled_from([0.0, 0.0, 0.001]))
def test_the_verdict_is_whether_the_file_equals_the_kept_bytes_outside_the_line(
        tmp_path: Path, kept_bytes: bytes, data: st.DataObject, piece: int,
        sleep: float) -> None:
    start = data.draw(st.integers(0, len(kept_bytes)))
    stop = data.draw(st.integers(start, len(kept_bytes)))
    middle = data.draw(st.binary(max_size=20))
    new = bytearray(kept_bytes[:start] + middle + kept_bytes[stop:])
    if new and data.draw(st.booleans()):  # also changed elsewhere (or in the line)
        at = data.draw(st.integers(0, len(new) - 1))
        new[at] = (new[at] + data.draw(st.integers(1, 255))) % 256
    if not new:
        return  # an empty file is not mapped: the caller compares as usual
    path = tmp_path / f"data-{os.getpid()}-{threading.get_ident()}.ndjson"
    path.write_bytes(new)
    suffix = len(kept_bytes) - stop
    expected = bytes(new[:start]) == kept_bytes[:start] and \
        bytes(new[len(new) - suffix:]) == kept_bytes[stop:] and start + suffix <= len(new)
    with mutant(proof, "_PIECE", piece):
        kept = bytearray(kept_bytes)
        if start + suffix > len(new):
            assert proof.hinted_region(str(path), _stamp(path), kept, (start, stop)) is None
            return
        assert _proved(path, kept, (start, stop), sleep=sleep) is expected
    assert sys.getswitchinterval() == _SWITCH
    assert kept == kept_bytes  # the proof only reads them


def test_each_piece_is_compared_once_and_the_waiter_shares(tmp_path: Path) -> None:
    """The thread's first piece waits until the waiter has compared one of its own: the
    waiter claims from the back while the thread is busy, and between them every piece
    is compared once."""
    kept = bytearray(b"".join(b'{"_id":"d%03d"}\n' % n for n in range(40)))
    path = tmp_path / "data.ndjson"
    path.write_bytes(bytes(kept))
    seen: list[tuple[str, tuple[int, int, int]]] = []
    waiter_compared = threading.Event()
    real = proof.Proof._compare

    def compare(self: proof.Proof, piece: tuple[int, int, int]) -> bool:
        name = threading.current_thread().name
        if name == "ndjson-proof" and not seen:
            seen.append((name, piece))
            assert waiter_compared.wait(2)
        else:
            seen.append((name, piece))
            waiter_compared.set()
        return real(self, piece)

    with mutant(proof, "_PIECE", 16), mutant(proof.Proof, "_compare", compare):
        assert _proved(path, kept, (100, 130), sleep=0.0)
        pieces = proof._pieces(len(kept), len(kept),
                               proof.Region(100, len(kept) - 130, b"", len(kept)))
    assert sorted(piece for _, piece in seen) == sorted(pieces)
    assert {name for name, _ in seen} == {"ndjson-proof", threading.current_thread().name}


def test_mutant_piece_left_out_is_caught(tmp_path: Path) -> None:
    with mutant(proof, "_pieces", lambda size, kept_size, region: proof_pieces(
            size, kept_size, region)[1:]), pytest.raises(AssertionError):
        test_the_verdict_is_whether_the_file_equals_the_kept_bytes_outside_the_line(tmp_path)


def test_mutant_waiter_that_does_not_share_is_caught(tmp_path: Path) -> None:
    with mutant(proof.Proof, "_share", lambda self, *, front: proof_share(
            self, front=front) if front else False), pytest.raises(AssertionError):
        test_each_piece_is_compared_once_and_the_waiter_shares(tmp_path)


def test_mutant_switch_interval_left_lowered_is_caught(tmp_path: Path) -> None:
    with mutant(proof._Switching, "restore", lambda self: None), \
            pytest.raises(AssertionError):
        test_the_verdict_is_whether_the_file_equals_the_kept_bytes_outside_the_line(tmp_path)
    proof._SWITCHING._running = 0
    sys.setswitchinterval(_SWITCH)


proof_pieces = proof._pieces
proof_share = proof.Proof._share
