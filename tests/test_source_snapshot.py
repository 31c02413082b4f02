"""The local source snapshot a new process resumes (``ssgen.sources.snapshot``) never makes
its output differ from a clean full build.

sitekit's cards site, a small NDJSON site (author and category pages whose correlated
``references(^._id)`` subqueries are maintained per outer document). Generated sequences
of edits (retitles, reauthoring, renames of dereferenced documents, creations, deletions,
template edits), same-size edits whose mtime is put back, lines moved across the file,
and damage to the snapshot (an
earlier copy, a flipped byte, truncation, removal, a document changed under an unchanged
checksum) run through new processes: no renderer, kept pages or route memos survive in
memory (``new_process``), so whatever carries over comes from ``.ssgen/``. After each,
the output must equal a clean full build's. The snapshot is re-saved every process or
only when the diff is large (``RESAVE``), so later steps resume stale ones. Mutants
caught: a load that skips the checksum, a resumed source that keeps its old session, a
resume that trusts a file whose size and mtime are the snapshot's. Hostile snapshot files
(code-running pickles, forged and damaged bodies) are tests/test_snapshot_hostile.py's.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import (
    CardSite,
    Edit,
    cache_damages,
    card_edits,
    delete,
    edit_template,
    forget_process,
    full_card_build,
    mutant,
    new_process,
    output_files,
    recategorise,
    rename,
    retitle,
    snapshot_file,
)

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.render import generated
from ssgen.sources import query_cache
from ssgen.sources import snapshot as snap
from ssgen.sources.local import LocalSource
from ssgen.sources.query_cache import QueryCache
from ssgen.sources.snapshot import codec, records

Damage = Callable[[Path, list[bytes]], None]


def start(site: CardSite, root: Path) -> None:
    """The site's first build (full: no manifest yet), which leaves a snapshot of the
    files as they are."""
    site.write(root)
    new_process(root)
    assert snapshot_file(root).exists()


restore_older, flip, truncate, remove = cache_damages(snapshot_file)


def tamper(root: Path, saved: list[bytes]) -> None:
    """Every post's title changed in the parsed documents (not in the bytes they were
    parsed from), under the old checksum: what a flip the checksum catches could do."""
    path = snapshot_file(root)
    if not path.exists():
        return
    data = path.read_bytes()
    head = len(snap.MAGIC) + snap._KEY + snap._SUM
    try:
        root, state, extra = snap.body_of(data)
    except codec.Refused:  # damaged by an earlier step already
        return
    for doc in state["_view"].dataset.documents:
        if doc.get("_type") == "post":
            doc["title"] = "tampered"
    state["_results"] = QueryCache()  # so that every page reads the documents
    path.write_bytes(data[:head] + codec.encode((root, state, extra)))


def same_stamp_edit(root: Path, saved: list[bytes]) -> None:
    """A same-size edit of the NDJSON file with its mtime put back."""
    path = root / "content" / "data.ndjson"
    info = path.stat()
    path.write_bytes(path.read_bytes().replace(b'"T', b'"Q', 1))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def move_lines(root: Path, saved: list[bytes]) -> None:
    """The NDJSON file's lines moved (the first to the end, the last to the front) with a
    blank line between: a changed region spanning the file, whose lines are all known."""
    path = root / "content" / "data.ndjson"
    lines = path.read_bytes().splitlines()
    if len(lines) > 2:
        path.write_bytes(b"\n".join([lines[-1], *lines[1:-1], b"", lines[0]]) + b"\n")


DAMAGES: list[Damage] = [restore_older, flip, truncate, remove, tamper, same_stamp_edit,
                         move_lines]


# A page per post and an Atom feed of them, dated by title length (a retitle can move a
# post in or out of the newest two), whose rows the snapshot carries.
FEED_TOML = r"""
[[routes]]
name = "post"
path = "/p/{slug}/"
template = "post.html"
query = '''*[_type == "post"]{title, "slug": _id, "excerpt": title + "!",
  "publishedAt": "2024-01-0" + string(length(title)) + "T00:00:00Z"}'''

