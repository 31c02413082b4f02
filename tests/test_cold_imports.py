"""What a cold ``ssgen build --full`` imports (issue 15: a 1,000-file build's start is
mostly imports): a site of Markdown files keeps no source snapshot, so neither the
snapshot's modules nor what only a kept or snapshotted source uses (maintained queries,
a kept file's re-read and its proof, which brings ``ctypes``) are imported; a site with
an NDJSON file still keeps its snapshot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ssgen.sources.snapshot import FILE

_TOML = """
[site]
title = "T"
base_url = "https://example.com"

[source]
type = "local"
files = [{files}]
markdown_dir = "content"

[[routes]]
name = "page"
path = "/{{slug}}/"
template = "page.html"
query = '*[_type == "page"]{{title, "slug": slug.current, body}}'
"""

# Modules only a kept (serve) or snapshotted (NDJSON, export) source needs.
KEPT_ONLY = ("ctypes", "ssgen.build.memo.carry", "ssgen.groq.maintained",
             "ssgen.sources.leased", "ssgen.sources.local.lines", "ssgen.sources.ndjson.proof",
             "ssgen.sources.ndjson.reread", "ssgen.sources.query_cache",
             "ssgen.sources.snapshot")

_LEAVE_NAMING_MODULES = """
import os, sys
real, me = os._exit, os.getpid()
def leave(code):
    if os.getpid() == me:  # not the forked children's exits
        print(" ".join(sorted(sys.modules)))
        sys.stdout.flush()
    real(code)
os._exit = leave
sys.argv = ["ssgen", "-q", "build", "--full"]
import runpy
runpy.run_module("ssgen", run_name="__main__")
"""


def _site(root: Path, *, ndjson: bool, pages: int = 300) -> Path:
    (root / "templates").mkdir(parents=True)
    (root / "content").mkdir()
    (root / "templates" / "page.html").write_text(
        "<h1>{{ page.title }}</h1>{{ page.body | markdown }}")
    files = ""
    if ndjson:
        files = '"data.ndjson"'
        (root / "data.ndjson").write_text('{"_id": "n1", "_type": "note", "title": "N"}\n')
    (root / "ssgen.toml").write_text(_TOML.format(files=files))
    for i in range(pages):  # enough for the parse children (``parse_ahead.MIN_FILES``)
        (root / "content" / f"p{i}.md").write_text(f"---\ntitle: Page {i}\n---\n\nBody *{i}*.\n")
    return root


def _cold_build_modules(site: Path) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-c", _LEAVE_NAMING_MODULES], cwd=site, env=env,
                          capture_output=True, text=True, check=True)
    page = (site / "public" / "p7" / "index.html").read_text()
    assert page == "<h1>Page 7</h1><p>Body <em>7</em>.</p>\n"
    return set(done.stdout.split())


def _kept_only(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.startswith(KEPT_ONLY))


def test_a_cold_build_of_markdown_imports_nothing_a_kept_source_needs(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", ndjson=False)
    modules = _cold_build_modules(site)
    assert "ssgen.sources.local" in modules  # the full source did load
    assert _kept_only(modules) == []
    assert not (site / ".ssgen" / FILE).exists()


def test_a_cold_build_with_an_ndjson_file_still_keeps_its_snapshot(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", ndjson=True)
    modules = _cold_build_modules(site)
    assert "ssgen.sources.snapshot" in modules and "ssgen.groq.maintained" in modules
    assert (site / ".ssgen" / FILE).is_file()
