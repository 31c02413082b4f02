"""``ssgen serve --dev --watch``: edits become rebuilds; live reload state and injection."""

from __future__ import annotations

from pathlib import Path

from servekit import running_server, wait_for
from sitekit import author, make_site, post, write_docs

from ssgen.config.load import load_config
from ssgen.serve.livereload import SCRIPT, inject
from ssgen.serve.watch import classify


def test_classify_maps_files_to_changes(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    config = load_config(site)
    change, reload_config = classify(config, [site / "templates" / "post.html"])
    assert change.templates == frozenset({"post.html"}) and not reload_config
    change, reload_config = classify(config, [site / "ssgen.toml"])
    assert change.everything and reload_config
    change, reload_config = classify(config, [site / "content" / "data.ndjson"])
    assert not change.everything and not change.templates and not reload_config
    assert change.reasons == ("data.ndjson changed",)


def test_inject_adds_the_script_before_the_last_body_end() -> None:
    html = b"<html><body><p>a</p></BODY></html>"
    assert inject(html) == b"<html><body><p>a</p>" + SCRIPT + b"</BODY></html>"
    assert inject(b"<p>no body</p>") == b"<p>no body</p>" + SCRIPT


def test_watch_turns_edits_into_rebuilds_and_errors_into_an_overlay(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    page = site / "public" / "blog" / "post-1" / "index.html"
    template = site / "templates" / "post.html"
    with running_server(site, secret=None, dev=True, watch=True) as srv:
        served = srv.client.get("/blog/post-1/").content
        assert b"data-ssgen-livereload" in served
        assert b"data-ssgen-livereload" not in page.read_bytes()
        state = srv.client.get("/_ssgen/livereload").json()
        assert state["error"] is None

        template.write_text('{% extends "base.html" %}{% block content %}<h1>EDITED '
                            '{{ page.title }}</h1>{% endblock %}')
        wait_for(lambda: b"EDITED Post 1" in page.read_bytes(), what="the template rebuild")
        assert b"data-ssgen-livereload" not in page.read_bytes()
        wait_for(lambda: srv.client.get("/_ssgen/livereload").json()["generation"]
                 > state["generation"], what="the reload signal")

        template.write_text('{% extends "base.html" %}{% block content %}\n\n{{ page.title | '
                            'nofilter }}{% endblock %}')
        wait_for(lambda: srv.client.get("/_ssgen/livereload").json()["error"] is not None,
                 what="the template error")
        error = srv.client.get("/_ssgen/livereload").json()["error"]
        assert "post.html" in error and "nofilter" in error
        assert b"EDITED Post 1" in page.read_bytes()  # the last good page stays

        template.write_text('{% extends "base.html" %}{% block content %}<h1>FIXED '
                            '{{ page.title }}</h1>by {{ page.author }}{% endblock %}')
        wait_for(lambda: b"FIXED Post 1" in page.read_bytes(), what="recovery")
        wait_for(lambda: srv.client.get("/_ssgen/livereload").json()["error"] is None)

        write_docs(site, [author("a1", "Watched"), post(1), post(2)])
        wait_for(lambda: b"by Watched" in page.read_bytes(), what="the content rebuild")
        (site / "static").mkdir(exist_ok=True)
        (site / "static" / "new.css").write_text("p{}")
        wait_for(lambda: (site / "public" / "new.css").exists(), what="the static copy")


def test_editing_ssgen_toml_reloads_the_config_and_a_broken_one_is_reported(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path)
    toml = site / "ssgen.toml"
    page = site / "public" / "blog" / "index.html"
    with running_server(site, secret=None, dev=True, watch=True) as srv:
        assert b"<title>Test</title>" in page.read_bytes()
        toml.write_text(toml.read_text().replace('title = "Test"', 'title = "Renamed"'))
        wait_for(lambda: b"<title>Renamed</title>" in page.read_bytes(), what="the new title")

        toml.write_text(toml.read_text() + "\n[site]\nbroken = \n")
        wait_for(lambda: srv.client.get("/_ssgen/livereload").json()["error"] is not None,
                 what="the config error")
        assert "ssgen.toml" in srv.client.get("/_ssgen/livereload").json()["error"]
        assert b"<title>Renamed</title>" in page.read_bytes()

        toml.write_text(toml.read_text().replace("\n[site]\nbroken = \n", "")
                        .replace('title = "Renamed"', 'title = "Fixed"'))
        wait_for(lambda: b"<title>Fixed</title>" in page.read_bytes(), what="recovery")
        wait_for(lambda: srv.client.get("/_ssgen/livereload").json()["error"] is None)
