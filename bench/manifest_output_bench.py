"""Manifest and output micro-benchmark: recording pages+tags, tag lookups, file writes.

Run by hand: PYTHONPATH=. .venv/bin/python bench/manifest_output_bench.py [PAGES] [FILES] [DIR]
(defaults 100000 pages, 16000 files, the system temp folder; pass /dev/shm as DIR to see
the code's own cost without the disk). Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ssgen.build.output import Output, url_to_file
from ssgen.manifest.store import Manifest, PageRecord

TAGS_PER_PAGE = 9


def timed(label: str, fn: Callable[[], Any], per: int = 0) -> Any:
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    extra = f"  ({seconds / per * 1e6:.1f} µs each)" if per else ""
    print(f"{label:<58} {seconds * 1000:9.1f} ms{extra}")
    return result


def entries(n: int, salt: str = "") -> list[tuple[PageRecord, list[str]]]:
    out = []
    for i in range(n):
        path = f"/blog/post-{i}/"
        record = PageRecord(
            path, "post", {"slug": f"post-{i}"}, "post.html", "d" * 64, "o" * 64,
            str(url_to_file(path)),
        )
        tags = [
            f"doc:post-{i}", f"doc:author-{i % 50}{salt}", "type:post", "type:author",
            "template:post.html", "template:base.html", "route:post", f"post:post-{i}", "posts",
        ]
        out.append((record, tags))
    return out


def bench_manifest(n: int, folder: Path) -> None:
    print(f"-- manifest, {n:,} pages x {TAGS_PER_PAGE} tags")
    pages = entries(n)
    path = folder / "manifest.sqlite"
    m = Manifest.open(path)
    timed("record_pages, fresh manifest, one transaction", lambda: m.record_pages(pages), n)
    timed("record_pages again, tags unchanged", lambda: m.record_pages(pages), n)
    changed = entries(n // 100, salt="x")
    timed("record_pages, 1% of pages with changed tags", lambda: m.record_pages(changed))
    one = entries(1, salt="y")
    timed("record_page, one page (own transaction)", lambda: m.record_pages(one))

    def loop() -> None:
        with m.transaction():
            for record, tags in pages[:10_000]:
                m.record_page(record.path, record.route, record.params, record.template,
                              record.data_hash, record.output_hash, tags)

    timed("record_page x 10,000 in one transaction (build.py style)", loop, 10_000)
    timed("pages_for_tags(['doc:author-7']) -> n/50 pages",
          lambda: m.pages_for_tags(["doc:author-7"]))
    timed("pages_for_tags(1 doc tag)", lambda: m.pages_for_tags(["doc:post-123"]))
    timed("pages_for_tags(2,000 doc tags)",
          lambda: m.pages_for_tags([f"doc:post-{i}" for i in range(2000)]))
    timed("pages() (full load, params decoded)", m.pages, n)
    timed("page_paths()", m.page_paths)
    timed("tags_of(one page)", lambda: m.tags_of("/blog/post-5/"))
    m.close()
    timed("Manifest.open existing", lambda: Manifest.open(path).close())
    size = sum(os.path.getsize(p) for p in folder.glob("manifest.sqlite*"))
    print(f"{'manifest size on disk':<58} {size / 1e6:9.1f} MB")

    q = Manifest.open(folder / "queue.sqlite")
    timed("enqueue x 200 (each its own durable commit)",
          lambda: [q.enqueue({"ids": [f"p{i}"]}, key=f"k{i}") for i in range(200)], 200)
    timed("pending() + ack(200)", lambda: q.ack([i for i, _ in q.pending()]))
    q.close()


def bench_output(n: int, folder: Path) -> None:
    print(f"-- output, {n:,} pages of ~2 KB")
    out = Output(folder / "public")
    pages = [(str(url_to_file(f"/blog/post-{i}/")), (f"<h1>{i}</h1>" + "x" * 2000).encode())
             for i in range(n)]
    timed("url_to_file", lambda: [url_to_file(f"/blog/post-{i}/") for i in range(n)], n)
    timed("write, new files", lambda: [out.write(rel, data) for rel, data in pages], n)
    timed("write, identical bytes (untouched)",
          lambda: [out.write(rel, data) for rel, data in pages], n)
    fresh = Output(folder / "public")  # a new build process: no folder cache
    changed = [(rel, data.replace(b"<h1>", b"<h2>")) for rel, data in pages]
    timed("write, changed bytes, new Output", lambda: [fresh.write(r, d) for r, d in changed], n)
    timed("remove_stale, all owned files", lambda: out.remove_stale(set(), {r for r, _ in pages}),
          n)


def main() -> None:
    n_pages = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_files = int(sys.argv[2]) if len(sys.argv) > 2 else 16_000
    base = sys.argv[3] if len(sys.argv) > 3 else None
    if n_pages:
        with tempfile.TemporaryDirectory(dir=base) as tmp:
            bench_manifest(n_pages, Path(tmp))
    if n_files:
        with tempfile.TemporaryDirectory(dir=base) as tmp:
            bench_output(n_files, Path(tmp))


if __name__ == "__main__":
    main()
