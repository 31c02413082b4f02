"""The Markdown parses persisted in ``.ssgen/markdown.cache`` (``ssgen.sources.filecache``).

A new process (here: a fresh ``build(load_config(site))``, which loads the cache) must
build exactly what a clean full build gives, whatever happened to the files and to the
cache file between processes: same-size edits in the same timestamp tick, edits that
restore the old mtime, a stale copy of the cache, a truncated or corrupted one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.sources import filecache, markdown_docs
from ssgen.sources.filecache import FileCache, file_stamp
from ssgen.sources.filecache import shard as shard_module
from ssgen.sources.inputs import markdown_cache

TOML = """
[site]
title = "Cache"
base_url = "https://example.com"

[source]
type = "local"
files = []
markdown_dir = "content"
markdown_type = "{kind}"

[[routes]]
name = "page"
path = "/{{slug}}/"
template = "page.html"
query = '*[_type == "{kind}"]{{title, "slug": slug.current, body}}'
"""


def make_site(root: Path, kind: str = "page") -> Path:
    (root / "content").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    (root / "ssgen.toml").write_text(TOML.format(kind=kind))
    (root / "templates" / "page.html").write_text("{{ page.title }}|{{ page.body }}")
    return root


def page_file(name: str, title: str, body: str = "Body.") -> str:
    return f"---\ntitle: {title}\n---\n{body}\n"


def public(site: Path) -> dict[str, bytes]:
    out = site / "public"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def full_build(site: Path, scratch: Path) -> dict[str, bytes]:
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(site, scratch, ignore=shutil.ignore_patterns("public", ".ssgen"))
    assert build(load_config(scratch), full=True, jobs=1).ok
    return public(scratch)


def new_process_build(site: Path) -> None:
    report = build(load_config(site), jobs=1)
    assert report.ok, report.failures


@contextmanager
def counting_parses() -> Iterator[list[str]]:
    parsed: list[str] = []
    original = markdown_docs.markdown_or_fault

    def counting(data: bytes, rel: str, display: str, default_type: str) -> object:
        parsed.append(rel)
        return original(data, rel, display, default_type)

    with mock.patch.object(markdown_docs, "markdown_or_fault", counting):
        yield parsed


CACHE = Path(".ssgen") / "markdown.cache"


# --- the cache file ----------------------------------------------------------------------


def shard_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def plain(entries: dict[str, filecache.Entry]) -> dict[str, tuple[object, ...]]:
    """Entries with their documents unpacked (a loaded entry keeps them packed)."""
    return {name: (*entry[:3], entry.documents, *entry[4:6]) for name, entry in entries.items()
            if entry.available}


def write_shard(path: Path, index: object, blob: bytes = b"") -> None:
    """A shard file of ``index`` (any value) and ``blob``, with valid checksums."""
    import marshal

    payload = marshal.dumps(index)
    check = shard_module.checksum(payload)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(filecache.MAGIC + check + len(payload).to_bytes(8, "little") + payload
                     + blob)


def test_round_trip_and_every_damage_drops_the_shard(tmp_path: Path) -> None:
    path = tmp_path / "c"
    cache = FileCache(path, "key")
    names = [f"/{i}.md" for i in range(200)]
    for name in names:
        cache.put(name, (1, 2, 3, 4), b"d" * 16, 10**19, [{"_id": name, "title": "A"}], [])
    cache.save()
    assert plain(FileCache.load(path, "key").entries) == plain(cache.entries)
    assert FileCache.load(path, "other key").entries == {}
    shard = shard_files(path)[0]
    data = shard.read_bytes()
    # The documents (after the index) damaged: the entries load, their documents do not.
    for damaged in (data[:-1], data[: len(data) // 2], b"", data.replace(b"A", b"B"),
                    data.replace(b"/", b"|"), b"x" + data[1:], data + b"x"):
        shard.write_bytes(damaged)
        left = plain(FileCache.load(path, "key").entries)
        assert 0 < len(left) < len(names) and left.items() <= plain(cache.entries).items()
    cache.keep_only(set(names[:1]))
    cache.save()  # a shard left with no entry is written empty
    assert FileCache.load(path, "key").entries.keys() == {names[0]}
    shutil.rmtree(path)
    assert FileCache.load(path, "key").entries == {}
    path.write_bytes(b"a file where the folder was")
    assert FileCache.load(path, "key").entries == {}
    cache.dirty.update(range(filecache.SHARDS))
    cache.save()  # the file is replaced by the folder again
    assert FileCache.load(path, "key").entries.keys() == {names[0]}
    os.chmod(path, 0o500)
    try:
        cache.dirty.update(range(filecache.SHARDS))
        cache.save()  # cannot write (unless root): the cache is only lost, no error
    finally:
        os.chmod(path, 0o700)


def columns(blob: bytes, **changed: object) -> list[object]:
    """A format-6 shard index's columns for one entry "/a.md" whose documents are all of
    ``blob``, with ``changed`` columns replaced (by name)."""
    from array import array

    found = {"names": ["/a.md"], "stamps": array("q", (1, 2, 3, 4)).tobytes(),
             "digests": [b"d" * 16], "trusted": b"\x01",
             "spans": array("q", (0, len(blob))).tobytes(),
             "counts": array("q", (1,)).tobytes(), "hashes": ["h"], "faults": {}}
    found.update(changed)
    return list(found.values())


def test_a_payload_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    import marshal

    blob = marshal.dumps([{"_id": "x"}])
    check = shard_module.checksum(blob)
    shard = filecache._shard("/a.md")
    path = tmp_path / "c" / f"{shard:02x}"
    wrong_columns = [{"names": ("/a.md",)}, {"stamps": b"\0" * 24}, {"digests": []},
                     {"trusted": b""}, {"spans": b"\0" * 8}, {"counts": b"\0" * 8},
                     {"hashes": ["h", "h"]}, {"faults": {1: [("a", "b")]}},
                     {"faults": {0: "not a list"}}, {"stamps": [1, 2, 3, 4]}]
    for value in (5, ("key",), ("key", shard, columns(blob), 5),
                  ("key", (shard + 1) % filecache.SHARDS, columns(blob), check),
                  ("key", shard, columns(blob)[:-1], check),
                  *(("key", shard, columns(blob, **wrong), check) for wrong in wrong_columns)):
        write_shard(path, value, blob)
        assert FileCache.load(tmp_path / "c", "key").entries == {}, value
    write_shard(path, ("key", shard, columns(blob), check), blob)
    loaded = FileCache.load(tmp_path / "c", "key").entries
    assert loaded["/a.md"].documents == [{"_id": "x"}] and loaded["/a.md"].hashes == ["h"]


def test_a_file_read_in_its_racy_window_is_not_trusted(tmp_path: Path) -> None:
    cache = FileCache(None, "k")
    stamp = (10**18, 5, 1, 10**18)
    cache.put("/a.md", stamp, b"d", 10**18 + filecache.RACY_NS, [], [])
    assert cache.hit("/a.md", stamp) is None
    cache.put("/a.md", stamp, b"d", 10**18 + filecache.RACY_NS + 1, [], [])
    assert cache.hit("/a.md", stamp) is not None
    assert cache.hit("/a.md", (10**18, 5, 1, 10**18 + 1)) is None  # ctime moved


# --- builds through the cache -----------------------------------------------------------


def test_a_new_process_parses_only_the_edited_file(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    for i in range(5):
        (site / "content" / f"p{i}.md").write_text(page_file(f"p{i}", f"Page {i}"))
    with mock.patch.object(filecache, "RACY_NS", 0):
        time.sleep(0.01)
        new_process_build(site)
        time.sleep(0.01)
        (site / "content" / "p3.md").write_text(page_file("p3", "Page three"))
        time.sleep(0.01)
        with counting_parses() as parsed:
            new_process_build(site)
        time.sleep(0.01)
        with counting_parses() as again:  # what the edit's build saved is all there
            new_process_build(site)
    assert parsed == ["p3.md"]
    assert again == []
    assert "Page three" in (site / "public" / "p3" / "index.html").read_text()


def test_a_same_size_edit_with_the_old_mtime_is_seen(tmp_path: Path) -> None:
    """The racy-git case: same size, same mtime. Caught by ctime, and by the hash check
    while the file is within its racy window."""
    site = make_site(tmp_path / "site")
    page = site / "content" / "a.md"
    page.write_text(page_file("a", "Alpha"))
    new_process_build(site)
    before = os.stat(page)
    page.write_text(page_file("a", "Omega"))
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    new_process_build(site)
    assert "Omega" in (site / "public" / "a" / "index.html").read_text()


def test_a_planted_stale_entry_with_matching_size_and_mtime_is_caught(tmp_path: Path) -> None:
    """A stale snapshot: the entry of the file's old content (same size), its stamp
    forged to the new file's mtime, size and inode, even marked trusted."""
    site = make_site(tmp_path / "site")
    page = site / "content" / "a.md"
    page.write_text(page_file("a", "Stale"))
    new_process_build(site)
    key = filecache.cache_key("content", "page")
    stale = FileCache.load(site / CACHE, key)
    (name, old), = stale.entries.items()
    assert "Stale" in old.documents[0]["title"]  # read now: the rebuild replaces its shard
    page.write_text(page_file("a", "Fresh"))
    os.utime(page, ns=(old.stamp[0], old.stamp[0]))
    new_process_build(site)
    for trusted, ctime_delta in ((True, -1), (False, 0)):
        # Trusted: only the ctime differs (no tool can set it back). Whole stamp equal but
        # racy: the digest check catches it.
        stamp = file_stamp(name)
        assert stamp is not None and stamp[:3] == (old.stamp[0], *old.stamp[1:3])
        planted = FileCache(stale.path, key, {name: old._replace(
            stamp=(*stamp[:3], stamp[3] + ctime_delta), trusted=trusted)})
        planted.dirty = set(range(filecache.SHARDS))
        planted.save()
        (site / "public" / "a" / "index.html").unlink()  # make the build rewrite the page
        new_process_build(site)
        assert "Fresh" in (site / "public" / "a" / "index.html").read_text()


