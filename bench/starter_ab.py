"""Two ssgen checkouts, alternated, on the default site grown to N posts (starter_bench's
``grow``): cold full builds, then new processes after a one-post edit.

Each checkout gets its own copy of the grown site (its ``.ssgen/`` stays in its own
format). ``--full-runs`` rounds of a cold `ssgen build --full` each (the previous output
and ``.ssgen/`` moved aside, as full_ab does; with 0: one each, printed but left out of
the summary); then one untimed `revalidate --doc` each (it leaves the source snapshot that
the next processes resume); then ``--runs`` rounds in which the same random post is
retitled in both copies and each runs `ssgen revalidate --doc ID`, then again with
`ssgen build`, one checkout after the other (the order swapped every round, so both see
the same load). Wall and CPU (user + sys, workers included) medians and spread, and the
load average before and after.

    python bench/starter_ab.py 20000 --base /tmp/main-checkout --full-runs 2 --runs 5

``--built DIR``: copy a grown site that is already built (``bench/out/starter-N`` after
``starter_bench.py``) for each checkout instead of growing and building it.

``--webhooks N``: before the new processes, ``--webhook-runs`` rounds in which each
checkout's ``ssgen serve`` (started afresh on its copy, as ``starter_bench.py`` does)
takes N signed webhooks, each after one post retitled and the dataset saved; both copies
get the same posts and titles in a round, the order swapped every round. Per checkout:
the webhooks' wall p50 / p99 / range and serve's CPU per webhook (10 ms ticks) over all
rounds, serve's RSS after each round. ``--runs 0``: no new processes. ``--changelog``: the
edits written through the writer's change log, as starter_bench's.

    python bench/starter_ab.py 10000 --base /tmp/main --built bench/out/starter-10000 \
        --webhooks 100 --webhook-runs 2 --runs 0
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import starter_bench
from abkit import ab_parser, compiled_checkouts
from ssg_bench import _ROOT, _env, timed
from starter_bench import Dataset, grow, pct, webhooks


def _ssgen(*args: str) -> list[str]:
    return [sys.executable, "-m", "ssgen", "-q", *args]


def _run(cmd: list[str], site: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys) of ``cmd`` in a new process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=site, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {site}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def _summary(values: list[float]) -> str:
    return (f"median {statistics.median(values):.2f} s [min {min(values):.2f}, "
            f"max {max(values):.2f}, {len(values)} runs]")


def main() -> None:
    parser = ab_parser(__doc__, "posts", 10000, runs=5, seed=1)
    parser.add_argument("--full-runs", type=int, default=1)
    parser.add_argument("--built", type=Path, default=None,
                        help="a grown site already built (by either checkout): copied for "
                             "each, no full builds")
    parser.add_argument("--webhooks", type=int, default=0)
    parser.add_argument("--webhook-runs", type=int, default=1)
    parser.add_argument("--changelog", action="store_true",
                        help="the NDJSON edits written through ssgen.sources.ndjson.changelog "
                             "(no whole-file proof in serve's rounds), as starter_bench's")
    args = parser.parse_args()
    checkouts = compiled_checkouts(args.base, _ROOT)
    sites: dict[str, Path] = {}
    for label in checkouts:
        if args.built is None:
            sites[label] = grow(args.workdir / f"ab-{label}", args.posts)
        else:
            sites[label] = args.workdir / f"ab-{label}" / args.built.name
            shutil.rmtree(sites[label].parent, ignore_errors=True)
            shutil.copytree(args.built, sites[label], symlinks=True)
    print(f"{args.posts:,} posts; load {os.getloadavg()[0]:.2f}", flush=True)
    full: dict[str, list[tuple[float, float, float]]] = {label: [] for label in checkouts}
    for round_ in range(0 if args.built else max(1, args.full_runs)):
        order = list(checkouts.items())[::-1 if round_ % 2 else 1]
        for label, path in order:
            site = sites[label]
            found = timed(_ssgen("build", "--full"), site, [site / "public", site / ".ssgen"],
                          site.parent / "trash", _env(path))
            full[label].append(found)
            print(f"  full {label}: wall {found[0]:.1f} s, CPU {found[1]:.1f} s, "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
    # Light (starter_bench's NDJSON mode): two whole parses at 100,000 posts are ~10 GB.
    data = {label: Dataset(site, light=True) for label, site in sites.items()}
    for dataset in data.values():
        dataset.changelog = args.changelog
    if args.webhooks:
        _webhook_rounds(checkouts, sites, data, args)
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    rng = random.Random(args.seed)
    for round_ in range(-1, args.runs if args.runs else -1):  # -1: leaves a snapshot
        order = list(checkouts.items())[::-1 if round_ % 2 else 1]
        for command in ("revalidate", "build"):
            seed = rng.random()
            for label, path in order:
                doc = data[label].retitle(random.Random(seed))
                cmd = _ssgen("revalidate", "--doc", doc["_id"]) if command == "revalidate" \
                    else _ssgen("build")
                found = _run(cmd, sites[label], _env(path))
                if round_ >= 0:
                    times.setdefault((label, command), []).append(found)
    print(f"load at end {os.getloadavg()[0]:.2f}")
    for label in checkouts:
        if args.full_runs and not args.built:
            print(f"{label} full build: wall {_summary([r[0] for r in full[label]])}; "
                  f"CPU {_summary([r[1] for r in full[label]])}")
        for command in ("revalidate", "build"):
            found = times.get((label, command), [])
            if found:
                print(f"{label} {command} after an edit: wall {_summary([r[0] for r in found])}"
                      f"; CPU {_summary([r[1] for r in found])}")
    for label in checkouts:
        shutil.rmtree(args.workdir / f"ab-{label}", ignore_errors=True)


def _webhook_rounds(checkouts: dict[str, str], sites: dict[str, Path],
                    data: dict[str, Dataset], args: argparse.Namespace) -> None:
    """Each checkout's serve through ``args.webhooks`` webhooks, ``args.webhook_runs`` times."""
    rng = random.Random(args.seed)
    walls: dict[str, list[float]] = {label: [] for label in checkouts}
    cpus: dict[str, list[float]] = {label: [] for label in checkouts}
    for round_ in range(args.webhook_runs):
        seed = rng.random()
        for label, path in list(checkouts.items())[::-1 if round_ % 2 else 1]:
            starter_bench.ENV = _env(path)
            cpu: list[float] = []
            lat, rss = webhooks(sites[label], data[label], args.webhooks, random.Random(seed),
                                cpu=cpu)
            walls[label] += lat
            cpus[label] += cpu
            print(f"  {label} run {round_ + 1}: webhook p50 {statistics.median(lat) * 1000:.0f}"
                  f" ms, p99 {pct(lat, 0.99) * 1000:.0f} ms, serve RSS {rss:.0f} MB, load "
                  f"{os.getloadavg()[0]:.2f}", flush=True)
    for label in checkouts:
        lat, cpu = walls[label], cpus[label]
        print(f"{label} webhooks ({len(lat)}): wall p50 {statistics.median(lat) * 1000:.0f} ms"
              f", p99 {pct(lat, 0.99) * 1000:.0f} ms [min {min(lat) * 1000:.0f}, max "
              f"{max(lat) * 1000:.0f}]; serve CPU p50 {statistics.median(cpu) * 1000:.0f} ms, "
              f"p99 {pct(cpu, 0.99) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