[feed]
route = "post"
limit = 2
"""


class FeedSite(CardSite):
    """The cards site with a per-post route and a feed of it."""

    def __init__(self) -> None:
        super().__init__()
        self.templates["post.html"] = "<h1>{{ page.title }}</h1>{{ page.publishedAt }}"

    def write(self, root: Path) -> None:
        super().write(root)
        toml = root / "ssgen.toml"
        if FEED_TOML not in toml.read_text():
            toml.write_text(toml.read_text() + FEED_TOML)


class PagedSite(CardSite):
    """The cards site with its author and category pages paginated by their posts, one
    a page (as the default site's are, ten a page): the snapshot carries each page set's
    expansion (``routes.paginate``) and page hashes, found unchanged by the identity of
    the param set's maintained nested list."""

    def write(self, root: Path) -> None:
        super().write(root)
        toml = root / "ssgen.toml"
        text = toml.read_text()
        if "paginate_by" not in text:
            for route in ("authors", "categories"):
                text = text.replace(f'path = "/{route}/{{slug}}/"\n',
                                    f'path = "/{route}/{{slug}}/"\npaginate = 1\n'
                                    'paginate_by = "posts"\n')
            toml.write_text(text)


RAW_TOML = r"""
[[routes]]
name = "raw"
path = "/raw/{slug}/"
template = "raw.html"
tags = ["who:{name}"]
each = '*[_type == "author"]{"slug": _id}'
query = '*[_type == "author" && _id == $slug][0]'
"""


class RawSite(CardSite):
    """The cards site with an ``each`` route whose page value is the author document
    itself (no projection), whose ``name`` the route's tag pattern reads."""

    def __init__(self) -> None:
        super().__init__()
        self.templates["raw.html"] = "<h1>{{ page.name }}</h1>"

    def write(self, root: Path) -> None:
        super().write(root)
        toml = root / "ssgen.toml"
        if RAW_TOML not in toml.read_text():
            toml.write_text(toml.read_text() + RAW_TOML)


def run(steps: list[Edit | Damage], resave: int = snap.RESAVE,
        make: Callable[[], CardSite] = CardSite,
        resave_ids: int = query_cache.RESAVE_IDS) -> None:
    """Apply ``steps``, each followed by a new process; assert it equals a full build.
    ``resave_ids``: 1 saves the snapshot again after every param set a process made."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(snap, "RESAVE", resave)
        patch.setattr(query_cache, "RESAVE_IDS", resave_ids)
        root, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = make()
        start(site, root)
        saved = [snapshot_file(root).read_bytes()]
        for step in steps:
            if step in DAMAGES:
                step(root, saved)  # type: ignore[call-arg]
                if step in (same_stamp_edit, move_lines):  # the site's record of its file
                    site.docs = _read_docs(root)
            else:
                step(site)  # type: ignore[call-arg]
                site.write(root)
            new_process(root)
            if snapshot_file(root).exists():
                saved.append(snapshot_file(root).read_bytes())
            built, full = output_files(root), full_card_build(site, scratch)
            stale = sorted(f for f in built.keys() | full.keys() if built.get(f) != full.get(f))
            assert not stale, f"differs from a full build: {stale}"


def _read_docs(root: Path) -> dict[str, dict[str, Any]]:
    import json

    lines = (root / "content" / "data.ndjson").read_text().splitlines()
    return {doc["_id"]: doc for doc in map(json.loads, filter(None, lines))}


steps = st.one_of(card_edits, st.sampled_from(DAMAGES))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(steps, min_size=1, max_size=5), resave=st.sampled_from([0, 64]),
       resave_ids=st.sampled_from([1, query_cache.RESAVE_IDS]))
def test_new_processes_through_the_snapshot_equal_a_full_build(
        steps: list[Edit | Damage], resave: int, resave_ids: int) -> None:
    run(steps, resave, resave_ids=resave_ids)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(steps, min_size=1, max_size=5), resave=st.sampled_from([0, 64]))
def test_the_feed_through_the_snapshot_equals_a_full_build(
        steps: list[Edit | Damage], resave: int) -> None:
    run(steps, resave, FeedSite)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(steps, min_size=1, max_size=5), resave=st.sampled_from([0, 64]))
def test_paginated_param_sets_through_the_snapshot_equal_a_full_build(
        steps: list[Edit | Damage], resave: int) -> None:
    run(steps, resave, PagedSite)


def test_a_raw_document_page_through_the_snapshot_equals_a_full_build() -> None:
    """Pages whose value is a document, expanded again in a lazily resumed process (a
    template edit) beside retitles of one author's posts."""
    run([retitle(0, "zz"), edit_template("raw.html", "<h2>{{ page.name }}</h2>")], 0,
        RawSite)


def test_the_paged_site_paginates_its_author_pages(tmp_path: Path) -> None:
    site = PagedSite()
    start(site, tmp_path)
    author = next(a for a in ("a1", "a2") if sum(
        p["author"]["_ref"] == a for p in site.docs.values() if p["_type"] == "post") > 1)
    assert (tmp_path / "public" / "authors" / author / "page" / "2" / "index.html").exists()


def test_mutant_adopted_page_sets_trusted_whole_is_caught() -> None:
    """A paginated page set adopted from the snapshot whose pages are all taken as
    unchanged (no scan of its list against the re-queried one): the retitled post keeps
    its old title on its author's page. Only the paginated site has such page sets."""
    from ssgen.routes import paginate

    real = paginate._Expansion.changed

    def trusted(self: Any, items: Any, ids: Any, size: int, delta: Any = None) -> set[int]:
        # Per document only (``shared``): the blog's pages are paginated too.
        return set() if self.shared is not None else real(self, items, ids, size, delta)

    with mutant(paginate._Expansion, "changed", trusted):
        run([retitle(0, "abcd")])  # the cards site's author pages are not paginated
        with pytest.raises(AssertionError, match="differs from a full build"):
            run([retitle(0, "abcd")], make=PagedSite)


def test_a_resumed_process_makes_the_feed_row_of_the_edited_post_only(tmp_path: Path) -> None:
    site = FeedSite()
    start(site, tmp_path)
    made: list[str] = []
    real = generated._feed_entry

    def counted(feed: Any, where: Any, spec: Any) -> Any:
        made.append(spec.path)
        return real(feed, where, spec)

    retitle(0, "abcd")(site)  # p0 is dated 2024-01-04 now: the newest
    site.write(tmp_path)
    with mutant(generated, "_feed_entry", counted):
        new_process(tmp_path)
    assert made == ["/p/p0/"]
    assert b"/p/p0/" in (tmp_path / "public" / "feed.xml").read_bytes()


def test_mutant_feed_adopted_without_its_newest_rows_is_caught() -> None:
    """An adopted memo whose newest rows are not picked again: an edit that dates a post
    into the feed then shows that post alone, which the property sees."""
    real = generated._newest
    adopting = [False]

    def adopt(feed: Any, base_url: str, exported: object) -> None:
        adopting[0] = True
        try:
            real_adopt(feed, base_url, exported)
        finally:
            adopting[0] = False

    def newest(rows: Any, limit: int) -> Any:
        return [] if adopting[0] else real(rows, limit)

    real_adopt = generated.adopt_feed
    with mutant(generated, "adopt_feed", adopt), mutant(generated, "_newest", newest), \
            pytest.raises(AssertionError, match="differs from a full build"):
        run([retitle(0, "abcd")], make=FeedSite)


SEQUENCE: list[Edit | Damage] = [retitle(0, "x"), tamper, retitle(1, "ab"),
                                 rename("a1", "y"), restore_older, retitle(2, "c"),
                                 same_stamp_edit]


def test_the_sequence_passes_and_resumes_the_snapshot() -> None:
    resumed: list[LocalSource] = []
    real = LocalSource.resume

    def spy(self: LocalSource, config: Any, read: Any) -> None:
        resumed.append(self)
        real(self, config, read)

    with mutant(LocalSource, "resume", spy):
        run(SEQUENCE)
    assert len(resumed) >= 3  # not after a damage alone: the inputs are unchanged
    # Resumed sources answer the list routes from their maintained results.
    assert all(source.maintains and source._results is not None for source in resumed)


def test_mutant_load_without_the_checksum_is_caught() -> None:
    def unchecked(path: Path, key: bytes, leave: Any = None) -> Any:
        if not path.exists():
            return None
        data = path.read_bytes()
        if not data.startswith(snap.MAGIC) or data[len(snap.MAGIC):][:snap._KEY] != key:
            return None
        try:
            _, state, extra = snap.body_of(data)
        except codec.Refused:
            return None
        return LocalSource.from_state(state), extra, None

    with mutant(snap, "_load", unchecked), pytest.raises(
            AssertionError, match="differs from a full build"):
        run([tamper, retitle(0, "x")])


def test_mutant_checksum_thread_not_waited_for_is_caught() -> None:
    """The checksum is taken beside the decode; a load that does not compare what the
    thread found (here: takes the file's own checksum as found) resumes a body changed
    under its old checksum."""
    _stored = [0]

    def trusting(self: Any) -> tuple[int, list[int]]:
        self._thread.join()
        return _stored[0], self._crcs

    real_decoded = snap._decoded

    def decoded(data: memoryview, key: bytes, buffers: Any, table: Any,
                leave: Any, path: Path) -> Any:
        head = len(snap.MAGIC) + snap._KEY
        _stored[0] = int.from_bytes(bytes(data[head:head + snap._SUM]), "big")
        return real_decoded(data, key, buffers, table, leave, path)

    with mutant(snap, "_decoded", decoded), mutant(snap._Checksum, "result", trusting), \
            pytest.raises(AssertionError, match="differs from a full build"):
        run([tamper, retitle(0, "x")])
    run([tamper, retitle(0, "x")])  # with the real thread's checksum it passes


def test_mutant_resume_keeping_the_session_is_caught() -> None:
    real = LocalSource.resume

    def same_session(self: LocalSource, config: Any, read: Any) -> None:
        session = self.session
        real(self, config, read)
        self.session = session

    # The second process resumes the first's snapshot (not re-saved: a small diff) and
    # records session:2; the third resumes it again and reaches session:2 with other
    # documents, which the manifest's mark would vouch for.
    with mutant(LocalSource, "resume", same_session), pytest.raises(
            AssertionError, match="differs from a full build"):
        run([retitle(0, "x"), retitle(1, "y")])


def test_mutant_resume_trusting_size_and_mtime_is_caught() -> None:
    """A resume that does not re-read a file whose size and mtime are the snapshot's:
    the same-size edit whose mtime is put back goes unseen, and the property says so."""
    def trusting(self: LocalSource, config: Any, read: Any) -> None:
        self._config, self._kept = config, False
        self._files = read.cache
        self._preread = dict(read.files)
        self._prelisted, self._read_at = read.inputs, read.read_at
        self.session = uuid.uuid4().hex
        now = dict(zip((item.path for item in read.inputs), read.stamps, strict=True))
        for path, cached in self._cache.items():
            same = path in now and now[path][:2] == cached.stamp[:2]
            cached.stamp = now[path] if same else (-1, -1, -1, -1)
            cached.racy = False  # trusted whatever the read's time (tests/test_local_racy.py)
        version = self.version
        self.reload()
        self.resumed = self.changed_since(version)

    with mutant(LocalSource, "resume", trusting), pytest.raises(
            AssertionError, match="differs from a full build"):
        run([same_stamp_edit])


def test_a_snapshot_from_another_config_is_not_used(tmp_path: Path) -> None:
    site = CardSite()
    start(site, tmp_path)
    config = load_config(tmp_path)
    assert snap.resume(config, "published", None) is not None
    toml = tmp_path / "ssgen.toml"
    toml.write_text(toml.read_text().replace('title = "', 'title = "other ', 1))
    other = load_config(tmp_path)
    assert other.hash != config.hash
    assert snap.resume(other, "published", None) is None
    assert snap.resume(config, "drafts", None) is None
    path = snapshot_file(tmp_path)
    data = path.read_bytes()
    head = len(snap.MAGIC) + snap._KEY
    body = head + snap._SUM
    table = records.read(data, body)  # the checksum covers all but the records
    assert table is not None and len(table.crcs) == len(site.docs)
    crc = zlib.crc32(data[body + table.ends[-1]:], zlib.crc32(data[body:body + table.ends[1]]))
    assert data[head:body] == crc.to_bytes(4, "big")
    assert table.crcs == [zlib.crc32(data[body + begin:body + end])
                          for begin, end in itertools.pairwise(table.ends[1:])]
    assert table.whole == zlib.crc32(data[body + table.ends[1]:body + table.ends[-1]])


def test_a_full_build_resumes_no_snapshot_and_leaves_its_own(tmp_path: Path) -> None:
    site = CardSite()
    start(site, tmp_path)
    resumed: list[LocalSource] = []
    with mutant(LocalSource, "resume", lambda self, config, read: resumed.append(self)):
        forget_process()
        before = snapshot_file(tmp_path).read_bytes()
        retitle(0, "new")(site)
        site.write(tmp_path)
        assert build(load_config(tmp_path), full=True, jobs=1).ok
    assert not resumed and snapshot_file(tmp_path).read_bytes() != before
    found = snap.resume(load_config(tmp_path), "published", None)
    assert found is not None and found[0].resumed == frozenset()  # the files as built
    new_process(tmp_path)


# Blog page 2 gains p3's card (its category c1) while page 1 keeps its data, so page 1,
# which carries the tags of every document the list read, is not recorded again unless
# made to: then c1's rename reaches no blog page (found by the property above). Its tags
# changed: it renders again (``datahash.tagged``, which took the place of the planner's
# rule that rendered a set's first page with any later one).
FIRST_PAGE_STEPS = [recategorise(6, []), delete(5), recategorise(2, ["c1"]), rename("c1", "c")]


def test_a_paginated_first_page_is_recorded_with_its_later_pages() -> None:
    run(FIRST_PAGE_STEPS)


def test_mutant_first_page_left_unrecorded_is_caught() -> None:
    from ssgen.build.memo import datahash

    with mutant(datahash, "tagged", lambda digest, tags, key=None: digest), \
            pytest.raises(AssertionError):
        run(FIRST_PAGE_STEPS)