def test_a_trusted_stamp_still_sees_a_same_size_edit_that_restores_the_mtime(
        tmp_path: Path) -> None:
    """Out of the racy window the stamp alone decides: its ctime tells the edit."""
    site = make_site(tmp_path / "site")
    page = site / "content" / "a.md"
    page.write_text(page_file("a", "Alpha"))
    with mock.patch.object(filecache, "RACY_NS", 1_000_000):
        time.sleep(0.01)
        new_process_build(site)
        cache = FileCache.load(site / CACHE, filecache.cache_key("content", "page"))
        assert all(entry.trusted for entry in cache.entries.values())
        before = os.stat(page)
        time.sleep(0.01)
        page.write_text(page_file("a", "Omega"))
        os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
        time.sleep(0.01)
        new_process_build(site)
    assert "Omega" in (site / "public" / "a" / "index.html").read_text()


def test_an_entry_in_another_shards_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "c"
    cache = FileCache(path, "key")
    cache.put("/a.md", (1, 2, 3, 4), b"d" * 16, 10**19, [], [])
    cache.save()
    home, = shard_files(path)
    other = path / f"{(int(home.name, 16) + 1) % filecache.SHARDS:02x}"
    home.rename(other)
    assert FileCache.load(path, "key").entries == {}


def test_a_changed_default_type_does_not_reuse_parses(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    (site / "content" / "a.md").write_text(page_file("a", "Alpha"))
    with mock.patch.object(filecache, "RACY_NS", 0):
        time.sleep(0.01)
        new_process_build(site)
        make_site(site, kind="note")
        new_process_build(site)
    assert "Alpha" in (site / "public" / "a" / "index.html").read_text()


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "file"])
def test_a_damaged_cache_file_falls_back_to_reading_everything(tmp_path: Path,
                                                                damage: str) -> None:
    site = make_site(tmp_path / "site")
    (site / "content" / "a.md").write_text(page_file("a", "Alpha"))
    new_process_build(site)
    (site / "content" / "a.md").write_text(page_file("a", "Gamma"))
    path, = shard_files(site / CACHE)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) - 7])
    elif damage == "flip":
        path.write_bytes(data.replace(b"Alpha", b"Alphb"))
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        shutil.rmtree(site / CACHE)
        (site / CACHE).write_bytes(data)
    new_process_build(site)
    assert "Gamma" in (site / "public" / "a" / "index.html").read_text()
    assert public(site) == full_build(site, tmp_path / "scratch")


