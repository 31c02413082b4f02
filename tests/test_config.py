"""ssgen.config.load: every ssgen.toml mistake is a ConfigError naming file:line and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssgen.config.load import Config, load_config
from ssgen.config.toml import TomlContext, placeholders
from ssgen.errors import ConfigError

TEMPLATES = ("post.html", "blog.html", "author.html", "partials/card.html")


def make_site(root: Path, toml: str, templates: tuple[str, ...] = TEMPLATES) -> Path:
    (root / "content").mkdir(parents=True, exist_ok=True)
    (root / "ssgen.toml").write_text(toml, encoding="utf-8")
    for name in templates:
        path = root / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{{ page }}", encoding="utf-8")
    return root


def load(tmp_path: Path, toml: str, env: dict[str, str] | None = None) -> Config:
    return load_config(make_site(tmp_path, toml), env=env or {})


def error(tmp_path: Path, toml: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, toml, env)
    assert info.value.exit_code == 2
    return str(info.value)


ROUTE = '[[routes]]\nname = "post"\npath = "/blog/{slug}/"\ntemplate = "post.html"\n'


def test_empty_file_gives_documented_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, "")
    assert config.site.output == "public" and config.output_dir == tmp_path / "public"
    assert config.source.type == "local" and config.source.perspective == "published"
    assert config.source.files is None and config.source.markdown_dir == "content"
    assert config.source.api_version == "2025-02-19"
    assert config.routes == () and config.data == {} and config.feed is None
    assert config.markdown.anchors and not config.markdown.html and config.sitemap.enabled
    assert config.templates_dir == tmp_path / "templates"
    assert config.static_dir == tmp_path / "static"
    assert config.config_file == tmp_path / "ssgen.toml"


def test_site_params_pass_through_and_base_url_trimmed(tmp_path: Path) -> None:
    config = load(tmp_path, '[site]\nbase_url = "https://x.org/"\n[site.params]\ntwitter = "@x"\n')
    assert config.site.base_url == "https://x.org"
    assert config.site.params == {"twitter": "@x"}


def test_missing_file_says_run_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ssgen\.toml.*ssgen init"):
        load_config(tmp_path, env={})


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    message = error(tmp_path, '[site]\ntitle = "x"\noutput = = 3\n')
    assert re.search(r"ssgen\.toml:3: TOML syntax error", message)


@pytest.mark.parametrize("text", ['[site]\ntitle = "x"\n[[rou', '[site]\ntitle = "x"\nbase = """y\n'])
def test_a_file_cut_short_names_its_last_line(tmp_path: Path, text: str) -> None:
    message = error(tmp_path, text)  # as a half-written ssgen.toml reads
    assert re.search(r"ssgen\.toml:3: TOML syntax error", message), message


def test_unknown_top_level_key_suggests_closest(tmp_path: Path) -> None:
    message = error(tmp_path, '[sitee]\ntitle = "x"\n')
    assert "sitee: unknown key (did you mean site?)" in message
    assert "ssgen.toml:1:" in message


def test_unknown_route_key_names_path_line_and_suggestion(tmp_path: Path) -> None:
    toml = '[site]\ntitle = "t"\n\n[[routes]]\nname = "a"\npath = "/a/"\ntemplte = "post.html"\n'
    message = error(tmp_path, toml)
    assert "ssgen.toml:7: routes[0].templte: unknown key (did you mean template?)" in message


def test_wrong_type_names_key(tmp_path: Path) -> None:
    message = error(tmp_path, '[site]\ntitle = 3\n')
    assert "ssgen.toml:2: site.title: must be a string, not an integer" in message
    message = error(tmp_path, '[markdown]\ntables = "yes"\n')
    assert "markdown.tables: must be true or false" in message
    message = error(tmp_path, '[source]\nfiles = "content/a.ndjson"\n')
    assert "source.files: must be a list of strings" in message
    message = error(tmp_path, 'routes = 3\n')
    assert "routes: must be an array of tables" in message


