"""Named regression tests for the classic failures of incremental static site generators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sitekit import run_cli
from test_incremental import SiteModel, post_doc

from ssgen.build.pipeline import build
from ssgen.config.load import load_config


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, SiteModel]:
    model = SiteModel()
    folder = tmp_path / "site"
    model.write(folder)
    assert build(load_config(folder), jobs=1).ok
    return folder, model


def rebuild(folder: Path, model: SiteModel) -> dict[str, list[str]]:
    model.write(folder)
    report = build(load_config(folder), jobs=1)
    assert report.ok, report.failures
    return report.changes()


def read(folder: Path, rel: str) -> str:
    return (folder / "public" / rel).read_text()


def test_new_post_appears_on_index_and_in_neighbours(site: tuple[Path, SiteModel]) -> None:
    folder, model = site
    # Slugs alpha, beta, gamma exist; "bz" sorts between beta and gamma.
    model.docs["new"] = post_doc("new", "bz", "a1", "Brand new")
    changes = rebuild(folder, model)
    assert "blog/bz/index.html" in changes["new"]
    assert "Brand new" in read(folder, "blog/index.html")
    # In the mirror route (slug order), gamma's GROQ "prev" and its built-in `prev` are
    # now the new post, and beta's `next` links to it.
    gamma = read(folder, "p/gamma/index.html").split("|")
    assert gamma[2] == gamma[3] == "Brand new"
    assert read(folder, "p/beta/index.html").endswith("|/p/bz/")
    assert {"p/gamma/index.html", "p/beta/index.html"} <= set(changes["changed"])
    assert "p/alpha/index.html" not in changes["changed"]


def test_deleted_post_is_removed_and_links_vanish(site: tuple[Path, SiteModel]) -> None:
    folder, model = site
    del model.docs["p1"]  # beta
    changes = rebuild(folder, model)
    assert not (folder / "public/blog/beta").exists()
    assert "blog/beta/index.html" in changes["deleted"]
    assert "beta" not in read(folder, "blog/index.html")
    assert "Title 1" not in read(folder, "authors/a2/index.html")
    assert "Title 1" not in read(folder, "sitemap.xml")


def test_slug_rename_moves_the_page(site: tuple[Path, SiteModel]) -> None:
    folder, model = site
    model.docs["p0"]["slug"]["current"] = "alpha-renamed"
    changes = rebuild(folder, model)
    assert "blog/alpha-renamed/index.html" in changes["new"]
    assert "blog/alpha/index.html" in changes["deleted"]
    assert not (folder / "public/blog/alpha").exists()
    sitemap = read(folder, "sitemap.xml")
    assert "/blog/alpha-renamed/" in sitemap and "/blog/alpha/" not in sitemap


def test_author_rename_updates_every_post_showing_it(site: tuple[Path, SiteModel]) -> None:
    folder, model = site
    model.docs["extra"] = post_doc("extra", "omega", "a1", "Extra")
    rebuild(folder, model)
    model.docs["a1"]["name"] = "Renamed Author"
    changes = rebuild(folder, model)
    for slug in ("alpha", "omega"):  # both posts by a1
        assert "Renamed Author" in read(folder, f"blog/{slug}/index.html")
        assert f"blog/{slug}/index.html" in changes["changed"]
    assert "blog/beta/index.html" not in changes["changed"]  # by a2


def test_partial_template_edit_rebuilds_exactly_its_users(site: tuple[Path, SiteModel]) -> None:
    folder, model = site
    model.templates["_card.html"] += "<!-- card v2 -->"
    changes = rebuild(folder, model)
    assert changes["changed"] == ["blog/index.html"]  # the only page including _card.html
    assert changes["new"] == [] and changes["deleted"] == []


def test_draft_is_invisible_until_published(site: tuple[Path, SiteModel]) -> None:
    folder, model = site
    draft = post_doc("drafts.p0", "alpha", "a1", "Draft title")
    model.docs["drafts.p0"] = draft
    changes = rebuild(folder, model)
    assert changes == {"new": [], "changed": [], "deleted": []}
    model.docs["p0"] = {**draft, "_id": "p0"}
    del model.docs["drafts.p0"]
    rebuild(folder, model)
    assert "Draft title" in read(folder, "blog/alpha/index.html")


def test_revalidate_path_rerenders_and_inspect_shows_tags(site: tuple[Path, SiteModel]) -> None:
    folder, _ = site
    page = folder / "public/blog/alpha/index.html"
    page.write_text("tampered")
    result = run_cli("--site", str(folder), "revalidate", "--path", "/blog/alpha/")
    assert result.exit_code == 0, result.output
    assert "Title 0" in page.read_text()
    result = run_cli("--site", str(folder), "inspect", "/blog/alpha/", "--json")
    info = json.loads(result.stdout)
    assert "post:alpha" in info["tags"] and "doc:p0" in info["tags"]
    assert info["templates"] == ["base.html", "post.html"]
    result = run_cli("--site", str(folder), "inspect", "--tag", "post:alpha", "--json")
    assert json.loads(result.stdout)["pages"] == ["/blog/alpha/"]


def test_revalidate_tag_requeries_pages(site: tuple[Path, SiteModel]) -> None:
    folder, model = site
    model.docs["p0"]["title"] = "Changed behind the manifest"
    model.write(folder)
    result = run_cli("--site", str(folder), "revalidate", "--tag", "post:alpha")
    assert result.exit_code == 0, result.output
    assert "Changed behind the manifest" in read(folder, "blog/alpha/index.html")


def test_corrupt_manifest_means_full_rebuild_with_warning(site: tuple[Path, SiteModel]) -> None:
    folder, _ = site
    (folder / ".ssgen/manifest.sqlite").write_bytes(b"garbage" * 100)
    for extra in ("-wal", "-shm"):
        (folder / f".ssgen/manifest.sqlite{extra}").unlink(missing_ok=True)
    result = run_cli("--site", str(folder), "build")
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "full" in result.output


def test_config_change_means_full_rebuild(site: tuple[Path, SiteModel]) -> None:
    folder, _ = site
    toml = (folder / "ssgen.toml").read_text().replace('title = "Prop"', 'title = "Prop 2"')
    (folder / "ssgen.toml").write_text(toml)
    report = build(load_config(folder), jobs=1)
    assert report.full and report.ok
