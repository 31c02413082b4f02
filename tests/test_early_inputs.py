"""ssgen.sources.early: the input files read and parsed while a build's modules load give
the build exactly what reading them in the build gives; children nobody took are stopped."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sitekit import markdown_site, no_children

from ssgen.cli.plain import build_site, revalidate_site
from ssgen.cli.summary import Options
from ssgen.config.load import load_config
from ssgen.errors import SourceError
from ssgen.sources import early, filecache, inputs
from ssgen.sources.inputs import HASH_AHEAD_MIN, Listed, ReadFile, digest, layout, list_inputs
from ssgen.sources.local import LocalSource, read_inputs
from ssgen.sources.parse_ahead import MIN_FILES


def settled() -> bool:
    """``no_children`` once the parse caches' saves are waited for, as a build waits for
    them at its end (a ``LocalSource`` of ``MIN_FILES`` files or more forks its save)."""
    filecache.settle()
    return no_children()

def _site(root: Path, files: int = MIN_FILES + 40) -> Path:
    site = markdown_site(root)
    for i in range(files):
        folder = "deep/" if i % 3 else ""
        front = f"title: Page {i}\ndate: 2024-01-{i % 28 + 1:02d}\n"
        if i % 17 == 0:
            front = "title: [unclosed\n"  # a fault: the file is skipped and named
        (site / "content" / f"{folder}p{i}.md").write_text(f"---\n{front}---\n\n*{i}* é\n")
    return site


def _one_gone_after_listing(root: Path) -> tuple[Any, Listed, Path, bytes]:
    """A site listed and stat'ed, then one of its files gone (as if while the children
    read); the config, the listing, the file and its bytes to put back."""
    site = _site(root)
    config = load_config(site)
    listed = list_inputs(config)
    gone = site / "content" / "p3.md"
    data = gone.read_bytes()
    gone.unlink()
    return config, listed, gone, data


def test_begun_inputs_load_as_read_in_the_build(tmp_path: Path) -> None:
    site = _site(tmp_path)
    config = load_config(site)
    early.begin(config, 2)
    read = early.inputs(config)
    assert read.cache is not None and read.inputs is not None
    # Every Markdown file was parsed ahead (by the children or while finishing here), and
    # read once: by the child that parsed it, not again here for the fingerprint.
    assert all(read.cache.same(item.path, digest(Path(item.path).read_bytes())) is not None
               for item in read.inputs)
    assert read.files == {}
    begun = LocalSource(config, preread=read)
    (site / ".ssgen").rename(tmp_path / "old-state")
    plain = LocalSource(config, preread=read_inputs(config))
    assert begun.documents == plain.documents
    assert [(f.where, f.message) for f in begun.faults()] == [
        (f.where, f.message) for f in plain.faults()]
    assert begun.fingerprint() == plain.fingerprint() == read.fingerprint
    assert settled()


def test_a_cold_builds_markdown_files_are_stamped_by_the_children_that_read_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(tmp_path)
    (site / "data.ndjson").write_text('{"_id": "x", "_type": "note"}\n')
    toml = site / "ssgen.toml"
    toml.write_text(toml.read_text().replace("files = []", 'files = ["data.ndjson"]'))
    config = load_config(site)
    here, real, me = [], inputs.stamp_of, os.getpid()

    def stamp_of(item: inputs.Input) -> inputs.Stamp:
        if os.getpid() == me:
            here.append(item)
        return real(item)

    monkeypatch.setattr(inputs, "stamp_of", stamp_of)
    early.begin(config, 2)
    read = early.inputs(config)
    assert read.inputs is not None and read.cache is not None and read.stamps is not None
    # No Markdown file stat'ed here: the children took their stamps (the dataset's here).
    assert here and {item.kind for item in here} == {"ndjson"}
    assert read.stamps == [real(item) for item in read.inputs]
    assert all(entry is not None and entry.stamp == real(item) for item in read.inputs
               if item.kind == "markdown" for entry in [read.cache.entry(item.path)])
    assert settled()


def test_files_listed_unstamped_get_their_stamps_when_read_here(tmp_path: Path) -> None:
    config = load_config(_site(tmp_path))
    listed = inputs.start_listing(layout(config), MIN_FILES)
    assert isinstance(listed, Listed) and inputs.UNSTAMPED in listed.stamps
    truth = [inputs.stamp_of(item) for item in listed.inputs]
    # No child took them (lost, or none started): read here, stamped as read.
    read = inputs.completed(inputs.read_listed(listed, {i.path for i in listed.inputs}),
                            listed, {})
    assert read.stamps == truth and read.fingerprint == read_inputs(config).fingerprint
    assert inputs.stamped(listed).stamps == truth
    # Fewer Markdown files than the children's least: stat'ed here, as before.
    few = inputs.start_listing(layout(config), len(truth) + 1)
    assert isinstance(few, Listed) and few.stamps == truth


def test_inputs_without_begin_or_for_another_site_are_read_now(tmp_path: Path) -> None:
    config = load_config(_site(tmp_path))
    other = load_config(_site(tmp_path / "other"))
    assert early.inputs(config).fingerprint == read_inputs(config).fingerprint
    early.begin(other, 2)
    assert early.inputs(config).fingerprint == read_inputs(config).fingerprint
    assert settled()  # the other site's children were stopped, not left running
    assert early.inputs(other).fingerprint == read_inputs(other).fingerprint


def test_discard_stops_the_children(tmp_path: Path) -> None:
    config = load_config(_site(tmp_path, files=MIN_FILES * 3))
    early.begin(config, 2)
    early.discard()
    assert settled()
    early.begin(config, 1)  # one job: nothing to overlap, nothing read
    assert early._BEGUN == {}


def _output(site: Path) -> dict[str, str]:
    public = site / "public"
    return {str(p.relative_to(public)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(public.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("full", [True, False])
def test_a_build_with_inputs_begun_early_equals_one_job(tmp_path: Path, full: bool) -> None:
    site = _site(tmp_path)
    assert build_site(Options(site=site, verbosity=-1), full=True, jobs=1) == 1  # faults
    one_job = _output(site)
    (site / "public").rename(tmp_path / "one-job")
    (site / ".ssgen").rename(tmp_path / "one-job-state")
    if not full:  # an incremental build after an edit, from a warm parse cache
        assert build_site(Options(site=site, verbosity=-1), jobs=2) == 1
        (site / "content" / "p3.md").write_text("---\ntitle: Edited\n---\n\nnew\n")
        assert build_site(Options(site=site, verbosity=-1), jobs=2) == 1
        assert _output(site)["p3/index.html"] != one_job["p3/index.html"]
        (site / "content" / "p3.md").write_text("---\ntitle: Page 3\ndate: 2024-01-04\n---\n\n*3* é\n")
    assert build_site(Options(site=site, verbosity=-1), full=full, jobs=2) == 1
    assert _output(site) == one_job
    assert early._BEGUN == {} and settled()


def test_a_file_saved_after_the_children_read_it_loads_as_the_build_read_it(
        tmp_path: Path) -> None:
    """The children read their files before this process reads them for the fingerprint:
    a parse of bytes other than those is never put in the cache (the source parses the
    file from the fingerprint's bytes instead)."""
    import time

    from ssgen.sources.inputs import read_listed
    from ssgen.sources.parse_ahead import start_unread

    site = _site(tmp_path)
    config = load_config(site)
    listed = list_inputs(config)
    parsing = start_unread(config.source.markdown_type, listed, 2)
    assert parsing is not None
    time.sleep(1.0)  # the child has read and parsed every file by now
    edited = site / "content" / "p3.md"
    edited.write_text("---\ntitle: Saved while building\n---\n\nnew *body*\n")
    read = read_listed(listed)
    parsing.finish(read)
    assert read.cache is not None
    entry = read.cache.entries.get(str(edited))
    assert entry is None or entry.documents[0]["title"] == "Saved while building"
    begun = LocalSource(config, preread=read)
    titles = {doc["_id"]: doc.get("title") for doc in begun.documents}
    assert "Saved while building" in titles.values()
    (site / ".ssgen").rename(tmp_path / "old-state")
    plain = LocalSource(config, preread=read_inputs(config))
    assert begun.documents == plain.documents
    assert begun.fingerprint() == plain.fingerprint() == read.fingerprint
    assert settled()


def test_unreadable_files_are_left_to_the_source(tmp_path: Path) -> None:
    """A file the children cannot read is no child's failure: the source reads it."""
    import time

    from ssgen.sources.inputs import read_listed
    from ssgen.sources.parse_ahead import start_unread

    config, listed, gone, data = _one_gone_after_listing(tmp_path)
    parsing = start_unread(config.source.markdown_type, listed, 2)
    assert parsing is not None
    time.sleep(1.0)  # the child has tried every file by now
    gone.write_bytes(data)
    read = read_listed(listed)
    assert parsing.finish(read) == len(listed.unread())
    plain = LocalSource(config, preread=read)
    assert any(doc.get("title") == "Page 3" for doc in plain.documents)
    assert settled()


def test_files_the_children_read_are_not_read_again_for_the_fingerprint(
        tmp_path: Path) -> None:
    """``early.begin`` leaves the Markdown files to the children: the fingerprint is of the
    bytes they read and parsed, even when a file is saved after they read it (the build
    then records an older fingerprint, and the next one looks again)."""
    import time

    site = _site(tmp_path)
    config = load_config(site)
    before = read_inputs(config)
    early.begin(config, 2)
    entry, = early._BEGUN.values()
    begun, parsing = entry.read, entry.parsing
    assert parsing is not None and begun.fingerprint == ""
    assert not parsing.paths & begun.files.keys()  # none read here
    time.sleep(1.0)  # the child has read and parsed every file by now
    edited = site / "content" / "p3.md"
    edited.write_text("---\ntitle: Saved while building\n---\n\nnew *body*\n")
    read = early.inputs(config)
    assert read.fingerprint == before.fingerprint
    assert read_inputs(config).fingerprint != read.fingerprint
    source = LocalSource(config, preread=read)
    (site / ".ssgen").rename(tmp_path / "old-state")
    assert source.documents == LocalSource(config).documents  # the file as it is now
    assert settled()


def test_a_file_no_child_read_is_read_when_the_parse_finishes(tmp_path: Path) -> None:
    """A file the children could not read (or a chunk lost with a child) has no child's
    digest: ``completed`` reads it, and the fingerprint is as if read in the build."""
    import time

    from ssgen.sources.inputs import completed, read_listed
    from ssgen.sources.parse_ahead import start_unread

    config, listed, gone, data = _one_gone_after_listing(tmp_path)
    parsing = start_unread(config.source.markdown_type, listed, 2)
    assert parsing is not None
    read = read_listed(listed, parsing.paths)
    time.sleep(1.0)  # the child has tried every file by now
    gone.write_bytes(data)
    parsing.finish(read)
    assert str(gone) not in parsing.digests
    read = completed(read, listed, parsing.digests)
    assert read.files.keys() == {str(gone)}
    plain = read_inputs(config)
    assert read.fingerprint == plain.fingerprint
    assert LocalSource(config, preread=read).documents == LocalSource(
        config, preread=plain).documents
    gone.unlink()
    with pytest.raises(SourceError, match=r"p3\.md: cannot read"):
        completed(read_listed(listed, parsing.paths), listed, {})
    assert settled()


# --- the large files' digests taken ahead, on a thread ---------------------------------


def test_a_digest_taken_ahead_is_the_files_own() -> None:
    data = bytes(range(256)) * (HASH_AHEAD_MIN // 256 + 1)
    stamp = (1, len(data), 2, 3)
    ahead = ReadFile(stamp, data)
    ahead.hash_ahead()
    assert ahead.taken == digest(data)  # waits for the thread: taken, not None
    again = ReadFile(stamp, data)
    again.hash_ahead()
    assert again.digest == digest(data) == hashlib.sha256(data).digest()[:16]
    small = ReadFile(stamp, b"{}\n")
    small.hash_ahead()  # below the size a thread pays for: hashed when asked, here
    assert small.taken is None and small.digest == digest(b"{}\n")


def _ndjson_site(root: Path, posts: int, body: int = 600) -> Path:
    site = root / "site"
    (site / "templates").mkdir(parents=True)
    (site / "content").mkdir()
    (site / "ssgen.toml").write_text(
        '[site]\ntitle = "T"\nbase_url = "https://e.example"\n[source]\ntype = "local"\n'
        'files = ["content/data.ndjson"]\n[[routes]]\nname = "post"\npath = "/{slug}/"\n'
        'template = "post.html"\n'
        "each = '*[_type == \"post\"]{\"slug\": slug.current}'\n"
        "query = '*[_type == \"post\" && slug.current == $slug][0]'\n")
    (site / "templates" / "post.html").write_text("<h1>{{ page.title }}</h1>{{ page.body }}")
    _write_posts(site, posts, "Post", body)
    return site


def _write_posts(site: Path, posts: int, title: str, body: int = 600) -> None:
    lines = [json.dumps({"_id": f"p{i}", "_type": "post", "title": f"{title} {i}",
                         "slug": {"current": f"p{i}"}, "body": "x" * body})
             for i in range(posts)]
    (site / "content" / "data.ndjson").write_text("\n".join(lines) + "\n")


def test_a_large_dataset_hashed_ahead_gives_the_builds_fingerprint(tmp_path: Path) -> None:
    # ~1.7 MB: over HASH_AHEAD_MIN, in few posts (2,500 of 600 bytes: 0.5 GB RSS).
    site = _ndjson_site(tmp_path, 250, body=7000)
    config = load_config(site)
    path = str(site / "content" / "data.ndjson")
    early.begin(config, 2)
    reading = early._BEGUN[str(config.site_dir)].read
    assert isinstance(reading, early._Reading)  # nothing to parse: read on a thread
    taken = reading.take()
    assert taken is not None
    file = taken.files[path]
    assert file._hashing is not None  # started on a thread as the read ended
    read = early.inputs(config)
    assert read.fingerprint == read_inputs(config).fingerprint
    assert file.taken == digest(Path(path).read_bytes())
    # A new build after an edit (its fingerprint from the begun read) equals a full one.
    assert build_site(Options(site=site, verbosity=-1), full=True, jobs=2) == 0
    _write_posts(site, 250, "Edited", body=7000)
    assert build_site(Options(site=site, verbosity=-1), jobs=2) == 0
    edited = _output(site)
    assert "Edited 7" in (site / "public" / "p7" / "index.html").read_text()
    assert build_site(Options(site=site, verbosity=-1), jobs=2) == 0  # nothing changed
    (site / "public").rename(tmp_path / "incremental")
    (site / ".ssgen").rename(tmp_path / "incremental-state")
    assert build_site(Options(site=site, verbosity=-1), full=True, jobs=2) == 0
    assert _output(site) == edited
    assert early._BEGUN == {} and settled()


def test_a_plain_builds_read_on_a_thread_is_what_reading_then_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``begin`` with nothing to parse reads on a thread (``_Reading``) while the build
    imports; ``inputs`` takes that read: the same bytes, stamps and fingerprint."""
    config = load_config(_ndjson_site(tmp_path, 250, body=7000))
    early.begin(config, 2)
    assert isinstance(early._BEGUN[str(config.site_dir)].read, early._Reading)
    _taken_as_read(config, monkeypatch)
    assert early._BEGUN == {}


def test_a_plain_builds_read_that_failed_on_its_thread_is_read_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(_ndjson_site(tmp_path, 50))
    with monkeypatch.context() as patch:
        patch.setattr(early, "read_listed", _fail)  # raises on the thread
        early.begin(config, 2)
        reading = early._BEGUN[str(config.site_dir)].read
        assert isinstance(reading, early._Reading) and reading.take() is None
    assert early.inputs(config).fingerprint == read_inputs(config).fingerprint
    assert early._BEGUN == {}


# --- revalidate: the input files read on a thread while the build's modules import ------


def _fail(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("read again, not taken from the read ahead")


def _taken_as_read(config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``early.inputs`` takes what was read early (reading again fails), and it is what a
    plain read gives: the same bytes, stamps and fingerprint."""
    with monkeypatch.context() as patch:
        patch.setattr(early, "read_inputs", _fail)
        read = early.inputs(config)
    plain = read_inputs(config)
    assert read.fingerprint == plain.fingerprint
    assert {path: file.data for path, file in read.files.items()} == {
        path: file.data for path, file in plain.files.items()}
    assert read.stamps == plain.stamps


def test_a_read_ahead_is_what_reading_then_gives(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(_ndjson_site(tmp_path, 50))
    early.read_ahead(config)
    _taken_as_read(config, monkeypatch)
    assert early._AHEAD == {}


def test_a_read_ahead_that_failed_is_read_again(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(_ndjson_site(tmp_path, 50))
    with monkeypatch.context() as patch:
        patch.setattr(early, "read_listed", _fail)  # raises on the thread
        early.read_ahead(config)
        early._AHEAD[str(config.site_dir)].take()
    assert early.inputs(config).fingerprint == read_inputs(config).fingerprint
    early.read_ahead(load_config(_ndjson_site(tmp_path / "other", 5)))
    assert early.inputs(config).fingerprint == read_inputs(config).fingerprint  # not ours
    assert early._AHEAD == {}


def test_a_revalidate_takes_the_read_ahead_and_equals_a_full_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _ndjson_site(tmp_path, 300)
    assert build_site(Options(site=site, verbosity=-1), full=True, jobs=2) == 0
    _write_posts(site, 300, "Edited")
    with monkeypatch.context() as patch:
        patch.setattr(early, "read_inputs", _fail)
        assert revalidate_site(Options(site=site, verbosity=-1), docs=("p7", "p8")) == 0
    # The other edited posts too: a build adds the documents that differ from the record.
    assert "Edited 9" in (site / "public" / "p9" / "index.html").read_text()
    revalidated = _output(site)
    (site / "public").rename(tmp_path / "revalidated")
    (site / ".ssgen").rename(tmp_path / "revalidated-state")
    assert build_site(Options(site=site, verbosity=-1), full=True, jobs=2) == 0
    assert _output(site) == revalidated
    assert early._AHEAD == {} and settled()