def test_bool_is_not_an_integer(tmp_path: Path) -> None:
    message = error(tmp_path, '[[routes]]\nname = "b"\npath = "/b/"\ntemplate = "blog.html"\n'
                              'query = "*"\npaginate = true\n')
    assert "routes[0].paginate: must be an integer, not a boolean" in message


@pytest.mark.parametrize("missing", ["name", "path", "template"])
def test_missing_required_route_key(tmp_path: Path, missing: str) -> None:
    lines = ['name = "a"', 'path = "/a/"', 'template = "post.html"']
    body = "\n".join(line for line in lines if not line.startswith(missing))
    message = error(tmp_path, f"[[routes]]\n{body}\n")
    assert f"routes[0].{missing}: required key is missing" in message


def test_second_route_is_indexed(tmp_path: Path) -> None:
    toml = ('[[routes]]\nname = "a"\npath = "/a/"\ntemplate = "post.html"\n\n'
            '[[routes]]\nname = "b"\npath = "b/"\ntemplate = "post.html"\n')
    message = error(tmp_path, toml)
    assert "ssgen.toml:8: routes[1].path: 'b/' must start with '/'" in message


@pytest.mark.parametrize("path", ["/blog/{slug/", "/blog/slug}/", "/blog/{}/", "/b/{a..b}/",
                                  "/b/{1x}/", "/b/{a-b}/", "/b/{{a}}/"])
def test_malformed_placeholders(tmp_path: Path, path: str) -> None:
    toml = f'[[routes]]\nname = "a"\npath = "{path}"\ntemplate = "post.html"\nquery = "*"\n'
    message = error(tmp_path, toml)
    assert "routes[0].path:" in message and ("placeholder" in message or "brace" in message)


def test_malformed_tag_placeholder(tmp_path: Path) -> None:
    toml = ROUTE + 'query = "*"\ntags = ["posts", "post:{slug"]\n'
    assert "routes[0].tags[1]: unbalanced brace" in error(tmp_path, toml)


def test_placeholders_need_a_query(tmp_path: Path) -> None:
    assert "routes[0].path: placeholders slug need a query" in error(tmp_path, ROUTE)


def test_paginate_with_placeholders_needs_paginate_by(tmp_path: Path) -> None:
    message = error(tmp_path, ROUTE + 'query = "*"\npaginate = 10\n')
    assert "routes[0].paginate: a route with {field} placeholders splits an array" in message
    assert "paginate_by" in message


def test_paginate_must_be_positive(tmp_path: Path) -> None:
    toml = '[[routes]]\nname = "b"\npath = "/b/"\ntemplate = "blog.html"\nquery = "*"\n'
    message = error(tmp_path, toml + "paginate = 0\n")
    assert "routes[0].paginate: must be a positive integer" in message
    message = error(tmp_path, toml + "revalidate = -5\n")
    assert "routes[0].revalidate: must be a positive" in message


def test_each_requires_query(tmp_path: Path) -> None:
    message = error(tmp_path, ROUTE + "each = '*[_type == \"post\"]{slug}'\n")
    assert "routes[0].each: each requires query" in message


def test_duplicate_route_names(tmp_path: Path) -> None:
    toml = ('[[routes]]\nname = "a"\npath = "/a/"\ntemplate = "post.html"\n'
            '[[routes]]\nname = "a"\npath = "/b/"\ntemplate = "post.html"\n')
    message = error(tmp_path, toml)
    assert "routes[1].name: duplicate route name 'a' (also routes[0].name)" in message


def test_bad_route_name(tmp_path: Path) -> None:
    toml = '[[routes]]\nname = "my route"\npath = "/a/"\ntemplate = "post.html"\n'
    assert "routes[0].name: 'my route' must be letters" in error(tmp_path, toml)


def test_missing_template_suggests_closest(tmp_path: Path) -> None:
    toml = ('[[routes]]\nname = "a"\npath = "/a/"\ntemplate = "post.html"\n'
            '[[routes]]\nname = "b"\npath = "/b/"\ntemplate = "blog.html"\n'
            '[[routes]]\nname = "c"\npath = "/c/"\ntemplate = "post.htm"\n')
    message = error(tmp_path, toml)
    assert ('ssgen.toml:12: routes[2].template: "post.htm" not found in templates/ '
            "(did you mean post.html?)") in message


