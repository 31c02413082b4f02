"""The test suite's time per file, from the log of ``tests/plugins/timelog.py``.

One log: each file's tests, wall seconds, CPU seconds of pytest itself and of its
children, the largest resident set seen after one of its tests (MB) and the mean load,
heaviest first, with the totals. Two logs (``--base``): the base's wall and CPU beside
each file's, and the change. ``--top N``: that many files (default 25).

    TIMELOG=/tmp/after.tsv CI=true .venv/bin/python -m pytest -p plugins.timelog
    python bench/testlog.py /tmp/after.tsv --base /tmp/before.tsv --top 30
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path


class File:
    def __init__(self) -> None:
        self.tests = 0
        self.wall = self.own = self.children = self.load = 0.0
        self.rss = 0


def per_file(log: Path) -> dict[str, File]:
    files: dict[str, File] = defaultdict(File)
    for line in log.read_text().splitlines():
        fields = line.split("\t")
        node, wall, own, children = fields[0], *map(float, fields[1:4])
        entry = files[node.split("::")[0]]
        entry.tests += 1
        entry.wall += wall
        entry.own += own
        entry.children += children
        entry.rss = max(entry.rss, int(float(fields[4]))) if len(fields) > 5 else 0
        entry.load += float(fields[-1])
    return files


def _total(files: dict[str, File]) -> File:
    total = File()
    for entry in files.values():
        total.tests += entry.tests
        total.wall += entry.wall
        total.own += entry.own
        total.children += entry.children
        total.rss = max(total.rss, entry.rss)
        total.load += entry.load
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--base", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    files = per_file(args.log)
    base = per_file(args.base) if args.base else {}
    shown = sorted(files, key=lambda name: -max(files[name].wall,
                                                 base[name].wall if name in base else 0))
    print("| file | tests | wall s | CPU s (own + children) | RSS MB | load |"
          + (" base wall s | base CPU s | wall change |" if base else ""))
    print("|---|---|---|---|---|---|" + ("---|---|---|" if base else ""))
    rows = [(name, files[name]) for name in shown[:args.top]] + [("total", _total(files))]
    for name, entry in rows:
        line = (f"| {name.removeprefix('tests/')} | {entry.tests} | {entry.wall:.1f} | "
                f"{entry.own + entry.children:.1f} ({entry.own:.1f} + {entry.children:.1f}) | "
                f"{entry.rss} | {entry.load / max(entry.tests, 1):.1f} |")
        other = (_total(base) if name == "total" else base.get(name)) if base else None
        if other is not None:
            change = (entry.wall - other.wall) / other.wall * 100 if other.wall else 0.0
            line += (f" {other.wall:.1f} | {other.own + other.children:.1f} | "
                     f"{change:+.0f}% |")
        print(line)


if __name__ == "__main__":
    main()
