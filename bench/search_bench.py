"""Pagefind search index ([search] enabled) on a generated ~10k-page site: the full index
time, and the index update after one edited post.

Builds the site of bench/incremental_bench.py (``--docs`` documents, two per post: 20,000
give about 10,400 pages) with ``[search] enabled = true``, then for each run edits one
post's title and runs an incremental build, timing the build and, inside it, Pagefind
(wall, and the CPU of the Pagefind process from ``RUSAGE_CHILDREN``). Pagefind cannot
update an index (ssgen.build.search says why), so the update is a full re-index of the
output folder; the bundle files the build rewrote are counted (what a deploy uploads).
Also timed: Pagefind alone on the finished output (the full index time) and a no-op
build (Pagefind not run).

    python bench/search_bench.py --docs 20000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from incremental_bench import edit_one_post, make_site

from ssgen.build import search as search_mod
from ssgen.build.pipeline import build
from ssgen.config.load import load_config

SEARCH = '\n[search]\nenabled = true\n'
# incremental_bench's layout with the <html> element Pagefind needs to index a page.
BASE = ('<!doctype html><html lang="en"><head><title>{% block title %}{% endblock %} · '
        "{{ data.settings.title }}</title></head><body><main>{% block content %}{% endblock %}"
        "</main></body></html>\n")
_timings: list[tuple[float, float]] = []


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed_run(original: Any) -> Any:
    def run(*args: Any, **kwargs: Any) -> str:
        wall, cpu = time.perf_counter(), _children_cpu()
        try:
            return str(original(*args, **kwargs))
        finally:
            _timings.append((time.perf_counter() - wall, _children_cpu() - cpu))
    return run


def full_index(site: Path) -> tuple[float, float, int]:
    """Pagefind alone on the built output: wall s, CPU s, files in the bundle."""
    config = load_config(site)
    binary = search_mod.pagefind_binary()
    with tempfile.TemporaryDirectory() as scratch:
        wall, cpu = time.perf_counter(), _children_cpu()
        search_mod.run_pagefind(binary, config, Path(scratch) / "b", cwd=Path(scratch))
        took = time.perf_counter() - wall, _children_cpu() - cpu
        files = sum(1 for p in (Path(scratch) / "b").rglob("*") if p.is_file())
    return *took, files


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    search_mod.run_pagefind = _timed_run(search_mod.run_pagefind)  # type: ignore[assignment]
    print(f"load average at start: {os.getloadavg()}")
    site = make_site(args.workdir, args.docs)
    with (site / "ssgen.toml").open("a") as toml:
        toml.write(SEARCH)
    (site / "templates" / "base.html").write_text(BASE)
    start = time.perf_counter()
    report = build(load_config(site), full=True)
    print(f"full build with search: {report.rendered} pages in "
          f"{time.perf_counter() - start:.2f} s (Pagefind {_timings[-1][0]:.2f} s wall, "
          f"{_timings[-1][1]:.2f} s CPU)")
    fulls = [full_index(site) for _ in range(args.runs)]
    print(f"Pagefind alone, full index ({fulls[0][2]} files): wall {spread([f[0] for f in fulls])}"
          f" s; CPU {spread([f[1] for f in fulls])} s")
    _timings.clear()
    start = time.perf_counter()
    build(load_config(site))
    print(f"no-op build: {time.perf_counter() - start:.3f} s, Pagefind runs: {len(_timings)}")
    builds, rewritten = [], []
    for run in range(args.runs):
        edit_one_post(site, run * 37)
        start = time.perf_counter()
        report = build(load_config(site))
        builds.append(time.perf_counter() - start)
        rewritten.append(sum(1 for rel in report.new + report.changed + report.deleted
                             if rel.startswith("pagefind/")))
    print(f"one-edit incremental build: {spread(builds)} s; of which Pagefind wall "
          f"{spread([t[0] for t in _timings])} s, CPU {spread([t[1] for t in _timings])} s; "
          f"bundle files new/changed/deleted per edit: {rewritten}")
    print(f"load average at end: {os.getloadavg()}")
    shutil.rmtree(site, ignore_errors=True)


if __name__ == "__main__":
    main()