def test_template_outside_templates_rejected(tmp_path: Path) -> None:
    toml = '[[routes]]\nname = "a"\npath = "/a/"\ntemplate = "../ssgen.toml"\n'
    assert "routes[0].template: '../ssgen.toml' must be a path inside templates/" in error(
        tmp_path, toml)


def test_template_in_subfolder_found(tmp_path: Path) -> None:
    toml = '[[routes]]\nname = "a"\npath = "/a/"\ntemplate = "partials/card.html"\n'
    config = load(tmp_path, toml)
    assert config.routes[0].template == "partials/card.html"
    route = config.route("a")  # no query: the page is written in its template, page = null
    assert route.query is None and route.query_ast is not None and route.query_ast.text == "null"


def test_source_type_must_be_known(tmp_path: Path) -> None:
    message = error(tmp_path, '[source]\ntype = "contentful"\n')
    assert "ssgen.toml:2: source.type: 'contentful' is not a source type" in message


def test_perspective_must_be_known(tmp_path: Path) -> None:
    assert "source.perspective: 'previewDrafts': use published, drafts or raw" in error(
        tmp_path, '[source]\nperspective = "previewDrafts"\n')


@pytest.mark.parametrize("version", ["2025-2-19", "2025-13-01", "v2025-02-19", "latest"])
def test_api_version_must_be_a_date(tmp_path: Path, version: str) -> None:
    message = error(tmp_path, f'[source]\napi_version = "{version}"\n')
    assert "source.api_version:" in message and "YYYY-MM-DD" in message


def test_sanity_requires_project_and_dataset(tmp_path: Path) -> None:
    assert "source.project_id: required for type = \"sanity\"" in error(
        tmp_path, '[source]\ntype = "sanity"\ndataset = "production"\n')
    message = error(tmp_path, '[source]\ntype = "sanity"\nproject_id = "p"\n')
    assert "source.dataset: required" in message


def test_environment_overrides_source(tmp_path: Path) -> None:
    env = {"SANITY_PROJECT_ID": "envproj", "SANITY_DATASET": "staging",
           "SANITY_API_TOKEN": "sekret", "SANITY_API_HOST": "http://127.0.0.1:9999"}
    config = load(tmp_path, '[source]\ntype = "sanity"\nproject_id = "fileproj"\n', env)
    assert config.source.project_id == "envproj" and config.source.dataset == "staging"
    assert config.source.token == "sekret" and config.source.api_host == "http://127.0.0.1:9999"
    assert "sekret" not in repr(config)


def test_token_in_file_is_refused(tmp_path: Path) -> None:
    message = error(tmp_path, '[source]\ntoken = "sk123"\n')
    assert "source.token:" in message and "SANITY_API_TOKEN" in message


def test_api_host_must_be_http(tmp_path: Path) -> None:
    assert "source.api_host:" in error(tmp_path, '[source]\napi_host = "api.sanity.io"\n')


def test_source_files_must_exist_and_be_datasets(tmp_path: Path) -> None:
    message = error(tmp_path, '[source]\nfiles = ["content/missing.ndjson"]\n')
    assert 'source.files[0]: "content/missing.ndjson" not found' in message
    message = error(tmp_path, '[source]\nfiles = ["content/a.csv"]\n')
    assert "source.files[0]: 'content/a.csv': expected an NDJSON file" in message


def test_output_cannot_overwrite_the_site(tmp_path: Path) -> None:
    for output in (".", "", "templates", ".."):
        root = tmp_path / output.strip(".") / "s"
        assert "site.output:" in error(root, f'[site]\noutput = "{output}"\n')


def test_base_url_must_be_absolute(tmp_path: Path) -> None:
    assert "site.base_url: 'example.com' must start with http" in error(
        tmp_path, '[site]\nbase_url = "example.com"\n')


def test_data_names_and_values(tmp_path: Path) -> None:
    assert "data.my-settings: names under [data] must be identifiers" in error(
        tmp_path, '[data]\n"my-settings" = "*"\n')
    assert "data.settings: must be a GROQ query string, not an integer" in error(
        tmp_path, "[data]\nsettings = 3\n")


