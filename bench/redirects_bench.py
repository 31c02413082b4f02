"""Redirect computation after a one-post edit on a 100k-page manifest (issue 17 target: < 1 s).

Run by hand: ``python bench/redirects_bench.py [--pages 100000] [--old 1000] [--runs 5]``

Builds a manifest of ``--pages`` post pages, each owned by its document in the path
history, of which ``--old`` already moved once (so the site has that many redirects),
without rendering anything. Then, ``--runs`` times, renames one post's slug and times
what a build adds for redirects: the record stage's history update (the new page
recorded, the old one removed, ``note_history``'s ``note_paths``) and the redirect files
computed from the manifest (``redirect_files``: every redirect resolved, stubs,
``_redirects`` and ``redirects.json`` rendered). Prints wall and CPU (user+sys) times
per run, the median and the spread, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sitekit import make_site

from ssgen.build.redirects import redirect_files
from ssgen.config.load import Config, load_config
from ssgen.manifest.schema import PageRecord
from ssgen.manifest.store import Manifest


def _record(n: int, slug: str) -> PageRecord:
    path = f"/blog/{slug}/"
    return PageRecord(path, "post", {}, "post.html", f"d{n}", f"o{n}", f"blog/{slug}/index.html")


def _setup(root: Path, pages: int, old: int) -> tuple[Config, Manifest]:
    site = make_site(root, docs=[])  # the shared test site: its post route is /blog/{slug}/
    config = load_config(site)
    manifest = Manifest.open(site / ".ssgen" / "manifest.sqlite")
    records = [_record(n, f"post-{n}") for n in range(pages)]
    with manifest.transaction():
        manifest.record_pages((r, {f"doc:p{n}", "route:post"}) for n, r in enumerate(records))
        manifest.note_paths((r.path, "post", f"p{n}") for n, r in enumerate(records))
    moved = [_record(n, f"moved-{n}") for n in range(old)]
    with manifest.transaction():
        manifest.remove_pages(f"/blog/post-{n}/" for n in range(old))
        manifest.record_pages((r, {f"doc:p{n}"}) for n, r in enumerate(moved))
        manifest.note_paths([(r.path, "post", f"p{n}") for n, r in enumerate(moved)],
                            removed=[f"/blog/post-{n}/" for n in range(old)])
    return config, manifest


def _rename(config: Config, manifest: Manifest, n: int, run: int) -> int:
    """One slug rename of post ``n``, as the record stage and the site files see it."""
    before = f"/blog/post-{n}/" if run == 0 else f"/blog/renamed-{n}-{run - 1}/"
    record = _record(n, f"renamed-{n}-{run}")
    with manifest.transaction():
        manifest.record_pages([(record, {f"doc:p{n}"})])
        manifest.remove_pages([before])
        manifest.note_paths([(record.path, "post", f"p{n}")], removed=[before])
    return len(redirect_files(config, manifest, {}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--old", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        config, manifest = _setup(Path(tmp), args.pages, args.old)
        print(f"setup: {args.pages} pages, {args.old} moved, {time.perf_counter() - started:.1f} s")
        walls, cpus = [], []
        for run in range(args.runs):
            wall, cpu = time.perf_counter(), time.process_time()
            files = _rename(config, manifest, args.pages // 2, run)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            print(f"run {run + 1}: {walls[-1] * 1000:.1f} ms wall, {cpus[-1] * 1000:.1f} ms CPU,"
                  f" {files} redirect files")
        manifest.close()
    print(f"median {statistics.median(walls) * 1000:.1f} ms wall (min {min(walls) * 1000:.1f},"
          f" max {max(walls) * 1000:.1f}); median {statistics.median(cpus) * 1000:.1f} ms CPU"
          f" (min {min(cpus) * 1000:.1f}, max {max(cpus) * 1000:.1f}); load {os.getloadavg()}")


if __name__ == "__main__":
    main()
