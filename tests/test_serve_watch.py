"""``ssgen serve --dev --watch``: edits become rebuilds; live reload state and injection."""

from __future__ import annotations

import json
import re
from pathlib import Path

from servekit import Queued, Running, running_server, save, wait_for
from sitekit import DEFAULT_TOML, author, make_site, post

from ssgen.config.load import load_config
from ssgen.serve.livereload import SCRIPT, inject
from ssgen.serve.watch import Watcher, classify


def overlay(srv: Running) -> str | None:
    """The build error the live-reload overlay shows (None: none)."""
    error: str | None = srv.client.get("/_ssgen/livereload").json()["error"]
    return error


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

        save(template, '{% extends "base.html" %}{% block content %}<h1>EDITED '
                       '{{ page.title }}</h1>{% endblock %}')
        wait_for(lambda: b"EDITED Post 1" in page.read_bytes(), what="the template rebuild")
        assert b"data-ssgen-livereload" not in page.read_bytes()
        wait_for(lambda: srv.client.get("/_ssgen/livereload").json()["generation"]
                 > state["generation"], what="the reload signal")

        save(template, '{% extends "base.html" %}{% block content %}\n\n{{ page.title | '
                       'nofilter }}{% endblock %}')
        wait_for(lambda: overlay(srv) is not None,
                 what="the template error")
        error = overlay(srv)
        assert "post.html" in error and "nofilter" in error
        assert b"EDITED Post 1" in page.read_bytes()  # the last good page stays

        save(template, '{% extends "base.html" %}{% block content %}<h1>FIXED '
                       '{{ page.title }}</h1>by {{ page.author }}{% endblock %}')
        wait_for(lambda: b"FIXED Post 1" in page.read_bytes(), what="recovery")
        wait_for(lambda: overlay(srv) is None)

        save(site / "content" / "data.ndjson",
             "".join(json.dumps(doc) + "\n" for doc in [author("a1", "Watched"), post(1), post(2)]))
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
        save(toml, toml.read_text().replace('title = "Test"', 'title = "Renamed"'))
        wait_for(lambda: b"<title>Renamed</title>" in page.read_bytes(), what="the new title")

        save(toml, toml.read_text() + "\n[site]\nbroken = \n")
        wait_for(lambda: overlay(srv) is not None,
                 what="the config error")
        assert "ssgen.toml" in overlay(srv)
        assert b"<title>Renamed</title>" in page.read_bytes()

        save(toml, toml.read_text().replace("\n[site]\nbroken = \n", "")
             .replace('title = "Renamed"', 'title = "Fixed"'))
        wait_for(lambda: b"<title>Fixed</title>" in page.read_bytes(), what="recovery")
        wait_for(lambda: overlay(srv) is None)


def test_ssgen_toml_counts_only_once_it_has_settled(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    toml = site / "ssgen.toml"
    queued, now = Queued(), [100.0]
    watcher = Watcher(load_config(site), queued, settle=0.2, clock=lambda: now[0])
    renamed = DEFAULT_TOML.replace('title = "Test"', 'title = "Renamed"')
    half = len(renamed) // 2

    def poll_at(when: float) -> int:
        now[0] = when
        watcher._handle(set())
        return len(queued.changes)

    toml.write_text(renamed[:half])  # the first half, mid-line: not TOML
    assert poll_at(100.0) == 0
    assert poll_at(100.1) == 0  # seen, not yet still for 0.2 s
    with toml.open("a") as handle:
        handle.write(renamed[half:])
    assert poll_at(100.25) == 0  # moved again: the wait starts over
    assert poll_at(100.4) == 0
    assert poll_at(100.5) == 1  # still since 100.25: now it counts, once
    assert poll_at(101.0) == 1
    change, reload_config = queued.changes[0]
    assert change.everything and reload_config


def test_ssgen_toml_written_in_two_halves_keeps_the_old_config_until_whole(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path)
    toml = site / "ssgen.toml"
    page = site / "public" / "blog" / "index.html"
    renamed = toml.read_text().replace('title = "Test"', 'title = "Two halves"')
    half = renamed.index("[[routes]]") + len("[[rou")  # cut inside a table header
    with running_server(site, secret=None, dev=True, watch=True) as srv:
        save(toml, renamed[:half])  # the writer's first half, then its pause
        wait_for(lambda: overlay(srv) is not None,
                 what="the half file's error")
        error = overlay(srv)
        line = renamed[:half].count("\n") + 1
        assert re.search(rf"ssgen\.toml:{line}: TOML syntax error", error), error
        assert srv.worker.config.site.title == "Test"  # the old config is kept
        assert b"<title>Test</title>" in page.read_bytes()

        with toml.open("a") as handle:
            handle.write(renamed[half:])
        wait_for(lambda: b"<title>Two halves</title>" in page.read_bytes(),
                 what="the whole file's title")
        wait_for(lambda: overlay(srv) is None)
        assert (site / "public" / "blog" / "post-1" / "index.html").exists()
