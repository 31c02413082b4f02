"""A kept source trusts a file's stat stamp only once the file is older than ``RACY_NS``.

Two writes of the same size within one timestamp tick keep mtime, ctime, size and inode:
the stamps cannot tell them apart, so a reload after a stamp taken in that window
compares the bytes (the racy-git rule the parse cache and the listing follow too).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import ssgen.sources.local as local
from ssgen.config.load import load_config
from ssgen.sources.filecache import RACY_NS
from ssgen.sources.local import LocalSource


def _site(root: Path, title: str) -> Path:
    (root / "content").mkdir(parents=True, exist_ok=True)
    (root / "ssgen.toml").write_text('[site]\ntitle = "t"\n')
    path = root / "content" / "data.ndjson"
    path.write_text(json.dumps({"_id": "p", "_type": "post", "title": title}) + "\n")
    return path


def _title(source: LocalSource) -> object:
    return next(doc["title"] for doc in source.documents if doc["_id"] == "p")


@pytest.mark.parametrize("kept", [True, False])
def test_a_same_stamp_rewrite_in_the_racy_window_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: bool) -> None:
    path = _site(tmp_path, "aaaa")
    source = LocalSource(load_config(tmp_path, env={}), kept=kept)
    (cached,) = source._cache.values()
    path.write_text(json.dumps({"_id": "p", "_type": "post", "title": "bbbb"}) + "\n")
    monkeypatch.setattr(local, "stamp_of", lambda item: cached.stamp)  # the same tick
    source.reload()
    assert _title(source) == "bbbb"


def test_a_settled_stamp_is_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _site(tmp_path, "aaaa")
    later = time.time_ns() + 2 * RACY_NS
    monkeypatch.setattr(local, "now_ns", lambda: later)  # read long after the write
    source = LocalSource(load_config(tmp_path, env={}), kept=True)
    (cached,) = source._cache.values()
    assert not cached.racy
    source.reload()
    (again,) = source._cache.values()
    assert again is cached  # not read again