def test_feed_route_must_exist(tmp_path: Path) -> None:
    toml = ROUTE + 'query = "*"\n[feed]\nroute = "posts"\n'
    assert "feed.route: no route named 'posts' (did you mean post?)" in error(tmp_path, toml)
    assert "feed.route: required key is missing" in error(tmp_path, "[feed]\nlimit = 3\n")


def test_sitemap_unknown_key(tmp_path: Path) -> None:
    assert "sitemap.enable: unknown key (did you mean enabled?)" in error(
        tmp_path, "[sitemap]\nenable = false\n")


def test_multiline_strings_do_not_confuse_line_numbers(tmp_path: Path) -> None:
    toml = ("[[routes]]\nname = \"a\"\npath = \"/a/\"\ntemplate = \"post.html\"\n"
            "query = '''\n*[\nfoo = 1\n]'''\nrevalidate = 0\n")
    assert "ssgen.toml:9: routes[0].revalidate" in error(tmp_path, toml)


def test_key_lines_locate_nested_tables() -> None:
    text = ('[site]\ntitle = "x"\n[site.params]\na = 1\n'
            '[[routes]]\nname = "r"\n[[routes]]\npath = "/"\n')
    ctx = TomlContext(Path("ssgen.toml"), text, "ssgen.toml")
    assert str(ctx.error("site.params.a", "m")) == "ssgen.toml:4: site.params.a: m"
    assert str(ctx.error("routes[1].path", "m")) == "ssgen.toml:8: routes[1].path: m"
    assert str(ctx.error("routes[1].tags[3]", "m")) == "ssgen.toml:7: routes[1].tags[3]: m"
    assert str(ctx.error("feed.route", "m")) == "ssgen.toml: feed.route: m"
    dotted = TomlContext(Path("ssgen.toml"), 'x = 1\nsite.title = 3\n', "ssgen.toml")
    assert str(dotted.error("site.title", "m")) == "ssgen.toml:2: site.title: m"


_ident = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


@given(st.lists(st.lists(_ident, min_size=1, max_size=3).map(".".join), max_size=4),
       st.lists(st.from_regex(r"[a-z0-9/._-]{0,6}", fullmatch=True), min_size=5, max_size=5))
def test_wellformed_placeholders_are_extracted_in_order(names: list[str], gaps: list[str]) -> None:
    ctx = TomlContext(Path("ssgen.toml"), "", "ssgen.toml")
    text = "/" + "".join(gap + "{" + name + "}" for gap, name in zip(gaps, names, strict=False))
    assert placeholders(text, "routes[0].path", ctx) == tuple(names)


DOCS_EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def docs_toml() -> str:
    text = DOCS_EXAMPLE.read_text(encoding="utf-8")
    block = text.split("```toml\n", 1)[1].split("```", 1)[0]
    return block.replace('files = ["content/dataset.ndjson"]', "files = []")


def test_documented_example_loads(tmp_path: Path) -> None:
    config = load(tmp_path, docs_toml())
    assert [r.name for r in config.routes] == ["post", "author", "blog"]
    post, author, blog = config.routes
    assert post.placeholders == ("slug",) and post.tags == ("posts", "post:{slug}")
    assert post.revalidate == 60 and blog.paginate == 10
    assert author.each_ast is not None and author.query_ast is not None
    assert set(config.data) == set(config.data_ast) == {"settings", "categories"}
    assert config.feed is not None and config.feed.route == "post" and config.feed.limit == 20
    assert config.source.api_version == "2025-02-19" and config.source.use_cdn is True


def test_queries_are_parsed_once_onto_the_config(tmp_path: Path) -> None:
    config = load(tmp_path, ROUTE + "query = '*[_type == \"post\"]{\"slug\": slug.current}'\n")
    ast = config.routes[0].query_ast
    assert ast is not None and ast.text == '*[_type == "post"]{"slug": slug.current}'


