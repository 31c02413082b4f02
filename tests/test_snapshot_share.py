"""What a new process saves itself decoding: the snapshot's documents with their equal
short strings as one object (``ssgen.sources.snapshot.share``), and the dataset file's
digest left untaken by a build that never fingerprints it (``ssgen.sources.inputs``).

Sharing changes identities only: generated documents stay equal to copies of them,
every short string value is then one object, long ones are left as they were; documents
walked before are skipped. Through the cards site: a snapshot a build saved decodes with
one object per short value, a document parsed in a resumed process is shared when that
process saves, and a new process after edits still equals a clean full build (the
property of tests/test_source_snapshot.py runs with sharing on). Mutants caught: the
walk left out of ``save``, ``walked`` recording documents that were not walked, a read
that hashes its files up front, a fingerprint that is not of the files' bytes, documents
marked as walked outside the resume's guard (a body without a dataset then raises).
"""

from __future__ import annotations

import copy
import hashlib
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import CardSite, mutant, new_process, output_files, retitle, snapshot_file

from ssgen.build.change import Change, DocChange
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.sources import inputs, local
from ssgen.sources import snapshot as snap
from ssgen.sources.local import cached, read_inputs
from ssgen.sources.snapshot import codec, share

_short = st.sampled_from(["block", "span", "normal", "", "a1", "é", "x" * share.SHORT])
_long = st.builds(lambda n: "y" * n, st.integers(share.SHORT + 1, share.SHORT + 3))
_scalar = st.one_of(_short, _long, st.integers(), st.booleans(), st.none(), st.floats(
    allow_nan=False))


def _nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, max_size=4), st.dictionaries(_short, inner, max_size=4))


_value = st.recursive(_scalar, _nested, max_leaves=30)
documents = st.lists(st.dictionaries(_short, _value, max_size=5), max_size=6)


def _strings(value: Any) -> Iterator[str]:
    if type(value) is dict:
        for item in value.values():
            yield from _strings(item)
    elif type(value) is list:
        for item in value:
            yield from _strings(item)
    elif type(value) is str:
        yield value


def _fresh(value: Any) -> Any:
    """``value`` rebuilt with a new object for every string (CPython keeps one object for
    "" and each single character whatever is done)."""
    if type(value) is dict:
        return {key: _fresh(item) for key, item in value.items()}
    if type(value) is list:
        return [_fresh(item) for item in value]
    return "".join(list(value)) if type(value) is str else value


def _one_object_per_short_value(docs: list[dict[str, Any]]) -> bool:
    objects: dict[str, set[int]] = {}
    for value in (s for doc in docs for s in _strings(doc) if len(s) <= share.SHORT):
        objects.setdefault(value, set()).add(id(value))
    return all(len(ids) == 1 for ids in objects.values())


@settings(max_examples=300, deadline=None)
@given(docs=documents)
def test_sharing_keeps_every_value_and_makes_one_object_per_short_string(
        docs: list[dict[str, Any]]) -> None:
    docs = [_fresh(doc) for doc in docs]  # every string of two characters on its own
    before = copy.deepcopy(docs)
    long_ids = [id(s) for doc in docs for s in _strings(doc) if len(s) > share.SHORT]
    share.walked([])
    assert share.strings(docs) == len(docs)
    assert docs == before
    assert _one_object_per_short_value(docs)
    assert [id(s) for doc in docs for s in _strings(doc) if len(s) > share.SHORT] == long_ids


def test_documents_walked_before_are_skipped() -> None:
    docs = [{"a": "block" + str(i % 2)} for i in range(4)]
    share.walked([])
    assert share.strings(docs) == 4
    new = {"a": "".join(["blo", "ck0"])}
    assert share.strings([*docs, new]) == 1
    assert new["a"] is docs[0]["a"]  # the pool is kept: pooled with the ones skipped
    assert new == {"a": "block0"}


