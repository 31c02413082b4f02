"""What the A/B scripts share (full_ab, newprocess_ab, snapshot_ab): their arguments."""

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
