"""The sitemap's file names are taken: a page or a static file at ``/sitemap-N.xml``
clashes with the generated sitemap, whatever the site's size; and a site without a page
has no sitemap, since the sitemaps.org schema has no empty ``<urlset>``."""

from __future__ import annotations

from pathlib import Path

import pytest
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import DEFAULT_TEMPLATES, DEFAULT_TOML, make_site, output_files, write_docs

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.render.sitemap import INDEX, is_sitemap_file, sitemap_files

URLSET = xmlschema.XMLSchema(Path(__file__).parent / "fixtures" / "sitemaps" / "sitemap.xsd")
ROUTE = '\n[[routes]]\nname = "odd"\npath = "{path}"\ntemplate = "odd.html"\n'
TEMPLATES = {**DEFAULT_TEMPLATES, "odd.html": "<?xml version='1.0'?><x/>"}


def failures(site: Path) -> dict[str, str]:
    report = build(load_config(site))
    return {failure.path: failure.message for failure in report.failures}


@pytest.mark.parametrize("path", ["/sitemap-1.xml", "/sitemap-12.xml", "/sitemap.xml",
                                  "/sitemap-3.xml/"])
def test_a_page_at_a_sitemap_name_fails_naming_the_sitemap(tmp_path: Path, path: str) -> None:
    site = make_site(tmp_path, toml=DEFAULT_TOML + ROUTE.format(path=path), templates=TEMPLATES)
    failed = failures(site)
    assert list(failed) == [path]
    assert "output clash" in failed[path] and "sitemap" in failed[path]
    assert "change the route's path" in failed[path]
    files = output_files(site)
    assert b"odd" not in files[INDEX] and URLSET.is_valid(files[INDEX].decode())
    assert "blog/post-1/index.html" in files  # the other pages are built


def test_a_page_at_a_sitemap_part_builds_when_the_sitemap_is_off(tmp_path: Path) -> None:
    toml = DEFAULT_TOML + ROUTE.format(path="/sitemap-2.xml") + "\n[sitemap]\nenabled = false\n"
    site = make_site(tmp_path, toml=toml, templates=TEMPLATES)
    assert failures(site) == {}
    assert "sitemap-2.xml" in output_files(site)


def test_a_static_sitemap_part_is_reported(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (site / "static").mkdir()
    (site / "static" / "sitemap-2.xml").write_text("<mine/>", encoding="utf-8")
    failed = failures(site)
    assert list(failed) == ["/sitemap-2.xml"]
    assert "static/sitemap-2.xml" in failed["/sitemap-2.xml"]
    assert "rename it" in failed["/sitemap-2.xml"]


def test_a_static_sitemap_replaces_the_whole_generated_one(tmp_path: Path) -> None:
    site = make_site(tmp_path, toml=DEFAULT_TOML + "\n[sitemap]\nmax_urls = 1\n")
    (site / "static").mkdir()
    (site / "static" / "sitemap.xml").write_text("<mine/>", encoding="utf-8")
    (site / "static" / "sitemap-2.xml").write_text("<part/>", encoding="utf-8")
    assert failures(site) == {}
    files = output_files(site)
    assert sorted(n for n in files if n.startswith("sitemap")) == ["sitemap-2.xml", "sitemap.xml"]
    assert files[INDEX] == b"<mine/>" and files["sitemap-2.xml"] == b"<part/>"
    assert b"Sitemap: https://example.com/sitemap.xml" in files["robots.txt"]


def test_the_schema_has_no_empty_urlset() -> None:
    empty = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n</urlset>\n')
    assert not URLSET.is_valid(empty)
    assert sitemap_files({}, "https://ex.com") == {}


def test_a_site_without_pages_has_no_sitemap_and_loses_its_old_one(tmp_path: Path) -> None:
    toml = DEFAULT_TOML.split("[[routes]]", 1)[0]  # no route: no page at all
    site = make_site(tmp_path)
    build(load_config(site))
    assert URLSET.is_valid(output_files(site)[INDEX].decode())
    (site / "ssgen.toml").write_text(toml, encoding="utf-8")
    write_docs(site, [])
    report = build(load_config(site))
    files = output_files(site)
    assert INDEX not in files and INDEX in report.deleted
    assert b"Sitemap: https://example.com/sitemap.xml" in files["robots.txt"]  # config alone
    (site / "ssgen.toml").write_text(DEFAULT_TOML, encoding="utf-8")
    build(load_config(site))  # the list page comes back: so does the sitemap
    assert URLSET.is_valid(output_files(site)[INDEX].decode())


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r"sitemap(-[0-9]{1,3})?\.xml|[a-z-]{1,12}(\.xml)?", fullmatch=True))
def test_sitemap_names_are_exactly_the_index_and_numbered_parts(rel: str) -> None:
    number = rel.removeprefix("sitemap-").removesuffix(".xml")
    expected = rel == INDEX or (rel.startswith("sitemap-") and rel.endswith(".xml")
                                and number.isdigit() and not number.startswith("0"))
    assert is_sitemap_file(rel) == expected


def test_incremental_builds_follow_a_static_sitemap_coming_and_going(tmp_path: Path) -> None:
    toml = DEFAULT_TOML + ROUTE.format(path="/sitemap-2.xml")
    site = make_site(tmp_path / "a", toml=toml, templates=TEMPLATES)
    (site / "static").mkdir()
    for step, present in enumerate((True, False, True, False)):
        own = site / "static" / INDEX
        if present:
            own.write_text("<mine/>", encoding="utf-8")
        else:
            own.unlink()
        clean = make_site(tmp_path / f"clean-{step}", toml=toml, templates=TEMPLATES)
        if present:
            (clean / "static").mkdir()
            (clean / "static" / INDEX).write_text("<mine/>", encoding="utf-8")
        assert failures(site) == failures(clean)
        got, want = output_files(site), output_files(clean)
        assert got[INDEX] == want[INDEX]
        assert ("sitemap-2.xml" in want) == present
