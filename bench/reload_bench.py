"""Benchmark: ``LocalSource.reload()`` after a one-post edit and after a no-op touch.

``ssgen serve`` keeps one source loaded and reloads it before each incremental rebuild.
For each dataset size (documents), generates the dataset with bench/gen_dataset.py, loads
a ``LocalSource``, then times ``reload()`` after rewriting the file with one post's title
changed (a different post each time; median of ``--edits`` edits) and after touching the
file without changing its bytes. Prints a markdown table.

    PYTHONPATH=. .venv/bin/python bench/reload_bench.py 1000 10000 20000 100000
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from gen_dataset import iter_documents, sizes_for, write_ndjson

from ssgen.config.load import load_config
from ssgen.sources.local import LocalSource

TOML = """
[site]
title = "Bench"

[source]
type = "local"
files = ["content/dataset.ndjson"]
markdown_dir = ""
"""


def make_site(root: Path, docs: int) -> Path:
    site = root / f"reload-{docs}"
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    (site / "ssgen.toml").write_text(TOML)
    posts, authors, categories = sizes_for(docs)
    write_ndjson(iter_documents(posts, authors, categories), site / "content" / "dataset.ndjson")
    return site


def post_lines(lines: list[bytes], count: int) -> list[int]:
    """Indexes of ``count`` published post lines spread over the file."""
    found = [i for i, line in enumerate(lines)
             if b'"_type":"post"' in line and b'"_id":"drafts.' not in line]
    step = max(1, len(found) // count)
    return found[::step][:count]


def write(path: Path, lines: list[bytes], tick: list[int]) -> None:
    path.write_bytes(b"".join(lines))
    tick[0] += 1_000_000  # a distinct mtime even within one filesystem timestamp tick
    os.utime(path, ns=(tick[0], tick[0]))


def timed_reload(source: LocalSource) -> float:
    start = time.perf_counter()
    source.reload()
    return time.perf_counter() - start


def run(root: Path, docs: int, edits: int) -> tuple[int, float, float, float, float]:
    site = make_site(root, docs)
    path = site / "content" / "dataset.ndjson"
    lines = path.read_bytes().splitlines(keepends=True)
    start = time.perf_counter()
    source = LocalSource(load_config(site, env={}))
    load_s = time.perf_counter() - start
    tick = [path.stat().st_mtime_ns]
    edit_times = []
    for n, index in enumerate(post_lines(lines, edits)):
        lines[index] = lines[index].replace(b'"title":"', b'"title":"(edited %d) ' % n, 1)
        write(path, lines, tick)
        edit_times.append(timed_reload(source))
    touch_times = []
    for _ in range(edits):
        write(path, lines, tick)
        touch_times.append(timed_reload(source))
    assert source.documents == LocalSource(load_config(site, env={})).documents
    shutil.rmtree(site)
    megabytes = sum(map(len, lines)) / 1e6
    return (len(source.documents), megabytes, load_s,
            statistics.median(edit_times), statistics.median(touch_times))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("docs", type=int, nargs="*", default=[1000, 10000, 20000, 100000])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args(argv)
    print("| documents | visible | MB | first load | reload after 1 edit | reload after touch |")
    print("|---:|---:|---:|---:|---:|---:|")
    for docs in args.docs:
        visible, megabytes, load_s, edit_s, touch_s = run(args.out, docs, args.edits)
        print(f"| {docs} | {visible} | {megabytes:.1f} | {load_s * 1e3:.0f} ms "
              f"| {edit_s * 1e3:.1f} ms | {touch_s * 1e3:.1f} ms |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