@pytest.mark.parametrize(("table", "key"), [
    ("[data]\nsettings = '*[_type == ]'\n", "data.settings"),
    (ROUTE + "query = '*[_type == \"post\"'\n", "routes[0].query"),
    (ROUTE + "each = '*[_type == \"post\"]{'\nquery = '*[0]'\n", "routes[0].each"),
])
def test_groq_syntax_error_names_key_with_caret(tmp_path: Path, table: str, key: str) -> None:
    message = error(tmp_path, table)
    assert f"{key}: invalid GROQ query" in message
    assert "GROQ syntax error" in message and "\n  " in message
    assert message.rstrip().endswith("^")


def test_hash_is_stable_and_ignores_token(tmp_path: Path) -> None:
    toml = docs_toml()
    first = load(tmp_path / "a", toml, {"SANITY_API_TOKEN": "one"}).hash
    assert load(tmp_path / "b", toml, {"SANITY_API_TOKEN": "two"}).hash == first
    assert load(tmp_path / "c", toml.replace("My blog", "My site")).hash != first
    assert load(tmp_path / "d", toml, {"SANITY_DATASET": "staging"}).hash != first
    assert re.fullmatch(r"[0-9a-f]{64}", first)


def test_a_mirrored_sources_host_is_not_in_the_hash(tmp_path: Path) -> None:
    """The mirror re-syncs under a new host and the build diffs the documents, so a test
    server's port does not re-render the site; without the mirror the host counts."""
    sanity = '[source]\ntype = "sanity"\nproject_id = "abc123"\ndataset = "production"\n'
    first = load(tmp_path / "a", sanity, {"SANITY_API_HOST": "http://127.0.0.1:4001"}).hash
    assert load(tmp_path / "b", sanity, {"SANITY_API_HOST": "http://127.0.0.1:4002"}).hash \
        == load(tmp_path / "c", sanity).hash == first
    assert load(tmp_path / "d", sanity.replace("abc123", "xyz789")).hash != first
    assert load(tmp_path / "e", sanity + 'api_version = "2024-01-01"\n').hash != first
    assert load(tmp_path / "f", sanity + 'perspective = "drafts"\n').hash != first
    direct = sanity + "mirror = false\n"
    assert load(tmp_path / "g", direct, {"SANITY_API_HOST": "http://127.0.0.1:4001"}).hash \
        != load(tmp_path / "h", direct).hash


def test_markdown_dir_must_exist_when_set(tmp_path: Path) -> None:
    message = error(tmp_path, '[source]\nmarkdown_dir = "contnt"\n')
    assert 'ssgen.toml:2: source.markdown_dir: "contnt" is not a folder' in message
    assert load(tmp_path / "b", '[source]\nmarkdown_dir = ""\n').source.markdown_dir == ""
    assert "source.markdown_type: must not be empty" in error(
        tmp_path / "c", '[source]\nmarkdown_type = ""\n')


@pytest.mark.parametrize("path", ["/blog/../etc/", "/./x/", "/a//b/", "/a\\\\b/"])
def test_route_path_cannot_walk_out(tmp_path: Path, path: str) -> None:
    message = error(tmp_path, f'[[routes]]\nname = "a"\npath = "{path}"\ntemplate = "post.html"\n')
    assert "routes[0].path:" in message and "must not contain" in message


def test_source_file_listed_twice(tmp_path: Path) -> None:
    make_site(tmp_path, "")
    (tmp_path / "content" / "a.ndjson").write_text("")
    toml = '[source]\nfiles = ["content/a.ndjson", "./content/a.ndjson"]\n'
    message = error(tmp_path, toml)
    assert "source.files[1]: './content/a.ndjson' is listed twice (also source.files[0])" in message


