"""Two ssgen checkouts, alternated, on the grown starter site: new processes that resume
``.ssgen/source.snapshot`` after a one-post edit.

starter_bench.py times one checkout; on a shared machine its figures move with the load.
This one grows the default site to N posts once (starter_bench's ``grow``), makes one
full build with this checkout, copies the site for ``--base`` (a folder holding another
checkout's ``ssgen/``, e.g. from ``git archive main ssgen | tar -x -C``), and lets each
copy make its own snapshot in a warm-up edit (each checkout's ``.ssgen/`` stays in its
own format). Then ``--runs`` rounds: the same random post retitled in both copies, then
``ssgen revalidate --doc ID`` in each, one after the other; again for ``ssgen build``.
Interpreter start included; a child a command leaves to re-save the snapshot is waited
for before the next command (not timed). Medians and spread of CPU (user + sys) and wall, the load
average, and each snapshot's size.

    python bench/snapshot_ab.py 10000 --base /tmp/main-checkout --runs 5
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from abkit import ab_parser
from starter_bench import ROOT, Dataset, grow, settle


def run(checkout: str, site: Path, *args: str) -> tuple[float, float]:
    """``ssgen`` in a new process with ``checkout`` first on the path: (CPU, wall) s."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ssgen", "-q", "--site", str(site), *args],
                   check=True, cwd=site, env={**os.environ, "PYTHONPATH": checkout})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


def spread(values: list[float]) -> str:
    return (f"{statistics.median(values) * 1000:,.0f} ms "
            f"({min(values) * 1000:,.0f}-{max(values) * 1000:,.0f})")


def main() -> None:
    parser = ab_parser(__doc__, "posts", 10000, runs=5, seed=14)
    parser.add_argument("--reuse", action="store_true",
                        help="the two sites of an earlier run, as they are (no full build)")
    args = parser.parse_args()
    checkouts = {"base": str(args.base.resolve()), "this": str(ROOT)}
    site = args.workdir.resolve() / f"starter-{args.posts}"
    sites = {"this": site, "base": site.with_name(site.name + "-base")}
    if not args.reuse:
        grow(args.workdir.resolve(), args.posts)
        cpu, wall = run(checkouts["this"], site, "build", "--full")
        print(f"full build: {cpu:.1f} s CPU, {wall:.1f} s wall, load {os.getloadavg()[0]:.1f}")
        shutil.rmtree(sites["base"], ignore_errors=True)
        shutil.copytree(site, sites["base"], symlinks=True)
    # Light: each document's line and a few fields (two whole parses at 100,000 posts
    # are ~10 GB beside the command measured).
    data = {label: Dataset(path, light=True) for label, path in sites.items()}
    rng = random.Random(args.seed)
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    loads: list[float] = []
    for round_ in range(-1, args.runs):  # -1: the warm-up that makes each snapshot
        for command in ("revalidate", "build"):
            state = rng.getstate()
            docs = {}
            for label in sites:
                rng.setstate(state)
                docs[label] = data[label].retitle(rng)
            loads.append(os.getloadavg()[0])
            for label, checkout in checkouts.items():
                extra = ("--doc", docs[label]["_id"]) if command == "revalidate" else ()
                measured = run(checkout, sites[label], command, *extra)
                settle(sites[label])
                if round_ >= 0:
                    times.setdefault((label, command), []).append(measured)
    for label in checkouts:
        size = (sites[label] / ".ssgen" / "source.snapshot").stat().st_size
        print(f"{label}: snapshot {size / 1e6:.0f} MB")
    print(f"load average during the rounds: {min(loads):.1f}-{max(loads):.1f}")
    print("| command | checkout | CPU median (min-max) | wall median (min-max) |")
    print("|---|---|---:|---:|")
    for (label, command), values in sorted(times.items(), key=lambda kv: kv[0][::-1]):
        print(f"| {command} | {label} | {spread([v[0] for v in values])} | "
              f"{spread([v[1] for v in values])} |")


if __name__ == "__main__":
    main()