def test_each_entry_holds_the_content_hash_of_its_documents(tmp_path: Path) -> None:
    """The view diffs documents against the manifest by these hashes: parsed on workers
    (``parse_ahead``), in this process, or reused by digest, they are those of the
    entry's documents, never of an earlier parse."""
    from ssgen.sources import content_hash
    from ssgen.sources.parse_ahead import MIN_FILES

    site = make_site(tmp_path / "site")
    for i in range(MIN_FILES + 4):
        (site / "content" / f"p{i}.md").write_text(page_file(f"p{i}", f"Page {i}"))
    key = filecache.cache_key("content", "page")
    for edit in ("", "p1", "p2"):
        if edit:
            (site / "content" / f"{edit}.md").write_text(page_file(edit, "Edited"))
        assert build(load_config(site), jobs=2).ok
        entries = FileCache.load(site / CACHE, key).entries
        assert len(entries) == MIN_FILES + 4
        for entry in entries.values():
            assert entry.hashes == [content_hash(doc) for doc in entry.documents]


# --- the property -----------------------------------------------------------------------

NAMES = ["a", "b", "c"]
TITLES = st.sampled_from(["Alpha", "Bravo", "Delta", "Gamma"])  # same length: same size
STEPS = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(NAMES), TITLES),
    st.tuples(st.just("same-mtime"), st.sampled_from(NAMES), TITLES),
    st.tuples(st.just("delete"), st.sampled_from(NAMES), TITLES),
    st.tuples(st.just("cache"), st.sampled_from(["stale", "truncate", "flip", "drop"]), TITLES),
    # Saved before the next build (title reversed) and again while it runs, after it
    # read and fingerprinted the files (same size both times).
    st.tuples(st.just("during"), st.sampled_from(NAMES), TITLES),
)