def test_errors_name_the_file_relative_to_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_site(tmp_path / "site", "[site]\ntitle = 1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config(Path("site"), env={})
    assert str(info.value).startswith("site/ssgen.toml:2: site.title:")


# Issue 19: a missing $param is a config mistake found when ssgen.toml loads.
EACH_ROUTE = ('[[routes]]\nname = "author"\npath = "/authors/{slug}/"\ntemplate = "author.html"\n'
              "each = '*[_type == \"author\"] | order(name){\"slug\": slug.current, year}'\n")


@pytest.mark.parametrize(("toml", "said"), [
    (ROUTE + "query = '*[_type == \"post\" && slug.current == $slug]'\n",
     "ssgen.toml:5: routes[0].query: uses $slug, but this route gives its query no parameters"),
    (EACH_ROUTE + "query = '*[slug.current == $slg && year == $yaer][0]'\n",
     "ssgen.toml:6: routes[0].query: uses $slg, $yaer, but the items of `each` give only "
     "$slug, $year"),
    (EACH_ROUTE.replace("order(name)", "order($by)") + "query = '*[slug.current == $slug][0]'\n",
     "ssgen.toml:5: routes[0].each: uses $by, but this query is given no parameters"),
    ('[data]\nnav = "*[_type == $kind]"\n',
     "ssgen.toml:2: data.nav: uses $kind, but this query is given no parameters"),
])
def test_a_missing_param_is_named_when_the_config_loads(tmp_path: Path, toml: str,
                                                         said: str) -> None:
    assert said in error(tmp_path, toml)


@pytest.mark.parametrize("each", [
    "*[_type == \"author\"]",  # whole documents: any field may be a $param
    "*[_type == \"author\"]{..., \"slug\": slug.current}",
])
def test_params_of_items_of_unknown_shape_are_not_second_guessed(tmp_path: Path,
                                                                 each: str) -> None:
    toml = EACH_ROUTE.split("each = ")[0] + f"each = '{each}'\n"
    load(tmp_path, toml + "query = '*[slug.current == $slug][0]'\n")
    load(tmp_path, EACH_ROUTE + "query = '*[slug.current == $slug && year > 1][0]'\n")


def test_output_inside_a_source_folder_is_refused(tmp_path: Path) -> None:
    """Issue 13 item 6: `output = "static/out"` made each build copy the output into itself."""
    for folder in ("static", "templates", "content", ".ssgen"):
        site = tmp_path / folder.strip(".")
        (site / folder).mkdir(parents=True)
        message = error(site, f'[site]\ntitle = "x"\noutput = "{folder}/out"\n')
        assert "ssgen.toml:3: site.output:" in message and f"inside {folder}/" in message


def test_source_files_inside_the_output_are_refused(tmp_path: Path) -> None:
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "data.ndjson").write_text("")
    message = error(tmp_path, '[site]\noutput = "public"\n[source]\nfiles = ["public/data.ndjson"]\n')
    assert "source.files[0]" in message and "inside the output folder" in message
    message = error(tmp_path, '[site]\noutput = "content/site"\n')
    assert "site.output" in message


def test_hash_of_the_documented_example_is_pinned(tmp_path: Path) -> None:
    # A change of this value rebuilds every user's whole site on upgrade: make it on purpose.
    config = load(tmp_path, docs_toml())
    assert config.hash == "6795fb5a4f2142c47e515c8fcc12c0b3a6535ec9f7f7f9d96f2128e245378afd"


def test_a_site_without_paginate_by_keeps_its_hash(tmp_path: Path) -> None:
    """``paginate_by`` counts only when set: the documented example as it was before the
    key existed (a plain author query) hashes as it did then."""
    text = docs_toml()
    start = text.index("query = '''*[_type == \"author\"")
    end = text.index("[[routes]]", start)
    old = text[:start] + ("query = '*[_type == \"author\" && slug.current == $slug][0]'"
                          "                     # item fields are $params\n\n") + text[end:]
    config = load(tmp_path, old)
    assert config.hash == "6274556cfa220c9e426a1eeb7f81640485cedfd3622a3b7860e3279f5cee3ca7"


def test_public_names_stay_importable_from_the_package() -> None:
    import ssgen.config
    import ssgen.config.load as load_pkg

    for name in ("Config", "FeedConfig", "MarkdownConfig", "RouteConfig", "SiteConfig",
                 "SitemapConfig", "SourceConfig", "load_config"):
        assert getattr(load_pkg, name).__name__ == name
    assert ssgen.config.load_config is load_pkg.load_config
