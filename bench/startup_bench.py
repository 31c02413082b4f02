"""Start-up cost of the command line: CPU time of `python -c "import ssgen.cli"`.

Compares checkouts, alternating runs so a busy machine affects each equally; CPU time
(user + sys of the child) rather than wall time, which other processes inflate.

    python bench/startup_bench.py /path/to/old-checkout /path/to/new-checkout [--runs 40]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkouts", nargs="+")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {path: [] for path in args.checkouts}
    for _ in range(args.runs):
        for path in args.checkouts:
            before = _child_cpu()
            subprocess.run([sys.executable, "-c", "import ssgen.cli"], cwd=path, check=True)
            samples[path].append((_child_cpu() - before) * 1000)
    for path, values in samples.items():
        values.sort()
        tenth = max(0, len(values) // 10 - 1)
        print(f"{path}: median {statistics.median(values):.0f} ms CPU, "
              f"p10 {values[tenth]:.0f}, p90 {values[-tenth - 1]:.0f} ({len(values)} runs)")


if __name__ == "__main__":
    main()
