"""What checking the owned output files costs each build (issue 13 item 1).

Creates N page files (``blog/post-i/index.html``, 2 KB each) and a manifest that owns
them (page records and file records with size and mtime), then times, R runs each:

- ``find_damage`` with every file intact (a stat per file, no hashing);
- ``find_damage`` after one file was deleted and 1% of the files were changed (hashes
  only the changed ones);
- ``journal_add`` of N files plus ``journal_clear`` (what a full build adds).

    PYTHONPATH=. python bench/verify_bench.py 10000 100000 --runs 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ssgen.build.output import file_stat, sha256
from ssgen.build.verify import find_damage, mark_checked
from ssgen.manifest.schema import PageRecord
from ssgen.manifest.store import Manifest


def make_site(root: Path, count: int) -> Manifest:
    out = root / "public"
    manifest = Manifest.open(root / ".ssgen" / "manifest.sqlite")
    records, files = [], []
    for i in range(count):
        rel = f"blog/post-{i}/index.html"
        data = (f"<h1>Post {i}</h1>" + "x" * 2000).encode()
        (out / f"blog/post-{i}").mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
        digest = sha256(data)
        records.append((PageRecord(f"/blog/post-{i}/", "post", {}, "post.html", "d", digest, rel),
                        ["route:post"]))
        files.append((rel, digest, "page", *file_stat(str(out / rel))))
    with manifest.transaction():
        manifest.record_pages(records)
        manifest.set_files(files)
    time.sleep(0.2)  # past the racily-clean window
    mark_checked(manifest)
    return manifest


def stat_cost() -> float:
    start = time.perf_counter()
    for _ in range(10000):
        os.stat("/tmp")
    return (time.perf_counter() - start) / 10000


def timed(runs: int, action: object) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return times


def show(label: str, times: list[float]) -> None:
    spread = max(times) - min(times)
    print(f"  {label:<44} median {statistics.median(times) * 1000:8.1f} ms"
          f"  (min {min(times) * 1000:.1f}, spread {spread * 1000:.1f} ms)")


def measure(count: int, runs: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="verify-bench-"))
    try:
        manifest = make_site(root, count)
        out = root / "public"
        print(f"{count} owned files, {runs} runs; one stat of /tmp here: "
              f"{stat_cost() * 1e6:.1f} us (load: {os.getloadavg()[0]:.1f})")
        show("intact (stat each file)", timed(runs, lambda: find_damage(manifest, out)))
        damaged_times: list[float] = []

        def damaged() -> None:
            (out / "blog/post-0/index.html").unlink(missing_ok=True)
            for i in range(1, count, 100):
                path = out / f"blog/post-{i}/index.html"
                path.write_bytes(path.read_bytes()[:-1] + b"#")
            start = time.perf_counter()
            found = find_damage(manifest, out)
            damaged_times.append(time.perf_counter() - start)
            assert len(found.pages) >= 1 + len(range(1, count, 100))

        timed(runs, damaged)
        show("1 deleted + 1% changed (stat + hash those)", damaged_times)
        journal = [(f"blog/post-{i}/index.html", "page") for i in range(count)]

        def journal_cycle() -> None:
            manifest.journal_add(journal)
            manifest.journal_clear(kind="page")

        show("journal add + clear (a full build)", timed(runs, journal_cycle))
        manifest.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", type=int, nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for count in args.sizes:
        measure(count, args.runs)


if __name__ == "__main__":
    main()
