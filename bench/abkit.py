"""What the A/B scripts share (full_ab, newprocess_ab, snapshot_ab, instructions,
starter_ab): their arguments, and the two checkouts compiled."""

from __future__ import annotations

import argparse
from pathlib import Path


def ab_parser(doc: str | None, size: str, default: int, runs: int,
              seed: int) -> argparse.ArgumentParser:
    """The arguments of a script that alternates this checkout with ``--base``: the site's
    size (``size``: its name), runs, seed and the working folder."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(size, nargs="?", type=int, default=default)
    parser.add_argument("--base", type=Path, required=True,
                        help="a folder holding the other checkout's ssgen/ package")
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    return parser


def compiled_checkouts(base: Path, this: Path) -> dict[str, str]:
    """The two checkouts an A/B alternates, ``base`` and ``this`` (each a folder holding an
    ``ssgen/``), their .pyc files written first (``ssg_bench.compile_checkouts``)."""
    from ssg_bench import compile_checkouts

    checkouts = {"base": str(base.resolve()), "this": str(this)}
    for path in checkouts.values():
        compile_checkouts(path)
    return checkouts