def build_with_edit_during(site: Path, during: tuple[str, str] | None) -> None:
    """A new process's build; ``during``: a file (name, title) saved right after the
    build read and fingerprinted the inputs, before it loads them."""
    if during is None:
        new_process_build(site)
        return
    from ssgen.sources import early

    original = early.inputs

    calls = []

    def then_edit(config: object) -> object:
        read = original(config)  # type: ignore[arg-type]
        calls.append(1)
        name, title = during
        (site / "content" / f"{name}.md").write_text(page_file(name, title))
        return read

    with mock.patch.object(early, "inputs", then_edit):
        new_process_build(site)
    assert calls, "the build no longer reads its inputs through early.inputs: patch its reader"


def apply(site: Path, step: tuple[str, str, str], saved: list[dict[str, bytes]]) -> None:
    kind, what, title = step
    page = site / "content" / f"{what}.md"
    cache = site / CACHE
    if kind == "write":
        page.write_text(page_file(what, title))
    elif kind == "during":
        page.write_text(page_file(what, title[::-1]))
    elif kind == "same-mtime" and page.exists():
        before = os.stat(page)
        page.write_text(page_file(what, title))
        os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif kind == "delete":
        page.unlink(missing_ok=True)
    elif kind == "cache" and cache.exists():
        for shard in shard_files(cache):
            data = shard.read_bytes()
            stale = saved[0].get(shard.name, data) if saved else data
            damaged = {"stale": stale, "truncate": data[:-3],
                       "flip": data.replace(b"title", b"titlf"), "drop": b""}[what]
            shard.write_bytes(damaged)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEPS, min_size=1, max_size=6), trusting=st.booleans())
def test_new_processes_through_the_cache_equal_a_full_build(
        steps: list[tuple[str, str, str]], trusting: bool) -> None:
    """``trusting``: a short racy window (files settle before the next process), so
    stamps are trusted and only the stamp (ctime included) tells an edit."""
    racy = 20_000_000 if trusting else filecache.RACY_NS
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(filecache, "RACY_NS", racy):
        site = make_site(Path(tmp) / "site")
        for name in NAMES[:2]:
            (site / "content" / f"{name}.md").write_text(page_file(name, "Alpha"))
        saved: list[dict[str, bytes]] = []
        during: tuple[str, str] | None = None
        for step in steps:
            if trusting:
                time.sleep(0.025)
            build_with_edit_during(site, during)
            if (site / CACHE).exists() and not saved:
                saved.append({p.name: p.read_bytes() for p in shard_files(site / CACHE)})
            during = (step[1], step[2]) if step[0] == "during" else None
            apply(site, step, saved)
        if trusting:
            time.sleep(0.025)
        build_with_edit_during(site, during)
        if during is not None:  # that edit is the next build's to see
            if trusting:
                time.sleep(0.025)
            new_process_build(site)
        assert public(site) == full_build(site, Path(tmp) / "scratch")


