"""What a new user sees from the command line: messages, exit codes, interrupted builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sitekit import DEFAULT_TOML, make_site, no_temp_files, output_files, run_cli

import ssgen.build.output.writer


def _stderr(result: object) -> str:
    return str(getattr(result, "stderr", "") or getattr(result, "output", ""))


def test_groq_caret_stays_under_its_column_in_a_long_query(tmp_path: Path) -> None:
    # Longer than the 80 columns rich assumes off a terminal: the query line must not wrap.
    query = "*[_type == 'post' && defined(slug.current) && title != 'x'] | order(title asc{title}"
    toml = DEFAULT_TOML.replace(
        "query = '*[_type == \"post\"] | order(title asc){title, \"slug\": slug.current}'",
        f'query = "{query}"',
    )
    site = make_site(tmp_path, toml=toml)
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 2
    lines = _stderr(result).splitlines()
    caret = next(i for i, line in enumerate(lines) if line.strip() == "^")
    assert lines[caret - 1].strip() == query
    column = lines[caret].index("^") - (len(lines[caret - 1]) - len(lines[caret - 1].lstrip()))
    assert query[column] == "{"
    assert "ssgen.toml:" in _stderr(result)


def test_error_messages_keep_toml_table_names(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    result = run_cli("--site", str(site), "deploy", "--dry-run")
    assert result.exit_code == 2
    assert "[deploy]" in _stderr(result)


def test_pull_help_names_the_source_table() -> None:
    result = run_cli("pull", "--help")
    assert result.exit_code == 0
    assert "[source]" in result.output


def test_inspect_without_arguments_says_what_to_give(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    result = run_cli("--site", str(site), "inspect")
    assert result.exit_code == 2
    assert "not both" not in _stderr(result)
    assert "--tag" in _stderr(result)


def test_ctrl_c_exits_130_with_a_message_and_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssgen.build.pipeline

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ssgen.build.pipeline, "build", interrupted)
    site = make_site(tmp_path)
    for command in (["build"], ["revalidate", "--tag", "posts"]):
        result = run_cli("--site", str(site), *command)
        assert result.exit_code == 130
        assert "interrupted" in _stderr(result)
        assert "Traceback" not in result.output


def test_interrupt_mid_write_leaves_no_temp_file_and_next_build_is_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs_site = make_site(tmp_path / "a")
    clean = make_site(tmp_path / "b")
    real_write = ssgen.build.output.writer.write_all
    calls = {"n": 0}

    def write_then_interrupt(fd: int, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            real_write(fd, data[: len(data) // 2])  # half a page on disk, then Ctrl-C
            raise KeyboardInterrupt
        real_write(fd, data)

    monkeypatch.setattr(ssgen.build.output.writer, "write_all", write_then_interrupt)
    result = run_cli("--site", str(docs_site), "build", "--jobs", "1")
    assert result.exit_code == 130
    assert no_temp_files(docs_site)
    monkeypatch.setattr(ssgen.build.output.writer, "write_all", real_write)
    assert run_cli("--site", str(docs_site), "build", "--jobs", "1").exit_code == 0
    assert run_cli("--site", str(clean), "build", "--jobs", "1").exit_code == 0
    assert output_files(docs_site) == output_files(clean)


def _failure_of(tmp_path: Path, template: str) -> str:
    templates = {"base.html": "<main>{% block content %}{% endblock %}</main>",
                 "post.html": template, "list.html": "{{ page | length }}"}
    site = make_site(tmp_path, templates=templates)
    result = run_cli("--site", str(site), "build", "--jobs", "1")
    assert result.exit_code == 1
    return _stderr(result)


def test_misspelt_filter_suggests_the_real_one(tmp_path: Path) -> None:
    message = _failure_of(tmp_path, "{{ page.title | markdwn }}")
    assert "templates/post.html:1" in message
    assert "did you mean markdown?" in message


def test_missing_parent_template_suggests_the_close_name(tmp_path: Path) -> None:
    message = _failure_of(tmp_path, '{% extends "bse.html" %}')
    assert "template not found: bse.html (did you mean base.html?)" in message


def test_undefined_field_says_how_to_make_it_optional(tmp_path: Path) -> None:
    message = _failure_of(tmp_path, "<h1>{{ page.subtitle }}</h1>")
    assert "templates/post.html:1: undefined" in message
    assert "default(" in message


def test_failure_lines_keep_brackets_and_are_not_wrapped(tmp_path: Path) -> None:
    message = _failure_of(tmp_path, "{{ page['[missing] key that makes a long line'] }}")
    line = next(line for line in message.splitlines() if line.startswith("failed:"))
    assert "templates/post.html:1" in line
    assert "[missing] key that makes a long line" in line


def test_item_missing_a_path_field_says_how_to_fix_the_query(tmp_path: Path) -> None:
    docs = [{"_id": "p1", "_type": "post", "title": "No slug"}]
    site = make_site(tmp_path, docs=docs)
    result = run_cli("--site", str(site), "build")
    assert result.exit_code == 2
    message = _stderr(result)
    assert "route 'post': path '/blog/{slug}/' needs field 'slug'" in message
    assert "_id='p1'" in message
    assert "defined(slug.current)" in message


def test_revalidate_warns_about_paths_and_tags_that_reach_no_page(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert run_cli("--site", str(site), "build", "--jobs", "1").exit_code == 0
    result = run_cli(
        "--site", str(site), "revalidate", "--path", "/blog/nope", "--tag", "post:nope",
        "--tag", "post:post-2", "--path", "/blog/",
    )
    assert result.exit_code == 0
    message = _stderr(result)
    assert "no page /blog/nope in the last build" in message
    assert "no page has the tag post:nope" in message
    assert "post:post-2" not in message
    assert "/blog/ " not in message and "/blog/\n" not in message


def test_changes_file_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    target = tmp_path / "no-such-folder" / "changes.json"
    result = run_cli("--site", str(site), "build", "--jobs", "1", "--changes", str(target))
    assert result.exit_code == 1
    assert "--changes" in _stderr(result) and "cannot write it" in _stderr(result)
    assert (site / "public" / "blog" / "index.html").exists()


def test_init_on_a_file_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("x")
    result = run_cli("init", str(target))
    assert result.exit_code == 2
    assert "is a file" in _stderr(result)


def test_init_then_build_works(tmp_path: Path) -> None:
    site = tmp_path / "new"
    assert run_cli("init", str(site)).exit_code == 0
    assert run_cli("--site", str(site), "build", "--jobs", "1").exit_code == 0
    assert (site / "public" / "index.html").exists()
    assert run_cli("init", str(site)).exit_code == 2


def test_unreachable_sanity_api_names_the_host_and_what_to_check() -> None:
    import httpx
    from sanity_mock import make, scripted

    from ssgen.errors import SourceError

    handler, _ = scripted(httpx.ConnectError("Name or service not known"))
    source, _ = make(handler, max_retries=1)
    with pytest.raises(SourceError) as caught:
        source.query("*")
    message = str(caught.value)
    assert "proj1.api" in message and "sanity.io" in message
    assert "source.api_host" in message and "SANITY_API_HOST" in message


@pytest.mark.parametrize(
    ("code", "hint"),
    [(13, "permissions"), (30, "read-only file system"), (28, "disk is full")],
)
def test_unwritable_output_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, hint: str
) -> None:
    import os

    from ssgen.errors import OutputError

    def refuse(*args: object, **kwargs: object) -> int:
        raise OSError(code, os.strerror(code))

    out = ssgen.build.output.Output(tmp_path / "public")
    monkeypatch.setattr(ssgen.build.output.writer.os, "open", refuse)
    with pytest.raises(OutputError) as caught:
        out.write("blog/index.html", b"<p>hi</p>")
    assert "blog/index.html" in str(caught.value) and hint in str(caught.value)
    assert not any(p.name.startswith(".ssgen-tmp") for p in (tmp_path / "public").rglob("*"))


def test_unsafe_slug_fails_that_page_and_says_what_to_fix(tmp_path: Path) -> None:
    from sitekit import author, post

    bad = post(3, slug={"_type": "slug", "current": "../../escape"})
    site = make_site(tmp_path, docs=[author("a1", "Ada"), post(1), bad])
    result = run_cli("--site", str(site), "build", "--jobs", "1")
    assert result.exit_code == 1
    line = next(x for x in _stderr(result).splitlines() if x.startswith("failed:"))
    assert "route post" in line and "'..' segment" in line
    assert "fix the document field" in line
    assert (site / "public" / "blog" / "post-1" / "index.html").exists()
    assert not (tmp_path / "escape").exists() and not (site / "escape").exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["build", "-q"], ["-q", "build"]),
        (["build", "--site", "x", "--full"], ["--site", "x", "build", "--full"]),
        (["-v", "build", "--site=x", "-j", "2"], ["-v", "--site=x", "build", "-j", "2"]),
        (["--site", "a", "query", "*", "-p", "q=-q"], ["--site", "a", "query", "*", "-p", "q=-q"]),
        (["query", "--", "-q"], ["query", "--", "-q"]),
        (["build", "--site"], ["--site", "build"]),
        (["--version"], ["--version"]),
        ([], []),
    ],
)
def test_global_options_after_the_command_move_before_it(
    argv: list[str], expected: list[str]
) -> None:
    from ssgen.cli.app import hoist_global_options

    assert hoist_global_options(argv) == expected


def test_main_accepts_global_options_after_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from ssgen.cli.app import main

    site = make_site(tmp_path)
    monkeypatch.setattr(sys, "argv", ["ssgen", "build", "-q", "--site", str(site), "-j", "1"])
    with pytest.raises(SystemExit) as caught:
        main()
    assert caught.value.code in (0, None)
    assert (site / "public" / "blog" / "index.html").exists()
    assert "build:" not in capsys.readouterr().err  # -q took effect


def test_the_configuration_reference_example_is_a_valid_ssgen_toml(tmp_path: Path) -> None:
    from ssgen.config.load import load_config

    doc = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text()
    example = doc.split("```toml", 1)[1].split("```", 1)[0]
    (tmp_path / "ssgen.toml").write_text(example)
    (tmp_path / "templates").mkdir()
    for name in ("post.html", "author.html", "blog.html"):
        (tmp_path / "templates" / name).write_text("x")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "dataset.ndjson").write_text("")
    config = load_config(tmp_path, env={})
    assert [route.name for route in config.routes] == ["post", "author", "blog"]
    assert config.feed is not None and config.deploy is not None
    assert config.site.params == {"twitter": "@fieldnotes"}


def test_query_with_a_missing_parameter_says_how_to_pass_it(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    result = run_cli("--site", str(site), "query", '*[slug.current == $slug]{title}')
    assert result.exit_code == 2  # as `build` exits for a route query missing one
    assert "missing query parameter $slug" in _stderr(result)
    assert "-p name=JSON" in _stderr(result)
    ok = run_cli("--site", str(site), "query", '*[slug.current == $slug]{title}', "-p", "slug=post-1")
    assert ok.exit_code == 0 and '"Post 1"' in ok.stdout


def test_ndjson_with_a_byte_order_mark_and_crlf_loads(tmp_path: Path) -> None:
    from ssgen.sources.ndjson import parse_ndjson

    data = b'\xef\xbb\xbf{"_id": "a", "_type": "post"}\r\n\r\n{"_id": "b", "_type": "post"}\r\n'
    loaded = parse_ndjson(data, "content/x.ndjson")
    assert [doc["_id"] for doc in loaded.documents] == ["a", "b"]
    assert loaded.lines == [1, 3]


def test_markdown_that_is_not_utf8_names_file_and_line(tmp_path: Path) -> None:
    from ssgen.errors import SourceError
    from ssgen.sources.markdown_docs import read_markdown

    path = tmp_path / "post.md"
    path.write_bytes(b"---\ntitle: Caf\xe9\n---\nbody\n")
    with pytest.raises(SourceError, match=r"content/post.md:2: not valid UTF-8 .*save the file as UTF-8"):
        read_markdown(str(path), "post.md", "content/post.md", "page")
    path.write_bytes(b"\xef\xbb\xbf---\r\ntitle: Caf\xc3\xa9\r\n---\r\nbody\r\n")
    doc = read_markdown(str(path), "post.md", "content/post.md", "page").documents[0]
    assert doc["title"] == "Café" and doc["body"].strip() == "body"


def test_a_route_without_query_is_a_page_written_in_its_template(tmp_path: Path) -> None:
    from sitekit import DEFAULT_TEMPLATES

    toml = DEFAULT_TOML + '\n[[routes]]\nname = "about"\npath = "/about/"\ntemplate = "about.html"\n'
    templates = {**DEFAULT_TEMPLATES, "about.html": "<h1>About {{ site.title }}</h1>{{ page is none }}"}
    site = make_site(tmp_path, toml=toml, templates=templates)
    result = run_cli("--site", str(site), "build", "--jobs", "1")
    assert result.exit_code == 0, _stderr(result)
    assert (site / "public/about/index.html").read_text() == "<h1>About Test</h1>True"
    assert run_cli("--site", str(site), "inspect", "/about/").exit_code == 0


def test_inspect_a_path_without_its_trailing_slash_finds_the_page(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert run_cli("--site", str(site), "build", "--jobs", "1").exit_code == 0
    result = run_cli("--site", str(site), "inspect", "/blog/post-1", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["path"] == "/blog/post-1/"


BROKEN_POST = '{% extends "base.html" %}{% block content %}{{ nope }}{% endblock %}'


def test_a_failing_page_is_reported_again_by_the_next_build(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert run_cli("--site", str(site), "build", "--jobs", "1").exit_code == 0
    (site / "templates" / "post.html").write_text(BROKEN_POST)
    assert run_cli("--site", str(site), "build", "--jobs", "1").exit_code == 1
    again = run_cli("--site", str(site), "build", "--jobs", "1")
    assert again.exit_code == 1  # the template is still broken: not a silent success
    assert "undefined" in _stderr(again)


def test_a_page_that_never_built_appears_once_its_template_is_fixed(tmp_path: Path) -> None:
    from sitekit import DEFAULT_TEMPLATES

    site = make_site(tmp_path)
    (site / "templates" / "post.html").write_text(BROKEN_POST)
    assert run_cli("--site", str(site), "build", "--jobs", "1").exit_code == 1
    assert not (site / "public" / "blog" / "post-1" / "index.html").exists()
    (site / "templates" / "post.html").write_text(DEFAULT_TEMPLATES["post.html"])
    assert run_cli("--site", str(site), "build", "--jobs", "1").exit_code == 0
    assert (site / "public" / "blog" / "post-1" / "index.html").exists()


def test_the_command_line_exits_without_freeing_the_build_and_loses_no_output(
    tmp_path: Path,
) -> None:
    """`ssgen build` ends with os._exit (the dataset is not freed first): the exit code,
    the summary and a failure's message must still come out, and the site be complete."""
    import subprocess
    import sys

    site = make_site(tmp_path)
    ok = subprocess.run([sys.executable, "-m", "ssgen", "--site", str(site), "build"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "full build:" in ok.stderr and "3 rendered" in ok.stderr
    assert (site / "public" / "blog" / "post-1" / "index.html").is_file()
    (site / "templates" / "post.html").write_text(BROKEN_POST)
    bad = subprocess.run([sys.executable, "-m", "ssgen", "--site", str(site), "build"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert "failed:" in bad.stderr and "undefined" in bad.stderr
    from ssgen.manifest.store import Manifest

    with Manifest.open(site / ".ssgen" / "manifest.sqlite") as manifest:
        assert {f.path for f in manifest.failures()} >= {"/blog/post-1/"}
