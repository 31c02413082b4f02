"""Benchmark: a 10,000-page build against the Sanity test server with 20 ms per request.

    PYTHONPATH=. .venv/bin/python bench/sanity_bench.py [pages] [latency_ms]

Starts tests/sanity_server.py on 127.0.0.1 with ``pages`` posts (and 50 authors they
reference), adds ``latency_ms`` of delay to every request, then measures:
1. the query phase alone: the ``each`` query plus one per-page query per post through
   ``SanitySource.query_many`` (batched), and the same unbatched on a tenth of the pages;
2. a full ``ssgen.build.pipeline`` of a one-route site (``each`` + per-page ``query``) through
   that source: requests sent and wall time (target: under 30 s for 10,000 pages).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sanity_server import SanityTestServer

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.sources.sanity import BatchLimits, SanitySource

EACH = '*[_type == "post" && defined(slug.current)]{"slug": slug.current}'
PAGE = '*[_type == "post" && slug.current == $slug][0]{title, body, "author": author->name}'
TOML = f"""
[site]
title = "Bench"
base_url = "https://example.com"

[source]
type = "local"
markdown_dir = ""
project_id = "bench"
dataset = "production"

[[routes]]
name = "post"
path = "/posts/{{slug}}/"
template = "post.html"
each = '{EACH}'
query = '{PAGE}'
"""


def documents(pages: int) -> list[dict[str, Any]]:
    authors = [{"_id": f"author-{i}", "_type": "author", "name": f"Author {i}"}
               for i in range(50)]
    posts = [{"_id": f"post-{i}", "_type": "post", "title": f"Post {i}",
              "slug": {"_type": "slug", "current": f"post-{i}"}, "body": "Lorem ipsum " * 20,
              "author": {"_type": "reference", "_ref": f"author-{i % 50}"}}
             for i in range(pages)]
    return authors + posts


def source_for(config: Any, server: SanityTestServer, **kw: Any) -> SanitySource:
    return SanitySource(config, api_host=server.url, use_cdn=False, token=None, **kw)


def query_phase(server: SanityTestServer, config: Any, pages: int, **kw: Any) -> None:
    source = source_for(config, server, **kw)
    server.clear_log()
    started = time.perf_counter()
    items = source.query(EACH).value[:pages]
    results = source.query_many([(PAGE, item) for item in items])
    seconds = time.perf_counter() - started
    assert len(results) == pages and all(r.value for r in results)
    label = "unbatched" if "batch" in kw else "batched"
    print(f"query phase, {label}, {pages} pages: {len(server.log())} requests, {seconds:.2f} s")


def full_build(server: SanityTestServer, config: Any) -> None:
    server.clear_log()
    started = time.perf_counter()
    report = build(config, full=True, now=datetime(2026, 1, 1, tzinfo=UTC),
                   source=source_for(config, server))
    seconds = time.perf_counter() - started
    print(f"full build: {report.written} files written, {len(server.log())} requests, "
          f"{seconds:.2f} s (ok={report.ok})")


def local_build(site: Path, docs: list[dict[str, Any]]) -> None:
    """The same site from the local source, to tell the source's share from the build's."""
    (site / "content").mkdir(exist_ok=True)
    (site / "content/dataset.ndjson").write_text("".join(json.dumps(d) + "\n" for d in docs))
    started = time.perf_counter()
    report = build(load_config(site), full=True, now=datetime(2026, 1, 1, tzinfo=UTC))
    print(f"same build from the local source: {report.written} files written, "
          f"{time.perf_counter() - started:.2f} s")


def make_site(site: Path) -> Path:
    site.mkdir()
    (site / "ssgen.toml").write_text(TOML)
    (site / "templates").mkdir()
    (site / "templates/post.html").write_text(
        "<h1>{{ page.title }}</h1><p>by {{ page.author }}</p><p>{{ page.body }}</p>\n")
    return site


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    latency = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.02
    docs = documents(pages)
    with tempfile.TemporaryDirectory() as tmp:
        site = make_site(Path(tmp) / "remote")
        config = load_config(site)
        local_build(make_site(Path(tmp) / "local"), docs)
        with SanityTestServer(docs) as server:
            server.latency = latency
            source_for(config, server).query("count(*)")  # warm the server's dataset
            query_phase(server, config, pages)
            query_phase(server, config, pages // 10, batch=BatchLimits(max_items=1))
            full_build(server, config)


if __name__ == "__main__":
    main()
