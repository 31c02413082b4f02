"""Two ssgen checkouts build one site: is every output file and manifest row the same?

A cold ``ssgen build --full`` of ssg_bench's varied site (``files`` Markdown files) by the
checkout in ``--base`` (a folder holding another checkout's ``ssgen/``) and by this one,
each in a copy of its own; then the md5 of every file under ``public/`` and every row of
every manifest table are compared. Left out of the comparison, as they differ between
any two builds: the files' ``mtime_ns``, the meta rows that hold clocks, generations and
session marks (``VOLATILE_META``), the queue's and link checks' times. Exit 1 on a
difference, naming it.

    python bench/same_output.py 1000 16000 --base /tmp/main-checkout
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ssg_bench import _ROOT, _env, compile_checkouts, make_ssgen_site, markdown_files

VOLATILE_META = frozenset({"files_checked_ns", "last_success", "pages_generation",
                           "documents_at", "doclists", "sitemap_key"})
# table -> columns left out (times).
VOLATILE_COLUMNS = {"files": {"mtime_ns"}, "queue": {"created"}, "deliveries": {"created"},
                    "link_external": {"checked"}}


def files_of(public: Path) -> dict[str, str]:
    """relpath -> md5 of every file under ``public``."""
    return {path.relative_to(public).as_posix(): hashlib.md5(path.read_bytes()).hexdigest()
            for path in sorted(public.rglob("*")) if path.is_file()}


def tables_of(state: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every manifest table's rows (sorted), less the volatile columns and meta rows."""
    conn = sqlite3.connect(state / "manifest.sqlite")
    try:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        found: dict[str, list[tuple[object, ...]]] = {}
        for name in names:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({name})")
                       if row[1] not in VOLATILE_COLUMNS.get(name, set())]
            rows = conn.execute(f"SELECT {', '.join(columns)} FROM {name}").fetchall()
            if name == "meta":
                rows = [row for row in rows if row[0] not in VOLATILE_META]
            found[name] = sorted(rows, key=repr)
        return found
    finally:
        conn.close()


def build(site: Path, pythonpath: str) -> None:
    subprocess.run([sys.executable, "-m", "ssgen", "-q", "build", "--full"], cwd=site,
                   env=_env(pythonpath), check=True)


def differences(files: int, base: str, seed: int, workdir: Path) -> list[str]:
    """What differs between the two checkouts' builds of the ``files``-file site."""
    sources = markdown_files(files, seed)
    sites = {label: make_ssgen_site(workdir / label, sources) for label in ("base", "this")}
    for label, path in (("base", base), ("this", str(_ROOT))):
        build(sites[label], path)
    found: list[str] = []
    a, b = (files_of(sites[label] / "public") for label in ("base", "this"))
    found += [f"file {rel}: {a.get(rel)} != {b.get(rel)}"
              for rel in sorted(a.keys() | b.keys()) if a.get(rel) != b.get(rel)]
    ta, tb = (tables_of(sites[label] / ".ssgen") for label in ("base", "this"))
    for table in sorted(ta.keys() | tb.keys()):
        rows_a, rows_b = ta.get(table), tb.get(table)
        if rows_a != rows_b:
            count = (len(rows_a or []), len(rows_b or []))
            first = next((f"{x!r:.200} != {y!r:.200}" for x, y in zip(
                rows_a or [], rows_b or [], strict=False) if x != y), "")
            found.append(f"table {table}: {count[0]} rows != {count[1]} rows; {first}")
    print(f"{files} files: {len(a)} output files, {sum(map(len, ta.values()))} manifest rows "
          f"compared; {len(found)} difference(s)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[1000])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    for path in (str(args.base.resolve()), str(_ROOT)):
        compile_checkouts(path)
    failed = False
    for files in args.sizes:
        workdir = Path(tempfile.mkdtemp(prefix="same-output-", dir=args.workdir))
        try:
            found = differences(files, str(args.base.resolve()), args.seed, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        for line in found[:20]:
            print("  " + line)
        failed = failed or bool(found)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    main()
