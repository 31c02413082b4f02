"""Two ssgen checkouts' cold builds counted in instructions, not timed: a load-proof A/B.

A cold ``ssgen build --full`` of ssg_bench's site (``files`` Markdown files) by this
checkout and by ``--base`` (a folder holding another checkout's ``ssgen/``), each under
``valgrind --tool=callgrind``: the instructions the build process itself executed (its
forked children, counted apart, are left out), with ``PYTHONHASHSEED=0``. Unlike wall or
CPU time on a shared machine, the count of one checkout moves by <0.01% from run to run,
so a change of 0.3% of a process's start shows. Below ssg_bench's render threshold
(200 files) the build process does everything but the Markdown parse, so a small site's
count is the fixed cost of a cold build: the interpreter's start, the imports and the
stages. Each checkout builds once first, unmeasured, as ssg_bench's first run does (its
``__pycache__`` files: ``.pyc``, the modules' code, regular expressions, ``__init__``s).
Needs ``valgrind``; ~15 s a run.

    python bench/instructions.py 10 --base /tmp/main-checkout --runs 2
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from abkit import ab_parser, compiled_checkouts
from ssg_bench import _ROOT, _env, make_ssgen_site, markdown_files, set_aside

_REFS = re.compile(r"^==(\d+)== I\s+refs:\s+([\d,]+)", re.MULTILINE)


def counted(site: Path, pythonpath: str, trash: Path) -> int:
    """The instructions of one cold build's own process (callgrind's ``I refs``)."""
    set_aside([site / "public", site / ".ssgen"], trash)
    env = {**_env(pythonpath), "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-m", "ssgen", "-q", "build", "--full"],
        cwd=site, env=env, capture_output=True, text=True, check=True)
    found = _REFS.findall(done.stderr)
    first_pid = re.search(r"^==(\d+)==", done.stderr, re.MULTILINE)
    assert found and first_pid, done.stderr[-2000:]
    return next(int(refs.replace(",", "")) for pid, refs in found if pid == first_pid[1])


def main() -> None:
    parser = ab_parser(__doc__, "files", 10, runs=2, seed=15)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    checkouts = compiled_checkouts(args.base, _ROOT)
    args.workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="instructions-", dir=args.workdir))
    try:
        site = make_ssgen_site(root, markdown_files(args.files, args.seed))
        trash = root / "trash"
        counts: dict[str, list[int]] = {}
        for label, path in checkouts.items():
            set_aside([site / "public", site / ".ssgen"], trash)
            subprocess.run([sys.executable, "-m", "ssgen", "-q", "build", "--full"],
                           cwd=site, env=_env(path), check=True, capture_output=True)
            counts[label] = [counted(site, path, trash) for _ in range(args.runs)]
        for label, found in counts.items():
            print(f"{label}: " + ", ".join(f"{count / 1e6:,.2f}M" for count in found))
        base, this = min(counts["base"]), min(counts["this"])
        print(f"this - base: {(this - base) / 1e6:+,.2f}M instructions "
              f"({(this - base) / base:+.2%}); {args.files} files, load "
              f"{os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
