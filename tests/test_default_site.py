"""The bundled default site (repository root) and the `ssgen init` scaffold: their datasets,
Markdown pages, ssgen.toml, templates and the deployment examples."""

from __future__ import annotations

import configparser
import re
from collections import Counter
from pathlib import Path

import jinja2
import pytest
import yaml
from default_site_data import ROOT, SCAFFOLD, SiteData, front_matter, read_ndjson, refs

from ssgen.config.load import load_config

SITES = [pytest.param(ROOT, id="default"), pytest.param(SCAFFOLD, id="scaffold")]
SYSTEM_FIELDS = ("_id", "_type", "_rev", "_createdAt", "_updatedAt")
ASSET_REF = re.compile(r"image-([0-9a-f]{40})-(\d+)x(\d+)-jpg")
FILTERS = ("markdown", "portable_text", "image_url", "responsive_image", "date", "absolute_url",
           "slugify", "safe_url")


def templates_of(site: Path) -> list[str]:
    root = site / "templates"
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html"))


# --- the datasets -------------------------------------------------------------------------


@pytest.mark.parametrize("site", SITES)
def test_every_line_is_a_document_with_system_fields(site: Path) -> None:
    docs = read_ndjson(site / "content" / "dataset.ndjson")
    for number, doc in enumerate(docs, start=1):
        for field in SYSTEM_FIELDS:
            assert isinstance(doc.get(field), str) and doc[field], f"line {number}: {field}"
    ids = Counter(d["_id"] for d in docs)
    assert [i for i, n in ids.items() if n > 1] == []


@pytest.mark.parametrize("site", SITES)
def test_every_reference_resolves(site: Path) -> None:
    docs = read_ndjson(site / "content" / "dataset.ndjson")
    ids = {d["_id"] for d in docs}
    missing = {(d["_id"], r) for d in docs for r in refs(d) if r not in ids}
    assert missing == set()


@pytest.mark.parametrize("site", SITES)
def test_slugs_are_unique_per_type(site: Path) -> None:
    data = SiteData(site)
    for doc_type in ("post", "author", "category"):
        slugs = Counter(d["slug"]["current"] for d in data.of_type(doc_type))
        assert slugs and max(slugs.values()) == 1, doc_type


def test_default_dataset_has_the_promised_shape() -> None:
    data = SiteData(ROOT)
    counts = Counter(d["_type"] for d in data.published)
    assert counts["post"] >= 40
    assert (counts["author"], counts["category"], counts["siteSettings"]) == (5, 6, 1)
    drafts = [d for d in data.docs if d["_id"].startswith("drafts.")]
    published_drafts = [d for d in drafts if d["_id"].removeprefix("drafts.") in data.by_id]
    assert len(drafts) == 2 and len(published_drafts) == 1
    settings = data.of_type("siteSettings")[0]
    assert settings["title"] and settings["description"]
    assert all(item["href"].startswith("/") for item in settings["navigation"])


def test_image_references_match_their_asset_documents() -> None:
    data = SiteData(ROOT)
    image_refs = {r for d in data.published for r in refs(d) if r.startswith("image-")}
    assert image_refs
    for ref in image_refs:
        match = ASSET_REF.fullmatch(ref)
        assert match, ref
        sha, width, height = match.group(1), int(match.group(2)), int(match.group(3))
        asset = data.by_id[ref]
        assert asset["_type"] == "sanity.imageAsset"
        assert asset["url"] == (
            f"https://cdn.sanity.io/images/demo1234/production/{sha}-{width}x{height}.jpg"
        )
        dims = asset["metadata"]["dimensions"]
        assert (dims["width"], dims["height"]) == (width, height)


def test_posts_have_every_field_the_templates_use() -> None:
    data = SiteData(ROOT)
    for post in data.posts:
        assert post["slug"]["_type"] == "slug"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", post["publishedAt"])
        image = post["mainImage"]
        assert {"asset", "hotspot", "crop", "alt"} <= image.keys()
        assert all("_key" in c and c["_type"] == "reference" for c in post["categories"])
        assert data.by_id[post["author"]["_ref"]]["_type"] == "author"
    assert len({p["publishedAt"] for p in data.posts}) == len(data.posts), "prev/next need order"


def test_post_bodies_are_portable_text_with_every_feature() -> None:
    seen: set[str] = set()
    for post in SiteData(ROOT).posts:
        for block in post["body"]:
            assert block.get("_key"), post["_id"]
            if block["_type"] != "block":
                seen.add(block["_type"])
                continue
            seen.add(block["style"])
            if "listItem" in block:
                seen.add(f"{block['listItem']}:{block['level']}")
            mark_defs = {m["_key"]: m for m in block["markDefs"]}
            for span in block["children"]:
                assert span["_type"] == "span" and span.get("_key")
                for mark in span["marks"]:
                    assert mark in mark_defs or mark in ("strong", "em", "code"), mark
                    seen.add(mark_defs[mark]["_type"] if mark in mark_defs else mark)
    expected = {"normal", "h2", "h3", "blockquote", "bullet:1", "bullet:2", "number:1", "image"}
    assert expected | {"link", "strong", "em", "code"} <= seen


# --- Markdown pages, config and templates -----------------------------------------------


@pytest.mark.parametrize("site", SITES)
def test_markdown_pages_have_front_matter(site: Path) -> None:
    pages = sorted((site / "content").glob("*.md"))
    assert pages
    slugs = []
    for path in pages:
        fields, body = front_matter(path)
        assert {"title", "description", "slug"} <= fields.keys(), path.name
        assert body.strip(), path.name
        slugs.append(fields["slug"])
    assert len(set(slugs)) == len(slugs)
    assert not set(slugs) & {"blog", "authors", "categories", "feed.xml", "404.html"}