def _shards(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_a_large_save_in_the_background_writes_what_a_save_here_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``save(background=True)`` of a large rewrite forks a process that writes exactly
    the shards ``save()`` writes; ``settle`` waits for it; a small rewrite is done here."""
    def filled(folder: Path) -> FileCache:
        cache = FileCache(folder, "key")
        for i in range(300):
            cache.put(f"/site/content/p{i}.md", (i, i, i, i), bytes([i % 256]) * 16, 10**19,
                      [{"_id": f"p{i}", "title": f"Page {i}"}], [])
        return cache

    here, there = filled(tmp_path / "here"), filled(tmp_path / "there")
    here.save()
    monkeypatch.setattr(filecache, "BACKGROUND", 300 // filecache.SHARDS + 1)
    there.save(background=True)
    assert filecache._SAVING and not there.dirty
    filecache.settle()
    assert not filecache._SAVING
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no process left behind
    assert _shards(tmp_path / "there") == _shards(tmp_path / "here")
    assert plain(FileCache.load(tmp_path / "there", "key").entries) == plain(here.entries)
    small = filled(tmp_path / "small")
    monkeypatch.setattr(filecache, "BACKGROUND", 301)
    small.save(background=True)
    assert not filecache._SAVING and _shards(tmp_path / "small") == _shards(tmp_path / "here")


def test_a_build_that_saves_its_cache_in_the_background_equals_one_that_does_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path / "site")
    for i in range(40):
        (site / "content" / f"p{i}.md").write_text(page_file(f"p{i}", f"Page {i}", f"*{i}*"))
    def entries() -> dict[str, tuple[object, ...]]:
        # Whether a stamp is trusted depends on when the build read it: not compared.
        loaded = markdown_cache(load_config(site))
        assert loaded is not None
        return plain({name: entry._replace(trusted=False)
                      for name, entry in loaded.entries.items()})

    build(load_config(site), full=True, jobs=1)
    here, output = entries(), public(site)
    assert len(here) == 40
    shutil.rmtree(site / ".ssgen")
    shutil.rmtree(site / "public")
    monkeypatch.setattr(filecache, "BACKGROUND", 0)
    build(load_config(site), full=True, jobs=1)
    assert not filecache._SAVING  # the build waited for it
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
    assert entries() == here
    assert public(site) == output


def test_a_cold_build_of_a_few_hundred_files_saves_its_cache_in_another_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold build of a few hundred files (a 1,000-file one included) forks the parse
    cache's save instead of writing its 64 shards on the critical path; the cache the
    next process loads is the same. It forks from ``BACKGROUND`` entries' worth of
    rewritten shards (entries x dirty shards >= BACKGROUND x SHARDS): at exactly
    ``MIN_FILES`` (256) files that needs every shard dirty, which the names' hashes (the
    temporary folder's name in them) give about three runs in four, so the test builds
    64 files more: at least 56 shards dirty whatever the folder is called."""
    from ssgen.sources.parse_ahead import MIN_FILES

    files = MIN_FILES + 64
    site = make_site(tmp_path / "site")
    for i in range(files):
        (site / "content" / f"p{i}.md").write_text(page_file(f"p{i}", f"Page {i}"))
    writers: list[int] = []
    write = FileCache._write

    def spied(self: FileCache, mark: str) -> None:
        writers.append(os.getpid())
        write(self, mark)

    monkeypatch.setattr(FileCache, "_write", spied)
    build(load_config(site), full=True, jobs=1)
    assert os.getpid() not in writers  # the child's call is not seen here
    assert not filecache._SAVING
    loaded = markdown_cache(load_config(site))
    assert loaded is not None and len(loaded.entries) == files


def test_the_key_is_the_same_in_every_process() -> None:
    """Every parser module the key hashes exists (a moved one is hashed as random bytes:
    a key no later process shares, so every build would parse every file again), and
    the key depends only on their code and the caller's parts."""
    here = Path(filecache.__file__).parent.parent
    assert all((here / name).is_file() for name in filecache._PARSERS)
    assert filecache.cache_key("content", "page") == filecache.cache_key("content", "page")
    assert filecache.cache_key("content", "page") != filecache.cache_key("content", "post")


def test_empty_says_whether_any_name_has_an_entry(tmp_path: Path) -> None:
    """``empty`` (a cold build's stamps alone, ``inputs._stamped``): new, put, saved and
    loaded, every loaded name dropped, a name put again."""
    path = tmp_path / "cache"
    cache = FileCache(path, "key")
    assert cache.empty()
    cache.put("a.md", (1, 2, 3, 4), b"d" * 16, 10**19, [{"_id": "a", "title": "A"}], [])
    assert not cache.empty()
    cache.save()
    loaded = FileCache.load(path, "key")
    assert not loaded.empty()
    loaded.keep_only(set())
    assert loaded.empty()
    loaded.put("b.md", (1, 2, 3, 4), b"e" * 16, 10**19, [{"_id": "b", "title": "B"}], [])
    assert not loaded.empty()
    assert FileCache.load(path, "other key").empty()
