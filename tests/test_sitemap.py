"""Sitemaps at any size: lastmod from page data, the index past the limits, percent-encoded
URLs, every file valid against the sitemaps.org schemas (tests/fixtures/sitemaps)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import DEFAULT_TOML, author, make_site, output_files, post, write_docs

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.errors import ConfigError
from ssgen.render.generated import render_sitemap
from ssgen.render.sitemap import page_lastmod, sitemap_files
from ssgen.routes.page import PageSpec

SCHEMAS = Path(__file__).parent / "fixtures" / "sitemaps"
URLSET = xmlschema.XMLSchema(SCHEMAS / "sitemap.xsd")
INDEX = xmlschema.XMLSchema(SCHEMAS / "siteindex.xsd")
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
LIST_TOML = DEFAULT_TOML.replace('"author": author->name}', '"author": author->name, _updatedAt, '
                                 'published}')


def validate(files: dict[str, bytes]) -> list[str]:
    """Validate every sitemap file; return the page URLs they list, in file order."""
    root = ET.fromstring(files["sitemap.xml"])
    if root.tag == f"{SM}urlset":
        URLSET.validate(files["sitemap.xml"].decode())
        return [u.findtext(f"{SM}loc") or "" for u in root]
    INDEX.validate(files["sitemap.xml"].decode())
    locs: list[str] = []
    for entry in root:
        name = (entry.findtext(f"{SM}loc") or "").rsplit("/", 1)[1]
        URLSET.validate(files[name].decode())
        locs += [u.findtext(f"{SM}loc") or "" for u in ET.fromstring(files[name])]
    return locs


def test_small_site_is_one_urlset_in_the_old_layout() -> None:
    files = sitemap_files({"https://ex.com/b/": "2024-01-02T00:00:00Z", "https://ex.com/": None},
                          "https://ex.com")
    assert list(files) == ["sitemap.xml"]
    assert files["sitemap.xml"] == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        b"  <url>\n    <loc>https://ex.com/</loc>\n  </url>\n"
        b"  <url>\n    <loc>https://ex.com/b/</loc>\n"
        b"    <lastmod>2024-01-02T00:00:00Z</lastmod>\n  </url>\n</urlset>\n")
    validate(files)
    with pytest.raises(ValueError, match="one URL"):  # the schema has no empty urlset
        render_sitemap([])


def test_index_splits_by_count_and_dates_each_part() -> None:
    entries = {f"https://ex.com/p/{i:02}/": f"2024-01-{i + 1:02}T00:00:00Z" for i in range(7)}
    files = sitemap_files(entries, "https://ex.com/", max_urls=3)
    assert sorted(files) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml", "sitemap.xml"]
    assert validate(files) == sorted(entries)
    index = ET.fromstring(files["sitemap.xml"])
    assert [e.findtext(f"{SM}loc") for e in index] == [
        f"https://ex.com/sitemap-{n}.xml" for n in (1, 2, 3)]
    assert [e.findtext(f"{SM}lastmod") for e in index] == [
        "2024-01-03T00:00:00Z", "2024-01-06T00:00:00Z", "2024-01-07T00:00:00Z"]


def test_index_splits_by_size() -> None:
    entries = {f"https://ex.com/{'x' * 500}/{i}/": None for i in range(10)}
    files = sitemap_files(entries, "https://ex.com", max_bytes=2_000)
    parts = [name for name in files if name != "sitemap.xml"]
    assert len(parts) == 4  # three ~540-byte rows fit in 2,000 bytes with the wrapper
    assert all(len(files[name]) <= 2_000 for name in parts)
    assert validate(files) == sorted(entries)


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text("abc/é %&<", min_size=1, max_size=8),
                       st.one_of(st.none(), st.just("2024-05-01T00:00:00Z")),
                       min_size=1, max_size=30),  # an empty urlset is invalid: a site with no page
       st.integers(1, 8), st.integers(300, 3_000))
def test_any_split_lists_every_url_once_within_limits(
        paths: dict[str, str | None], max_urls: int, max_bytes: int) -> None:
    from ssgen.routes.paths import canonical_path
    entries = {"https://ex.com/" + canonical_path("/" + p).lstrip("/"): s for p, s in paths.items()}
    files = sitemap_files(entries, "https://ex.com", max_urls=max_urls, max_bytes=max_bytes)
    assert validate(files) == sorted(entries)
    for name, data in files.items():
        if name != "sitemap.xml":
            assert data.count(b"<url>") <= max_urls and len(data) <= max_bytes


def test_lastmod_from_configured_field_else_updated_at() -> None:
    spec = PageSpec("/a/", "r", "t.html", {"page": {"_updatedAt": "2024-05-01T10:00:00+02:00",
                                                     "meta": {"edited": "2024-06-01"}}},
                    frozenset())
    assert page_lastmod(spec) == "2024-05-01T08:00:00Z"
    assert page_lastmod(spec, "meta.edited") == "2024-06-01T00:00:00Z"
    assert page_lastmod(spec, "missing") == "2024-05-01T08:00:00Z"
    bad = PageSpec("/b/", "r", "t.html", {"page": {"_updatedAt": "yesterday"}}, frozenset())
    listing = PageSpec("/", "r", "t.html", {"page": [{"_updatedAt": "2024-01-01"}]}, frozenset())
    assert page_lastmod(bad) is None and page_lastmod(listing) is None


def dated_post(n: int, updated: str, **extra: object) -> dict[str, object]:
    return post(n, _updatedAt=updated, **extra)


def lastmods(site: Path) -> dict[str, str | None]:
    files = output_files(site)
    validate(files)
    root = ET.fromstring(files["sitemap.xml"])
    return {u.findtext(f"{SM}loc") or "": u.findtext(f"{SM}lastmod") for u in root}


def test_build_lastmod_changes_only_with_the_page(tmp_path: Path) -> None:
    docs = [author("a1", "Ada"), dated_post(1, "2024-01-01T00:00:00Z"),
            dated_post(2, "2024-02-01T00:00:00Z")]
    site = make_site(tmp_path, docs, toml=LIST_TOML)
    config = load_config(site)
    build(config)
    before = lastmods(site)
    assert before["https://example.com/blog/post-1/"] == "2024-01-01T00:00:00Z"
    assert before["https://example.com/blog/"] is None
    docs[2] = dated_post(2, "2024-03-01T00:00:00Z", title="Edited")
    write_docs(site, docs)
    build(config)
    after = lastmods(site)
    assert after.pop("https://example.com/blog/post-2/") == "2024-03-01T00:00:00Z"
    before.pop("https://example.com/blog/post-2/")
    assert after == before
    write_docs(site, docs[:2])  # post 2 unpublished: gone from the sitemap
    build(config)
    assert "https://example.com/blog/post-2/" not in lastmods(site)


def test_build_configured_field_and_index_and_shrink(tmp_path: Path) -> None:
    docs = [author("a1", "Ada"), *(post(n, published=f"2024-01-{n:02}") for n in range(1, 6)),
            post(9, slug={"_type": "slug", "current": "café au lait"})]
    toml = LIST_TOML + '\n[sitemap]\nlastmod_field = "published"\nmax_urls = 2\n'
    site = make_site(tmp_path, docs, toml=toml)
    build(load_config(site))
    files = output_files(site)
    locs = validate(files)
    assert "https://example.com/blog/caf%C3%A9%20au%20lait/" in locs
    assert sorted(n for n in files if n.startswith("sitemap-")) == [
        f"sitemap-{n}.xml" for n in (1, 2, 3, 4)]
    assert b"<lastmod>2024-01-05T00:00:00Z</lastmod>" in b"".join(files.values())
    write_docs(site, docs[:2])
    (site / "ssgen.toml").write_text(LIST_TOML, encoding="utf-8")
    build(load_config(site))
    files = output_files(site)
    assert not [n for n in files if n.startswith("sitemap-")]
    assert len(validate(files)) == 2


@pytest.mark.parametrize("value", ["0", "50001", '"many"'])
def test_max_urls_bounds(tmp_path: Path, value: str) -> None:
    site = make_site(tmp_path, toml=DEFAULT_TOML + f"\n[sitemap]\nmax_urls = {value}\n")
    with pytest.raises(ConfigError, match=r"sitemap\.max_urls"):
        load_config(site)


def test_fixture_schemas_reject_bad_sitemaps() -> None:
    bad = render_sitemap(["short"]).decode()  # a loc under the schema's 12 characters
    assert not URLSET.is_valid(bad)
    assert not INDEX.is_valid(render_sitemap(["https://ex.com/"]).decode())
    assert json.dumps  # the module's imports stay used when cases change
