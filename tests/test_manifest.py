"""ssgen.manifest.store: round trips, the tag index, transactions, the queue, unusable files."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssgen.errors import ManifestError
from ssgen.manifest.schema import SCHEMA_VERSION
from ssgen.manifest.store import Manifest, PageRecord


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / ".ssgen" / "manifest.sqlite"


@pytest.fixture
def manifest(db_path: Path) -> Iterator[Manifest]:
    with Manifest.open(db_path) as m:
        yield m


def _record(m: Manifest, path: str, tags: set[str], route: str = "post") -> None:
    m.record_page(path, route, {"slug": path.strip("/")}, "post.html", "d1", "o1", tags)


def test_page_round_trip_survives_reopen(db_path: Path) -> None:
    with Manifest.open(db_path) as m:
        m.record_page(
            "/blog/hello/",
            "post",
            {"slug": "hello", "n": [1, 2.5, None], "ü": True},
            "post.html",
            "datahash",
            "outhash",
            ["doc:p1", "type:post", "posts", "doc:p1"],
        )
    with Manifest.open(db_path) as m:
        record = m.page("/blog/hello/")
        assert record == PageRecord(
            "/blog/hello/",
            "post",
            {"slug": "hello", "n": [1, 2.5, None], "ü": True},
            "post.html",
            "datahash",
            "outhash",
            "blog/hello/index.html",
        )
        assert m.tags_of("/blog/hello/") == {"doc:p1", "type:post", "posts"}
        assert m.page("/nope/") is None
        assert m.tags_of("/nope/") == set()
        assert m.get_meta("schema") == str(SCHEMA_VERSION)



@pytest.mark.parametrize("synced", [True, False])
def test_close_checkpoints_the_wal_synced_or_not(db_path: Path, synced: bool) -> None:
    """``close(synced=False)`` (after a full build) turns fsync off for the checkpoint
    on close alone: the WAL is still copied into the database, which reopens whole."""
    m = Manifest.open(db_path)
    settings_seen: list[str] = []
    m.set_meta("k", "v")
    assert Path(f"{db_path}-wal").stat().st_size > 0
    real = m._rows

    def rows(sql: str, *args: object, **kwargs: object) -> object:
        settings_seen.append(sql)
        return real(sql, *args, **kwargs)  # type: ignore[arg-type]

    m._rows = rows  # type: ignore[method-assign,assignment]
    m.close(synced=synced)
    assert settings_seen == ([] if synced else ["PRAGMA synchronous = OFF"])
    wal = Path(f"{db_path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with Manifest.open(db_path) as again:
        assert again.get_meta("k") == "v"

def test_record_page_replaces_tags_and_index_follows(manifest: Manifest) -> None:
    _record(manifest, "/a/", {"doc:1", "doc:2", "type:post"})
    _record(manifest, "/b/", {"doc:2", "type:post"})
    assert manifest.pages_for_tags(["doc:2"]) == {"/a/", "/b/"}
    _record(manifest, "/a/", {"doc:3", "type:post"})
    assert manifest.pages_for_tags(["doc:2"]) == {"/b/"}
    assert manifest.pages_for_tags(["doc:1"]) == set()
    assert manifest.pages_for_tags(["doc:3", "doc:2"]) == {"/a/", "/b/"}
    assert manifest.pages_for_tags([]) == set()
    assert manifest.tags_of("/a/") == {"doc:3", "type:post"}
    manifest.remove_page("/a/")
    assert manifest.pages_for_tags(["type:post"]) == {"/b/"}
    assert manifest.page("/a/") is None
    assert manifest.page_paths() == {"/b/"}


def test_explicit_file_and_route_lookup(manifest: Manifest) -> None:
    manifest.record_page("/feed.xml", "feed", {}, "feed.xml", "d", "o", [], file="feed.xml")
    _record(manifest, "/x/", set(), route="post")
    _record(manifest, "/y/", set(), route="post")
    assert manifest.pages_for_route("post") == {"/x/", "/y/"}
    assert manifest.pages_for_route("feed") == {"/feed.xml"}
    assert [p.path for p in manifest.pages()] == ["/feed.xml", "/x/", "/y/"]


def test_pages_for_many_tags_crosses_query_chunks(manifest: Manifest) -> None:
    entries = [
        (PageRecord(f"/p{i}/", "post", {}, "post.html", "d", "o", f"p{i}/index.html"), {f"doc:{i}"})
        for i in range(1500)
    ]
    manifest.record_pages(entries)
    wanted = {f"doc:{i}" for i in range(0, 1500, 2)} | {"doc:missing"}
    assert manifest.pages_for_tags(wanted) == {f"/p{i}/" for i in range(0, 1500, 2)}


_tags = st.sets(st.sampled_from(["doc:a", "doc:b", "doc:c", "type:post", "posts", "g:x"]))
_batches = st.lists(
    st.dictionaries(st.sampled_from(["/1/", "/2/", "/3/", "/4/"]), _tags, max_size=4),
    min_size=1,
    max_size=5,
)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Manifest]:
    with Manifest.open(tmp_path_factory.mktemp("model") / "m.sqlite") as m:
        yield m


@pytest.mark.parametrize("small_batch", [0, 64], ids=["bulk-path", "per-page-path"])
@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=_batches, removals=st.lists(st.sampled_from(["/1/", "/2/", "/9/"]), max_size=2))
def test_tag_index_matches_a_model(
    shared: Manifest,
    monkeypatch: pytest.MonkeyPatch,
    small_batch: int,
    batches: list[dict[str, set[str]]],
    removals: list[str],
) -> None:
    monkeypatch.setattr("ssgen.manifest.store._SMALL_BATCH", small_batch)
    m = shared
    m.remove_pages(m.page_paths())  # one database for all examples: start each empty
    assert m.pages_for_tags(["doc:a", "type:post", "posts"]) == set()
    model: dict[str, set[str]] = {}
    for batch in batches:
        m.record_pages(
            (PageRecord(p, "r", {}, "t", "d", "o", p[1:] + "index.html"), tags)
            for p, tags in batch.items()
        )
        model.update({p: set(tags) for p, tags in batch.items()})
    m.remove_pages(removals)
    for path in removals:
        model.pop(path, None)
    all_tags = {t for tags in model.values() for t in tags} | {"doc:none"}
    for tag in all_tags:
        assert m.pages_for_tags([tag]) == {p for p, tags in model.items() if tag in tags}
    for path, tags in model.items():
        assert m.tags_of(path) == tags
    assert m.page_paths() == set(model)


def test_templates_globals_meta(manifest: Manifest) -> None:
    manifest.set_template("post.html", "h1", ["post.html", "base.html", "partials/nav.html"])
    manifest.set_template("page.html", "h2", ["page.html", "base.html"])
    assert manifest.templates() == {"post.html": "h1", "page.html": "h2"}
    assert manifest.template_deps("post.html") == ("base.html", "partials/nav.html", "post.html")
    assert manifest.templates_using("base.html") == {"post.html", "page.html"}
    manifest.set_template("post.html", "h3", ["post.html"])
    assert manifest.templates_using("base.html") == {"page.html"}
    manifest.remove_template("page.html")
    assert manifest.templates() == {"post.html": "h3"}
    assert manifest.templates_using("base.html") == set()
    manifest.set_global("settings", "g1")
    manifest.set_global("settings", "g2")
    manifest.set_global("menu", "m1")
    manifest.remove_global("menu")
    assert manifest.globals() == {"settings": "g2"}
    assert manifest.get_meta("config_hash") is None
    manifest.set_meta("config_hash", "abc")
    assert manifest.get_meta("config_hash") == "abc"


def test_files_and_failures(manifest: Manifest) -> None:
    manifest.set_file("index.html", "h1", "page")
    manifest.set_files([("css/site.css", "h2", "static"), ("sitemap.xml", "h3", "generated")])
    assert set(manifest.files()) == {"index.html", "css/site.css", "sitemap.xml"}
    assert manifest.files("static")["css/site.css"].hash == "h2"
    assert set(manifest.files(exclude="page")) == {"css/site.css", "sitemap.xml"}
    assert set(manifest.files_at(["index.html", "nope", "sitemap.xml"])) == {
        "index.html", "sitemap.xml"}
    manifest.remove_file("index.html")
    manifest.remove_files(["sitemap.xml"])
    assert set(manifest.files()) == {"css/site.css"}
    with pytest.raises(ValueError, match="file kind"):
        manifest.set_file("x", "h", "other")
    manifest.record_failure("/b/", "post", "post.html:3: 'x' is undefined")
    manifest.record_failure("/a/", "post", "boom")
    assert [f.path for f in manifest.failures()] == ["/a/", "/b/"]
    manifest.clear_failure("/a/")
    assert [(f.path, f.route, f.error) for f in manifest.failures()] == [
        ("/b/", "post", "post.html:3: 'x' is undefined")
    ]
    assert manifest.counts()["failures"] == 1


def test_transaction_rolls_back_on_exception(manifest: Manifest) -> None:
    _record(manifest, "/keep/", {"t"})
    with pytest.raises(RuntimeError), manifest.transaction():
        _record(manifest, "/lost/", {"t"})
        manifest.set_meta("k", "v")
        manifest.remove_page("/keep/")
        raise RuntimeError("render crashed")
    assert manifest.page_paths() == {"/keep/"}
    assert manifest.pages_for_tags(["t"]) == {"/keep/"}
    assert manifest.get_meta("k") is None


def test_nested_transaction_rolls_back_only_inner(manifest: Manifest) -> None:
    with manifest.transaction():
        _record(manifest, "/outer/", set())
        with pytest.raises(KeyError), manifest.transaction():
            _record(manifest, "/inner/", set())
            raise KeyError("x")
        _record(manifest, "/after/", set())
    assert manifest.page_paths() == {"/outer/", "/after/"}


def test_transaction_is_invisible_to_other_connections_until_commit(db_path: Path) -> None:
    with Manifest.open(db_path) as writer, Manifest.open(db_path) as reader:
        with writer.transaction():
            _record(writer, "/a/", set())
            assert reader.page_paths() == set()
        assert reader.page_paths() == {"/a/"}


def test_queue_survives_reopen_and_ack(db_path: Path) -> None:
    with Manifest.open(db_path) as m:
        first = m.enqueue({"tags": ["posts"]})
        second = m.enqueue({"ids": ["p1"], "op": "update"})
    with Manifest.open(db_path) as m:
        assert m.pending() == [
            (first, {"tags": ["posts"]}),
            (second, {"ids": ["p1"], "op": "update"}),
        ]
        assert m.pending(limit=1) == [(first, {"tags": ["posts"]})]
        m.ack([first])
    with Manifest.open(db_path) as m:
        assert m.pending() == [(second, {"ids": ["p1"], "op": "update"})]
        m.ack([second])
        assert m.pending() == []
        assert m.enqueue({"x": 1}) > second  # ids are never reused


def test_queue_deduplicates_delivery_keys(manifest: Manifest) -> None:
    first = manifest.enqueue({"_id": "a"}, key="idem-1")
    assert manifest.enqueue({"_id": "a"}, key="idem-1") == first
    other = manifest.enqueue({"_id": "a"}, key="idem-2")
    assert other != first
    assert [i for i, _ in manifest.pending()] == [first, other]
    manifest.ack([first])
    assert manifest.enqueue({"_id": "a"}, key="idem-1") == first  # a late retry
    assert [i for i, _ in manifest.pending()] == [other]


def test_enqueue_inside_failed_transaction_is_rolled_back(manifest: Manifest) -> None:
    with pytest.raises(RuntimeError), manifest.transaction():
        manifest.enqueue({"a": 1})
        raise RuntimeError
    assert manifest.pending() == []


def test_unserialisable_params_name_the_page(manifest: Manifest) -> None:
    with pytest.raises(ManifestError, match="params of page '/x/'"):
        manifest.record_page("/x/", "r", {"when": object()}, "t", "d", "o", [])


def test_garbage_file_is_a_manifest_error_and_reset_recovers(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(ManifestError, match="corrupt or unreadable") as info:
        Manifest.open(db_path)
    assert str(db_path) in str(info.value)
    with Manifest.reset(db_path) as m:
        _record(m, "/a/", {"t"})
        assert m.page_paths() == {"/a/"}


def test_empty_file_becomes_a_fresh_manifest(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    with Manifest.open(db_path) as m:
        assert m.page_paths() == set()


def test_other_schema_version_is_rejected(db_path: Path) -> None:
    Manifest.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(ManifestError, match=f"schema version {SCHEMA_VERSION + 1}"):
        Manifest.open(db_path)


def test_foreign_sqlite_file_is_rejected(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(ManifestError, match="not an ssgen manifest"):
        Manifest.open(db_path)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA application_id = 42")
    conn.close()
    with pytest.raises(ManifestError, match="application id 0x2a"):
        Manifest.open(db_path)


def test_missing_table_is_reported_as_damage(db_path: Path) -> None:
    Manifest.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TABLE page_tags")
    conn.commit()
    conn.close()
    with pytest.raises(ManifestError, match="missing tables page_tags"):
        Manifest.open(db_path)


def test_damaged_json_is_a_manifest_error(db_path: Path) -> None:
    with Manifest.open(db_path) as m:
        _record(m, "/a/", set())
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE pages SET params = '{broken'")
    conn.commit()
    conn.close()
    with Manifest.open(db_path) as m, pytest.raises(ManifestError, match="params of page '/a/'"):
        m.page("/a/")


def test_sqlite_errors_after_close_become_manifest_errors(db_path: Path) -> None:
    m = Manifest.open(db_path)
    m.close()
    with pytest.raises(ManifestError, match="read pages failed"):
        m.pages()


def test_unwritable_location_is_a_manifest_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ManifestError, match="cannot open manifest"):
        Manifest.open(blocker / "manifest.sqlite")


def test_damaged_pages_surface_as_manifest_errors(db_path: Path) -> None:
    with Manifest.open(db_path) as m:
        m.record_pages(
            (PageRecord(f"/p{i}/", "post", {}, "t", "d" * 64, "o" * 64, "f"), {f"doc:{i}"})
            for i in range(2000)
        )
    data = bytearray(db_path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for offset in range(page_size, len(data), page_size):  # keep page 1: the schema
        data[offset : offset + page_size] = b"\xa5" * page_size
    db_path.write_bytes(bytes(data))
    with (
        pytest.raises(ManifestError, match=r"malformed|corrupt|not a database"),
        Manifest.open(db_path) as m,
    ):
        m.pages()
        m.pages_for_tags(["doc:1"])


def test_documents_state_round_trip(db_path: Path) -> None:
    with Manifest.open(db_path) as m:
        m.set_documents({"p1": ("post", "h1"), "a1": ("author", "h2")})
        m.set_documents({"p2": ("post", "h3"), "p1": ("post", "h4")}, removed={"a1"})
    with Manifest.open(db_path) as m:
        assert m.documents() == {"p1": ("post", "h4"), "p2": ("post", "h3")}
        m.set_documents({"x": ("t", "h")}, replace=True)
        assert m.documents() == {"x": ("t", "h")}


def test_pages_at_returns_only_known_paths_in_chunks(tmp_path: Path) -> None:
    manifest = Manifest.open(tmp_path / "m.sqlite")
    with manifest.transaction():
        for i in range(1200):  # more than one chunk of bound parameters
            manifest.record_page(f"/p/{i}/", "post", {}, "post.html", f"d{i}", f"o{i}", [])
    wanted = {f"/p/{i}/" for i in range(0, 1200, 2)} | {"/missing/"}
    found = manifest.pages_at(wanted)
    assert set(found) == wanted - {"/missing/"}
    assert found["/p/10/"].data_hash == "d10" and found["/p/10/"].route == "post"
    manifest.close()


@settings(max_examples=40, deadline=None)
@given(pages=st.lists(st.sets(st.sampled_from(
           ["image:a", "image:a1", "image:b", "imagf", "image", "image:", "doc:x", "type:post"]),
           max_size=5), max_size=8),
       prefix=st.sampled_from(["image:", "doc:", "type:", "image", "zz"]))
def test_tags_starting_is_every_distinct_tag_with_the_prefix(
        pages: list[set[str]], prefix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, Manifest.open(Path(tmp) / "m.sqlite") as m:
        for i, tags in enumerate(pages):
            _record(m, f"/p{i}/", tags)
        expected = {tag for tags in pages for tag in tags if tag.startswith(prefix)}
        assert m.tags_starting(prefix) == expected


def _plan_of_files_not_pages(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("EXPLAIN QUERY PLAN SELECT * FROM files WHERE kind != ?",
                            ("page",)).fetchall()
    return " ".join(str(row[-1]) for row in rows)


def test_the_files_that_are_not_pages_are_read_by_an_index(tmp_path: Path) -> None:
    """The extras stage's read is not a scan of every page's row; a manifest made before
    the index gets it when opened."""
    path = tmp_path / "manifest.sqlite"
    with Manifest.open(path) as m:
        m.set_files([("a/index.html", "h1", "page", 1, 1), ("feed.xml", "h2", "generated", 1, 1),
                      ("style.css", "h3", "static", 1, 1)])
        assert set(m.files(exclude="page")) == {"feed.xml", "style.css"}
    assert "INDEX files_not_page" in _plan_of_files_not_pages(path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX files_not_page")
    assert "files_not_page" not in _plan_of_files_not_pages(path)
    with Manifest.open(path) as m:
        assert set(m.files(exclude="page")) == {"feed.xml", "style.css"}
    assert "INDEX files_not_page" in _plan_of_files_not_pages(path)