def test_front_matter_helper_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("no front matter\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"bad\.md:1"):
        front_matter(bad)


def test_docs_page_has_a_code_block_and_a_table() -> None:
    _, body = front_matter(ROOT / "content" / "getting-started.md")
    assert "```bash" in body and "| --- |" in body


@pytest.mark.parametrize("site", SITES)
def test_config_loads_and_names_existing_templates(site: Path) -> None:
    config = load_config(site)
    assert config.site.base_url == "https://example.com"
    assert config.feed is not None and config.feed.route == "post"
    for route in config.routes:
        assert (site / "templates" / route.template).is_file(), route.name
    assert "settings" in config.data


def test_default_config_has_every_route() -> None:
    config = load_config(ROOT)
    routes = {r.name: r for r in config.routes}
    assert set(routes) == {"home", "post", "blog", "author", "category", "page"}
    assert routes["blog"].paginate == 10
    assert routes["author"].each and routes["category"].each
    assert "post:{slug}" in routes["post"].tags
    assert "^" not in (routes["post"].query or ""), "prev/next come from the list order"
    assert set(config.data) == {"settings", "categories"}


@pytest.mark.parametrize("site", SITES)
def test_every_template_parses(site: Path) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(site / "templates"), autoescape=True)
    env.filters.update({name: (lambda value, *a, **k: value) for name in FILTERS})
    names = templates_of(site)
    assert "base.html" in names and "404.html" in names
    for name in names:
        env.get_template(name)


@pytest.mark.parametrize("site", SITES)
def test_styles_and_templates_make_no_external_requests(site: Path) -> None:
    for path in [*(site / "static").rglob("*.css"), *(site / "templates").rglob("*.html")]:
        text = path.read_text(encoding="utf-8")
        assert "@import" not in text, path
        # The one script is the search box's, from the site itself (static/js/).
        for script in re.findall(r"<script[^>]*>", text):
            assert re.fullmatch(r"<script type=\"module\" src=\"\{\{ url\('/js/[a-z-]+\.js'\) \}\}\">",
                                script), (path, script)
        assert not re.search(r"(src|href)=\"https?://(?!github\.com/)", text), path
    for path in (site / "static").rglob("*.js"):
        assert "http" not in path.read_text(encoding="utf-8"), path


def test_stylesheet_covers_dark_mode_and_code() -> None:
    css = (ROOT / "static" / "css" / "site.css").read_text(encoding="utf-8")
    assert "prefers-color-scheme: dark" in css and "system-ui" in css
    assert ".highlight .k" in css
    assert (ROOT / "static" / "favicon.svg").read_text(encoding="utf-8").startswith("<svg")


# --- examples -----------------------------------------------------------------------------


def test_github_actions_example_caches_the_manifest() -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "github-actions.yml").read_text("utf-8"))
    steps = workflow["jobs"]["build"]["steps"]
    by_action = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    assert ".ssgen" in by_action["actions/cache"]["with"]["path"].split()
    assert by_action["actions/upload-artifact"]["with"]["path"] == "public/"
    runs = [s["run"] for s in steps if "run" in s]
    assert any(r.strip().startswith("ssgen build") for r in runs)
    names = [s.get("uses", s.get("run", "")) for s in steps]
    cache_at = next(i for i, n in enumerate(names) if n.startswith("actions/cache"))
    assert cache_at < next(i for i, n in enumerate(names) if n.startswith("ssgen build"))


def test_systemd_unit_runs_serve_with_the_secret_from_a_file() -> None:
    text = (ROOT / "examples" / "ssgen-serve.service").read_text("utf-8")
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(text)
    service = unit["Service"]
    assert service["ExecStart"].endswith("ssgen serve")
    assert service["EnvironmentFile"].startswith("/")
    assert service["Restart"] == "on-failure"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not any("SSGEN_REVALIDATE_SECRET" in line for line in code), "secret must not be inline"


def test_init_copies_a_scaffold_that_loads(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ssgen.cli.app import app

    target = tmp_path / "newsite"
    result = CliRunner().invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    config = load_config(target)
    assert {r.name for r in config.routes} == {"home", "post", "page"}
    copied = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    expected = sorted(
        p.relative_to(SCAFFOLD).as_posix()
        for p in SCAFFOLD.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert copied == expected


def test_init_then_build_gives_a_working_site(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ssgen.cli.app import app

    target = tmp_path / "newsite"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    first = runner.invoke(app, ["--site", str(target), "build", "--jobs", "1"])
    assert first.exit_code == 0, first.output
    public = target / "public"
    posts = SiteData(target).posts
    for post in posts:
        html = (public / "blog" / post["slug"]["current"] / "index.html").read_text("utf-8")
        assert post["title"] in html.replace("&#39;", "'")
    home = (public / "index.html").read_text("utf-8")
    assert all(f'href="/blog/{p["slug"]["current"]}/"' in home for p in posts)
    for name in ("about/index.html", "404.html", "feed.xml", "sitemap.xml", "style.css"):
        assert (public / name).is_file(), name
    assert "notes-towards-a-content-roadmap" not in home, "drafts stay out of a published build"
    again = runner.invoke(app, ["--site", str(target), "build", "--jobs", "1"])
    assert again.exit_code == 0 and "(0 written" in again.output, again.output
