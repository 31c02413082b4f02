"""Full-build scaling with ``--jobs`` and with dataset size, for the 1,000,000-document
estimate in docs/operations.md: wall time and peak RSS of ``ssgen build --full`` in a
fresh process (``/usr/bin/time``-style, from ``resource.getrusage`` of the children).

    PYTHONPATH=. .venv/bin/python bench/scale_bench.py --sizes 2500 5000 10000 20000 --jobs 1 2
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from incremental_bench import make_site


def run(site: Path, jobs: int) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS MB of the largest process) of one full build."""
    shutil.rmtree(site / ".ssgen", ignore_errors=True)
    shutil.rmtree(site / "public", ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ssgen", "--site", str(site), "-q", "build", "--full",
                    "--jobs", str(jobs)], check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="*", type=int, default=[2500, 5000, 10000, 20000])
    parser.add_argument("--jobs", nargs="*", type=int, default=[1, 2])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ssgen-scale-"))
    print("| documents | pages | --jobs | wall s | CPU s | ms/page | peak RSS MB (max so far) |")
    print("|---|---|---|---|---|---|---|")
    try:
        for size in args.sizes:
            site = make_site(work, size)
            for jobs in args.jobs:
                wall, cpu, rss = run(site, jobs)
                pages = sum(1 for _ in (site / "public").rglob("index.html"))
                print(f"| {size:,} | {pages:,} | {jobs} | {wall:.1f} | {cpu:.1f} | "
                      f"{wall * 1000 / pages:.2f} | {rss} |", flush=True)
            shutil.rmtree(site, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