def _decoded_documents(root: Path) -> list[dict[str, Any]]:
    data = snapshot_file(root).read_bytes()
    _, state, _ = snap.body_of(data)
    docs: list[dict[str, Any]] = state["_view"].dataset.documents
    return docs


def _saved_shared(tmp_path: Path) -> None:
    """A build's snapshot, then a resumed process's (saved each time): one object per
    short value in both (the document the resumed process parsed is walked with a pool
    of its own: its strings are shared among themselves, not with the others')."""
    site = CardSite()
    site.write(tmp_path)
    new_process(tmp_path)
    docs = _decoded_documents(tmp_path)
    assert _one_object_per_short_value(docs)
    retitle(0, "T1")(site)  # the title of p1 too: a value the snapshot holds already
    site.write(tmp_path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(snap, "RESAVE", 0)
        new_process(tmp_path)
    docs = _decoded_documents(tmp_path)
    assert sum(doc.get("title") == "T1" for doc in docs) == 2
    edited = [doc for doc in docs if doc["_id"] == "p0"]
    assert edited == [site.docs["p0"]]
    assert _one_object_per_short_value([doc for doc in docs if doc["_id"] != "p0"])
    assert _one_object_per_short_value(edited)


def test_a_saved_snapshot_decodes_one_object_per_short_value(tmp_path: Path) -> None:
    _saved_shared(tmp_path)


def test_mutant_save_without_the_walk_is_caught(tmp_path: Path) -> None:
    with mutant(share, "strings", lambda docs: 0), pytest.raises(AssertionError):
        _saved_shared(tmp_path)


def test_mutant_walked_recording_unwalked_documents_is_caught(tmp_path: Path) -> None:
    def record_all(docs: Any) -> int:
        docs = list(docs)
        share._WALKED.update(map(id, docs))  # as if walked already: none is
        return 0 if all(id(doc) in share._WALKED for doc in docs) else -1

    with mutant(share, "strings", record_all), pytest.raises(AssertionError):
        _saved_shared(tmp_path)


def test_a_resumed_process_after_edits_equals_a_full_build(tmp_path: Path) -> None:
    site, clean = CardSite(), tmp_path / "clean"
    root = tmp_path / "site"
    site.write(root)
    new_process(root)
    for i, title in enumerate(["T2", "block", "T0"]):
        retitle(i, title)(site)
        site.write(root)
        new_process(root)
        site.write(clean)
        assert build(load_config(clean), full=True, jobs=1).ok
        assert output_files(root) == output_files(clean)


def _ndjson(config: Any) -> str:
    return next(item.path for item in inputs.site_inputs(config) if item.kind == "ndjson")


def test_the_dataset_file_is_hashed_only_when_the_fingerprint_is_asked_for(
        tmp_path: Path) -> None:
    CardSite().write(tmp_path)
    config = load_config(tmp_path)
    read = read_inputs(config)
    path = _ndjson(config)
    assert read.files[path].taken is None
    data = Path(path).read_bytes()
    display = next(item.display for item in read.inputs or () if item.path == path)
    want = inputs.combine([(display, inputs.digest(data))])
    assert read.fingerprint == want  # the site has no Markdown: the one file
    assert read.files[path].taken == inputs.digest(data)


def _hashed(root: Path, change: Change | None) -> list[int]:
    """The sizes of what ``filecache.digest`` hashed in a new process's build."""
    from sitekit import forget_process

    sizes: list[int] = []
    real = inputs.digest

    def counted(data: Any) -> bytes:
        sizes.append(len(data))
        return real(data)

    forget_process()
    with mutant(inputs, "digest", counted), mutant(local, "digest", counted), \
            mutant(cached, "digest", counted):
        assert build(load_config(root), change=change, jobs=1).ok
    return sizes


def test_a_revalidate_hashes_no_input_and_a_build_does(tmp_path: Path) -> None:
    site = CardSite()
    site.write(tmp_path)
    new_process(tmp_path)
    path = Path(_ndjson(load_config(tmp_path)))
    retitle(0, "R")(site)
    site.write(tmp_path)
    change = Change(documents=(DocChange("p0", "post"),), reasons=("revalidate",))
    assert _hashed(tmp_path, change) == []
    retitle(0, "S")(site)
    site.write(tmp_path)
    assert _hashed(tmp_path, None) == [path.stat().st_size]  # the fingerprint it keeps
    retitle(0, "U")(site)
    site.write(tmp_path)
    assert _hashed(tmp_path, None) == [path.stat().st_size]  # and compares: once


def test_mutant_reads_hashed_up_front_are_caught(tmp_path: Path) -> None:
    class Eager(inputs.ReadFile):
        def __init__(self, stamp: Any, data: bytes, file_digest: bytes | None = None) -> None:
            super().__init__(stamp, data, file_digest or inputs.digest(data))

    with mutant(inputs, "ReadFile", Eager), pytest.raises(AssertionError):
        test_the_dataset_file_is_hashed_only_when_the_fingerprint_is_asked_for(tmp_path)


def test_mutant_fingerprint_not_of_the_bytes_is_caught(tmp_path: Path) -> None:
    def stale(self: Any) -> bytes:
        return hashlib.sha256(b"").digest()[:16]

    with mutant(inputs.ReadFile, "digest", property(stale)), pytest.raises(AssertionError):
        test_the_dataset_file_is_hashed_only_when_the_fingerprint_is_asked_for(tmp_path)


def test_a_snapshot_whose_view_has_no_dataset_is_not_resumed(tmp_path: Path) -> None:
    """A body of the right key and checksum whose view holds no dataset (forged, or
    written by a bug): marking its documents as walked fails, and the resume with it,
    so the build loads the files instead of raising."""
    site = CardSite()
    site.write(tmp_path)
    new_process(tmp_path)
    path = snapshot_file(tmp_path)
    data = path.read_bytes()
    head = len(snap.MAGIC) + snap._KEY
    root, state, extra = snap.body_of(data)
    state["_view"].dataset = None
    body = codec.encode((root, state, extra))
    path.write_bytes(data[:head] + zlib.crc32(body).to_bytes(snap._SUM, "big") + body)
    assert snap.resume(load_config(tmp_path), "published", None) is None
    retitle(0, "N")(site)
    site.write(tmp_path)
    new_process(tmp_path)
    clean = tmp_path / "clean"
    site.write(clean)
    assert build(load_config(clean), full=True, jobs=1).ok
    assert output_files(tmp_path) == output_files(clean)


def test_mutant_documents_marked_outside_the_guarded_resume_is_caught(tmp_path: Path) -> None:
    real = snap._load

    def marking(path: Path, key: bytes, leave: Any = None) -> Any:
        found = real(path, key, leave)
        if found is not None:
            share.walked(found[0].dataset.documents)
        return found

    with mutant(snap, "_load", marking), pytest.raises(AttributeError):
        test_a_snapshot_whose_view_has_no_dataset_is_not_resumed(tmp_path)


def test_an_adopted_pool_keeps_its_strings_only() -> None:
    """A pool with other values (a forged snapshot's) gives the strings among them; an
    all-strings pool gives each one as the very object; made the pool when first used."""
    text = "".join(["a", "b"])
    share.adopt([1, text, 2.5, None])
    assert share._POOL == {}  # not yet: no walk, no save asked for it
    assert share._pool() == {"ab": "ab"} and share._POOL["ab"] is text
    share.adopt([3])
    assert share._pool() == {}
    share.adopt([text, "cd"])
    assert share.pool() == [text, "cd"] and share.pool()[0] is text
    share.adopt([text])
    walked = [{"_id": "d", "v": "".join(["a", "b"])}]
    share.strings(walked)  # a document none walked before: a pool of its own
    assert walked[0]["v"] is not text
    share.adopt("not a list")
    assert share._pool() == {}
