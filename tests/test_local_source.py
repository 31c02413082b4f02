"""The local source: NDJSON, export archives, Markdown documents, perspectives, reload."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ssgen.sources.local as local
from ssgen.config.load import Config, load_config
from ssgen.errors import SourceError
from ssgen.groq.parser import parse
from ssgen.sources import QueryResult, markdown_docs, open_source
from ssgen.sources.export import read_export
from ssgen.sources.filecache import RACY_NS
from ssgen.sources.local import LocalSource, apply_perspective, cached, read_inputs
from ssgen.sources.ndjson import parse_ndjson

FIXTURE = Path(__file__).parent / "fixtures" / "sources" / "site"
SHA = "7f4c2d1e9a8b6c5d4e3f2a1b0c9d8e7f6a5b4c3d"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(FIXTURE, root)
    return root


def configure(site: Path, source: str) -> Config:
    (site / "ssgen.toml").write_text(f'[site]\ntitle = "t"\n\n[source]\n{source}\n')
    return load_config(site, env={})


def ids(source: LocalSource) -> list[str]:
    return [doc["_id"] for doc in source.documents]


def by_id(source: LocalSource) -> dict[str, dict[str, Any]]:
    return {doc["_id"]: doc for doc in source.documents}


# --- NDJSON -----------------------------------------------------------------------------


def test_ndjson_skips_blank_lines_and_keeps_line_numbers() -> None:
    loaded = parse_ndjson(b'{"_id":"a","_type":"t"}\n\n  \n{"_id":"b","_type":"t"}\r\n', "x.ndjson")
    assert [d["_id"] for d in loaded.documents] == ["a", "b"]
    assert loaded.where(1) == "x.ndjson:4"


@pytest.mark.parametrize(("line", "message"), [
    (b'{"_id": "b", "_type": ', "content/x.ndjson:3:23: invalid JSON (unexpected end of data)"),
    (b'{"_id": "b" "_type": 1}', "content/x.ndjson:3:13: invalid JSON (unexpected character"),
    (b'{"_type": "post"}', "content/x.ndjson:3: missing _id"),
    (b'{"_id": "", "_type": "post"}', "content/x.ndjson:3: missing _id"),
    (b'{"_id": "b"}', "content/x.ndjson:3: document 'b' is missing _type"),
    (b'["_id", "b"]', "content/x.ndjson:3: expected a JSON object"),
    # A lone surrogate escaped is taken (made U+FFFD); the line's other fault is named.
    (b'{"_id": "b", "_type": "t", "x": "\\ud83d",}',
     "content/x.ndjson:3:42: invalid JSON (Expecting property name enclosed in double"),
])
def test_bad_ndjson_line_is_skipped_and_named(site: Path, line: bytes, message: str) -> None:
    good = b'{"_id": "a", "_type": "t"}\n\n'
    (site / "content" / "x.ndjson").write_bytes(good + line + b'\n{"_id": "c", "_type": "t"}\n')
    config = configure(site, 'files = ["content/x.ndjson"]\nmarkdown_dir = ""')
    source = LocalSource(config)
    ((where, text),) = source.faults()
    assert where == "content/x.ndjson:3" and text.startswith(message)
    assert ids(source) == ["a", "c"]


def test_duplicate_id_names_both_places(site: Path) -> None:
    (site / "content" / "more.ndjson").write_text('{"_id":"z","_type":"t"}\n'
                                                  '{"_id":"post.one","_type":"post","v":2}\n')
    config = configure(site, 'files = ["content/dataset.ndjson", "content/more.ndjson"]')
    source = LocalSource(config)
    ((where, text),) = source.faults()
    assert where == "content/more.ndjson:2"
    assert text.startswith("content/more.ndjson:2: duplicate _id 'post.one' "
                           "(first defined at content/dataset.ndjson:2)")
    assert "v" not in by_id(source)["post.one"]  # the first one is kept


def test_duplicate_id_within_one_file(site: Path) -> None:
    (site / "content" / "x.ndjson").write_text('{"_id":"a","_type":"t"}\n{"_id":"a","_type":"t"}\n')
    config = configure(site, 'files = ["content/x.ndjson"]\nmarkdown_dir = ""')
    ((_, text),) = LocalSource(config).faults()
    assert re.match(r"content/x\.ndjson:2: duplicate _id 'a' .*x\.ndjson:1\)", text)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
)
_documents = st.lists(
    st.tuples(st.text(min_size=1, max_size=10), st.text(min_size=1, max_size=10),
              st.dictionaries(st.text(max_size=8).filter(lambda k: k not in ("_id", "_type")),
                              _json, max_size=5)),
    max_size=15, unique_by=lambda t: t[0],
).map(lambda rows: [{"_id": i, "_type": t, **fields} for i, t, fields in rows])


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents=_documents)
def test_documents_round_trip_through_ndjson(tmp_path: Path,
                                             documents: list[dict[str, Any]]) -> None:
    path = tmp_path / "content" / "dataset.ndjson"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(json.dumps(doc) + "\n" for doc in documents), encoding="utf-8")
    (tmp_path / "ssgen.toml").write_text('[source]\nperspective = "raw"\nmarkdown_dir = ""\n')
    source = LocalSource(load_config(tmp_path, env={}))
    assert source.documents == documents


# --- Markdown ---------------------------------------------------------------------------


def test_markdown_files_become_documents(site: Path) -> None:
    docs = by_id(LocalSource(configure(site, 'files = ["content/dataset.ndjson"]')))
    about = docs["md.about"]
    assert about["_type"] == "page" and about["title"] == "About"
    assert about["date"] == "2024-03-01" and about["tags"] == ["a", "b"]
    assert about["slug"] == {"_type": "slug", "current": "about"}
    assert about["body"].startswith("# About\n")
    install = docs["md.docs.install"]
    assert install["_type"] == "doc" and install["slug"]["current"] == "installation"
    assert install["body"] == "Run `pip install ssgen`.\n"
    plain = docs["md.docs.plain"]
    assert plain["slug"]["current"] == "docs/plain" and plain["_type"] == "page"
    assert plain["body"] == "No front matter here.\n"
    assert "post.one" in docs


def test_markdown_type_and_type_field(site: Path) -> None:
    (site / "content" / "note.md").write_text("---\ntype: note\n---\nx\n")
    docs = by_id(LocalSource(configure(site, 'files = []\nmarkdown_type = "article"')))
    assert docs["md.note"]["_type"] == "note"
    assert docs["md.about"]["_type"] == "article"


def test_markdown_disabled(site: Path) -> None:
    source = LocalSource(configure(site, 'files = ["content/dataset.ndjson"]\nmarkdown_dir = ""'))
    assert not [i for i in ids(source) if i.startswith("md.")]


def test_bad_front_matter_skips_the_file_and_names_it(site: Path) -> None:
    (site / "content" / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    source = LocalSource(configure(site, "files = []"))
    ((where, text),) = source.faults()
    assert where == "content/broken.md" and text.startswith("content/broken.md:3: invalid YAML")
    assert "md.broken" not in ids(source) and "md.about" in ids(source)


def test_datasets_discovered_under_content_when_files_not_set(site: Path) -> None:
    (site / "content" / "extra.ndjson").write_text('{"_id":"extra","_type":"t"}\n')
    source = LocalSource(configure(site, 'perspective = "raw"'))
    assert {"extra", "post.one", "drafts.post.two", "md.about"} <= set(ids(source))
    assert source.watched_paths() == [site / "content"]


def test_watched_paths_lists_files_and_markdown_dir(site: Path) -> None:
    config = configure(site, 'files = ["content/dataset.ndjson"]\nmarkdown_dir = "content/docs"')
    source = LocalSource(config)
    content = site / "content"
    assert source.watched_paths() == [content / "dataset.ndjson", content / "docs"]
    assert set(ids(source)) >= {"md.install", "md.plain"}


# --- export archives --------------------------------------------------------------------


def build_export(path: Path, lines: list[dict[str, Any]], *, assets: Any = None,
                 top: str = "production-export-2024-05-01") -> Path:
    with tarfile.open(path, "w:gz") as archive:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        add("data.ndjson", "".join(json.dumps(d) + "\n" for d in lines).encode())
        if assets is not None:
            add("assets.json", json.dumps(assets).encode())
        add(f"images/{SHA}-1200x800.jpg", b"\xff\xd8fakejpeg")
    return path


EXPORTED = [
    {"_id": "post.x", "_type": "post", "title": "X",
     "mainImage": {"_type": "image", "_sanityAsset": f"image@file://./images/{SHA}-1200x800.jpg",
                   "crop": {"top": 0.1, "bottom": 0, "left": 0, "right": 0}},
     "gallery": [{"_key": "k1", "_type": "image",
                  "_sanityAsset": f"image@file://./images/{SHA}-1200x800.jpg"}],
     "attachment": {"_type": "file", "_sanityAsset": "file@file://./files/abc123.pdf"}},
    {"_id": "drafts.post.x", "_type": "post", "title": "X draft"},
]


def test_export_restores_asset_references(tmp_path: Path) -> None:
    archive = build_export(tmp_path / "export.tar.gz", EXPORTED,
                           assets={f"image-{SHA}-1200x800-jpg": {"originalFilename": "cat.jpg"}})
    loaded = read_export(archive, "export.tar.gz", project_id="proj", dataset="production")
    docs = {d["_id"]: d for d in loaded.documents}
    image = docs["post.x"]["mainImage"]
    assert image == {"_type": "image",
                     "asset": {"_type": "reference", "_ref": f"image-{SHA}-1200x800-jpg"},
                     "crop": {"top": 0.1, "bottom": 0, "left": 0, "right": 0}}
    assert docs["post.x"]["gallery"][0]["asset"]["_ref"] == f"image-{SHA}-1200x800-jpg"
    assert docs["post.x"]["attachment"]["asset"]["_ref"] == "file-abc123-pdf"
    asset = docs[f"image-{SHA}-1200x800-jpg"]
    assert asset["_type"] == "sanity.imageAsset" and asset["extension"] == "jpg"
    assert asset["metadata"]["dimensions"]["width"] == 1200
    assert asset["metadata"]["dimensions"]["aspectRatio"] == 1.5
    assert asset["originalFilename"] == "cat.jpg" and asset["mimeType"] == "image/jpeg"
    assert asset["url"] == f"https://cdn.sanity.io/images/proj/production/{SHA}-1200x800.jpg"
    assert docs["file-abc123-pdf"]["_type"] == "sanity.fileAsset"
    assert loaded.where(0) == "export.tar.gz:production-export-2024-05-01/data.ndjson:1"


def test_export_is_read_through_the_source_with_perspective(site: Path) -> None:
    build_export(site / "content" / "export.tar.gz", EXPORTED)
    source = LocalSource(configure(site, 'files = ["content/export.tar.gz"]\nmarkdown_dir = ""'))
    docs = by_id(source)
    assert "drafts.post.x" not in docs and docs["post.x"]["title"] == "X"
    assert "url" not in docs[f"image-{SHA}-1200x800-jpg"]


def test_export_bad_line_names_archive_member_and_line(tmp_path: Path) -> None:
    archive = build_export(tmp_path / "e.tar.gz", [{"_id": "a", "_type": "t"}, {"_type": "t"}])
    where = r"e\.tar\.gz:production-export-2024-05-01/data\.ndjson:2"
    ((at, message),) = read_export(archive, "e.tar.gz").faults
    assert re.match(where + ": missing _id", message) and re.fullmatch(where, at)


def test_export_without_data_ndjson(tmp_path: Path) -> None:
    path = tmp_path / "e.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("x/readme.txt")
        archive.addfile(info, io.BytesIO(b""))
    with pytest.raises(SourceError, match=r"e\.tar\.gz: no data\.ndjson in the archive"):
        read_export(path, "e.tar.gz")


def test_corrupt_export(tmp_path: Path) -> None:
    path = tmp_path / "e.tar.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00 definitely not gzip")
    with pytest.raises(SourceError, match=r"e\.tar\.gz: not a readable \.tar\.gz export"):
        read_export(path, "e.tar.gz")


# --- perspectives -----------------------------------------------------------------------


def test_published_hides_drafts(site: Path) -> None:
    source = LocalSource(configure(site, 'files = ["content/dataset.ndjson"]\nmarkdown_dir = ""'))
    assert ids(source) == ["author.ada", "post.one", "post.two", "settings"]
    assert by_id(source)["post.two"]["title"] == "Two"


def test_drafts_overlay_published(site: Path) -> None:
    config = configure(site, 'files = ["content/dataset.ndjson"]\nmarkdown_dir = ""')
    source = LocalSource(config, drafts=True)
    assert ids(source) == ["author.ada", "post.one", "post.two", "post.three", "settings"]
    assert by_id(source)["post.two"]["title"] == "Two (edited)"
    assert by_id(source)["post.three"]["title"] == "Three"
    assert by_id(source)["post.three"]["_originalId"] == "drafts.post.three"
    assert "_originalId" not in by_id(source)["post.one"]


def test_drafts_perspective_from_config(site: Path) -> None:
    config = configure(site, 'files = ["content/dataset.ndjson"]\nperspective = "drafts"')
    assert by_id(LocalSource(config))["post.two"]["title"] == "Two (edited)"


def test_raw_keeps_everything(site: Path) -> None:
    config = configure(site, 'files = ["content/dataset.ndjson"]\nmarkdown_dir = ""\n'
                             'perspective = "raw"')
    assert ids(LocalSource(config)) == ["author.ada", "post.one", "post.two", "drafts.post.two",
                                        "drafts.post.three", "settings"]


def test_apply_perspective_does_not_mutate_input() -> None:
    docs = [{"_id": "a", "_type": "t", "v": 1}, {"_id": "drafts.a", "_type": "t", "v": 2}]
    before = json.dumps(docs)
    assert apply_perspective(docs, "drafts") == [{"_id": "a", "_type": "t", "v": 2,
                                                  "_originalId": "drafts.a"}]
    assert json.dumps(docs) == before


# --- reload -----------------------------------------------------------------------------


def test_reload_picks_up_an_edit_and_rereads_only_changed_files(
        site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Read long after the files were written: a stamp taken within RACY_NS of a write is
    # not trusted (tests/test_local_racy.py), and this test counts the reads of the others.
    later = time.time_ns() + 2 * RACY_NS
    monkeypatch.setattr(local, "now_ns", lambda: later)
    source = LocalSource(configure(site, 'files = ["content/dataset.ndjson"]'))
    reads: list[str] = []
    original = cached.parse_input  # every parse of a file but Markdown's goes through it

    def counting(source_config: Any, item: Any, data: bytes, previous: Any) -> Any:
        reads.append(item.display)
        return original(source_config, item, data, previous)

    monkeypatch.setattr(cached, "parse_input", counting)
    parse_md = markdown_docs.markdown_or_fault

    def counting_md(data: bytes, rel: str, display: str, default_type: str) -> Any:
        reads.append(display)
        return parse_md(data, rel, display, default_type)

    monkeypatch.setattr(markdown_docs, "markdown_or_fault", counting_md)
    about = site / "content" / "about.md"
    about.write_text("---\ntitle: About us\n---\nNew body.\n")
    os.utime(about, ns=(1, 1))
    source.reload()
    assert reads == ["content/about.md"]
    assert by_id(source)["md.about"]["title"] == "About us"
    source.reload()
    assert reads == ["content/about.md"]


def test_reload_sees_new_and_deleted_markdown(site: Path) -> None:
    source = LocalSource(configure(site, 'files = ["content/dataset.ndjson"]'))
    (site / "content" / "new.md").write_text("# New\n")
    (site / "content" / "docs" / "plain.md").unlink()
    source.reload()
    assert "md.new" in ids(source) and "md.docs.plain" not in ids(source)


def test_reload_skips_a_broken_line_and_recovers(site: Path) -> None:
    source = LocalSource(configure(site, 'files = ["content/dataset.ndjson"]'))
    before = list(source.documents)
    path = site / "content" / "dataset.ndjson"
    text = path.read_text()
    path.write_text('{"_id": "broken"\n' + text)
    source.reload()
    ((where, message),) = source.faults()
    assert where == "content/dataset.ndjson:1" and "invalid JSON" in message
    assert source.documents == before
    path.write_text(text)
    source.reload()
    assert source.faults() == [] and source.documents == before


# --- queries ----------------------------------------------------------------------------


def test_query_returns_value_and_contributing_ids(site: Path) -> None:
    source = open_source(configure(site, 'files = ["content/dataset.ndjson"]'))
    query = parse('*[_type == "post"] | order(publishedAt asc){title, "author": author->name}')
    result = source.query(query)
    assert isinstance(result, QueryResult)
    assert result.value == [{"title": "One", "author": "Ada"}, {"title": "Two", "author": "Ada"}]
    assert {"post.one", "post.two", "author.ada"} <= result.ids
    assert "settings" not in result.ids


def test_query_params_and_query_many(site: Path) -> None:
    source = open_source(configure(site, 'files = ["content/dataset.ndjson"]'))
    query = parse('*[_type == "post" && slug.current == $slug][0].title')
    results = source.query_many([(query, {"slug": "one"}), (query, {"slug": "two"})])
    assert [r.value for r in results] == ["One", "Two"]
    assert "post.one" in results[0].ids and "post.two" not in results[0].ids


def test_query_sees_drafts_overlay(site: Path) -> None:
    source = open_source(configure(site, 'files = ["content/dataset.ndjson"]'), drafts=True)
    result = source.query(parse('*[_type == "post"] | order(title asc).title'))
    assert result.value == ["One", "Three", "Two (edited)"]


def test_query_derefs_restored_export_assets(site: Path) -> None:
    build_export(site / "content" / "export.tar.gz", EXPORTED)
    source = open_source(configure(site, 'files = ["content/export.tar.gz"]\nmarkdown_dir = ""'))
    result = source.query(parse('*[_id == "post.x"][0].mainImage.asset->metadata.dimensions.width'))
    assert result.value == 1200
    assert f"image-{SHA}-1200x800-jpg" in result.ids


def test_query_markdown_documents(site: Path) -> None:
    source = open_source(configure(site, "files = []"))
    result = source.query(parse('*[_type == "page"] | order(slug.current asc).slug.current'))
    assert result.value == ["about", "docs/plain"]


def test_open_source_builds_the_configured_type(site: Path) -> None:
    assert isinstance(open_source(configure(site, "files = []")), LocalSource)
    from ssgen.sources.sanity import SanitySource

    toml = '[source]\ntype = "sanity"\nproject_id = "p"\ndataset = "d"\n' \
        'api_host = "http://127.0.0.1:9"\n'
    (site / "ssgen.toml").write_text(toml)
    assert load_config(site, env={}).source.mirror  # the default: see test_mirror.py
    (site / "ssgen.toml").write_text(toml + "mirror = false\n")
    assert isinstance(open_source(load_config(site, env={}), drafts=True), SanitySource)


def test_unpacked_export_ndjson_is_restored_too(site: Path) -> None:
    lines = [*EXPORTED, {"_id": "file-abc123-pdf", "_type": "sanity.fileAsset", "size": 3}]
    (site / "content" / "data.ndjson").write_text("".join(json.dumps(d) + "\n" for d in lines))
    docs = by_id(LocalSource(configure(site, 'files = ["content/data.ndjson"]\nmarkdown_dir = ""')))
    assert docs["post.x"]["mainImage"]["asset"]["_ref"] == f"image-{SHA}-1200x800-jpg"
    assert docs[f"image-{SHA}-1200x800-jpg"]["_type"] == "sanity.imageAsset"
    assert docs["file-abc123-pdf"] == {"_id": "file-abc123-pdf", "_type": "sanity.fileAsset",
                                       "size": 3}


def test_documents_without_assets_are_not_copied(tmp_path: Path) -> None:
    plain = {"_id": "p", "_type": "post", "body": [{"_type": "block", "children": []}]}
    archive = build_export(tmp_path / "e.tar.gz", [plain, EXPORTED[0]])
    loaded = read_export(archive, "e.tar.gz")
    assert loaded.documents[0] == plain and "_sanityAsset" not in json.dumps(loaded.documents)


def test_query_many_shares_one_now(site: Path) -> None:
    source = open_source(configure(site, "files = []"))
    query = parse("now()")
    first, *rest = source.query_many([(query, {})] * 50)
    assert all(result.value == first.value for result in rest)
    fixed = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert source.query(query, now=fixed).value.startswith("2024-05-01T12:00:00")


def test_two_exports_share_one_asset_document(site: Path) -> None:
    build_export(site / "content" / "a.tar.gz", EXPORTED[:1])
    other = [{"_id": "post.y", "_type": "post", "mainImage": EXPORTED[0]["mainImage"]}]
    build_export(site / "content" / "b.tar.gz", other)
    config = configure(site, 'files = ["content/a.tar.gz", "content/b.tar.gz"]\nmarkdown_dir = ""')
    source = LocalSource(config)
    assert ids(source).count(f"image-{SHA}-1200x800-jpg") == 1
    count = source.query(parse('count(*[_type == "sanity.imageAsset"])')).value
    assert count == 1


_ids = st.lists(st.sampled_from(["a", "b", "c", "d"]).flatmap(
    lambda base: st.sampled_from([base, f"drafts.{base}"])), unique=True, max_size=8)


@given(_ids)
def test_perspectives_agree_with_the_draft_model(doc_ids: list[str]) -> None:
    docs = [{"_id": i, "_type": "t", "draft": i.startswith("drafts.")} for i in doc_ids]
    bases = {i.removeprefix("drafts.") for i in doc_ids}
    published = apply_perspective(docs, "published")
    assert [d["_id"] for d in published] == [i for i in doc_ids if not i.startswith("drafts.")]
    overlaid = apply_perspective(docs, "drafts")
    assert sorted(d["_id"] for d in overlaid) == sorted(bases)
    for doc in overlaid:
        has_draft = f"drafts.{doc['_id']}" in doc_ids
        assert doc["draft"] is has_draft
        assert ("_originalId" in doc) is has_draft
    assert apply_perspective(docs, "raw") == docs


def test_reload_parses_only_changed_lines_and_keeps_the_other_documents(site: Path) -> None:
    source = LocalSource(configure(site, 'files = ["content/dataset.ndjson"]'))
    before = {d["_id"]: d for d in source.documents}
    path = site / "content" / "dataset.ndjson"
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    first["title"] = "Edited"
    lines[0] = json.dumps(first)
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, ns=(2, 2))
    source.reload()
    after = {d["_id"]: d for d in source.documents}
    assert after[first["_id"]]["title"] == "Edited"
    unchanged = [i for i in after if i != first["_id"] and i in before]
    assert unchanged and all(after[i] is before[i] for i in unchanged)
    fresh = LocalSource(configure(site, 'files = ["content/dataset.ndjson"]'))
    assert source.documents == fresh.documents


def test_fingerprint_is_of_the_bytes_the_source_read(site: Path) -> None:
    config = configure(site, "")
    source = LocalSource(config)
    assert source.fingerprint() == read_inputs(config).fingerprint
    about = site / "content" / "about.md"
    about.write_text("---\ntitle: About us\n---\nEdited after loading.\n")
    # The build records what it built from: the edit is not in this source yet.
    assert source.fingerprint() != read_inputs(config).fingerprint
    source.reload()
    assert source.fingerprint() == read_inputs(config).fingerprint
    about.unlink()
    source.reload()
    assert source.fingerprint() == read_inputs(config).fingerprint


def test_a_source_given_the_fingerprinted_bytes_does_not_read_the_files_again(
    site: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ssgen.sources.local as local

    config = configure(site, "")
    read = local.read_inputs(config)
    assert read.fingerprint == read_inputs(config).fingerprint
    assert len(read.files) >= 2  # the dataset and the Markdown pages

    def no_read(*args: object) -> None:
        raise AssertionError("a file read twice")

    monkeypatch.setattr(local, "read_stable", no_read)
    monkeypatch.setattr(cached, "read_stable", no_read)
    monkeypatch.setattr(markdown_docs, "_read", no_read)
    source = LocalSource(config, preread=read)
    assert source.fingerprint() == read.fingerprint
    monkeypatch.undo()
    assert source.documents == LocalSource(config).documents


def test_a_file_saved_after_it_was_fingerprinted_is_seen_by_the_next_load(site: Path) -> None:
    """The source holds what its fingerprint was taken of (one stat a file), so the build
    records that fingerprint; the file saved in between differs from it next time."""
    import ssgen.sources.local as local

    config = configure(site, "")
    read = local.read_inputs(config)
    about = site / "content" / "about.md"
    about.write_text("---\ntitle: Saved in between\n---\nNew.\n")
    os.utime(about, ns=(5, 5))  # a new stamp even on a coarse clock
    source = LocalSource(config, preread=read)
    assert "Saved in between" not in {d.get("title") for d in source.documents}
    assert source.fingerprint() == read.fingerprint != read_inputs(config).fingerprint
    source.reload()
    assert "Saved in between" in {d.get("title") for d in source.documents}
    assert source.fingerprint() == read_inputs(config).fingerprint
    after = LocalSource(config, preread=read_inputs(config))
    assert "Saved in between" in {d.get("title") for d in after.documents}
