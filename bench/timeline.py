"""Where a cold ``ssgen build --full`` spends its wall time: one line per stage, per process.

An import hook wraps the build's stage functions (``STAGES``) where the pipeline calls
them and logs, on entry and on return, the wall ms since the command started, the
process's CPU ms (user + system), its system ms, the ms it waited for a core (the load's
share: wall - CPU - wait is what it slept), its minor page faults so far and the core it
ran on (``/proc/self/stat``, ``schedstat``), and its pid; every forked
child logs its fork and its own wrapped calls. Nothing is timed in tests: this is read by
hand (docs/benchmarks.md).

    python bench/timeline.py bench/out/site [--base /tmp/main] [--runs 1]

``--runs N`` (N > 1) prints, instead of each run's lines, the median over the runs of each
phase of the build process (wall ms at its end, CPU ms in it) and of each child (its fork,
exit and CPU), and how long the other core had no work of this build before the render's
worker forked (the wall before that fork minus the children's CPU before it).
"""

from __future__ import annotations

import argparse
import functools
import importlib.abc
import importlib.machinery
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ssg_bench import _env, set_aside

# module -> names wrapped in that module's namespace (where the caller looks them up).
STAGES: dict[str, tuple[str, ...]] = {
    "ssgen.build.pipeline": ("open_manifest", "_recover", "content", "_site_files",
                             "keep_snapshot", "_close_run"),
    "ssgen.build.pipeline.pages": (
        "load_source", "query_globals", "document_states", "collect_pages", "plan_render",
        "page_files", "find_clashes", "journal_pages", "render_pages", "record_build",
        "content_failures", "_beside_render"),
    "ssgen.build.collect": ("route_pages", "settle_clashes", "expand_route", "_run"),
    "ssgen.build.loading": ("parse_ahead", "LocalSource"),
    "ssgen.build.extras": ("write_extras",),
    "ssgen.build.fragfile": ("store_key", "save", "_template_texts"),
    "ssgen.build.analysisfile": ("save",),
    "ssgen.build.templatecode": ("save",),
    "ssgen.build.doclists": ("save", "open_lists"),
    "ssgen.build.memo.kept": ("keep",),
    "ssgen.sources.early": ("begin", "inputs"),
    "ssgen.sources.filecache": ("settle", "FileCache.save"),
    "ssgen.cli.plain": ("exit_process",),
    "ssgen.sources.codestamp": ("code_digest",),
    "ssgen.config.load": ("load_config",),
}
MARKS = ("ssgen.config.load", "ssgen.build.pipeline", "ssgen.render.markdown")
_ENV_START, _ENV_LOG = "SSGEN_TIMELINE_T0", "SSGEN_TIMELINE_LOG"


def _log(event: str) -> None:
    with open(os.environ[_ENV_LOG], "a") as out:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        # proc(5): minflt (10), stime (15, clock ticks), processor (39); fields[0] is (3).
        core, faults = fields[36], int(fields[7])
        system = int(fields[12]) * 1000 / os.sysconf("SC_CLK_TCK")
        cpu = time.process_time() * 1000
        wall = (time.time() - float(os.environ[_ENV_START])) * 1000
        out.write(f"{wall:9.1f} {cpu:8.1f} {system:7.0f} {_waited():8.1f} {faults:8d} c{core} "
                  f"{os.getpid():>7} {event}\n")


def _waited() -> float:
    """This thread's ms runnable but waiting for a core (the load's share, schedstat(5)):
    wall minus CPU minus this is the time it slept (I/O, locks, pipes)."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e6
    except (OSError, ValueError, IndexError):
        return -1.0


def _wrap(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def logged(*args: Any, **kwargs: Any) -> Any:
        _log(f"> {name}")
        try:
            return func(*args, **kwargs)
        finally:
            _log(f"< {name}")
    return logged


class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in STAGES and fullname not in MARKS:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module  # type: ignore[attr-defined]

        def exec_module(module: ModuleType) -> None:
            original(module)
            for name in STAGES.get(fullname, ()):
                owner, _, attr = name.rpartition(".")  # "Class.method": wrapped on the class
                holder = getattr(module, owner, None) if owner else module
                if holder is not None and hasattr(holder, attr):
                    setattr(holder, attr, _wrap(name, getattr(holder, attr)))
            _log(f"imported {fullname}")
        loader.exec_module = exec_module  # type: ignore[attr-defined]
        return spec


def install() -> None:
    """Called in the timed process (``-c``): hook the imports, log forks and exit."""
    import atexit
    import importlib.util  # noqa: F401  (find_spec above)

    try:  # first, as the entry point does, so that this hook stays ahead of its finder
        from ssgen import fastimport
        fastimport.install()
    except ImportError:  # a checkout before ssgen.fastimport
        pass
    sys.meta_path.insert(0, _Hook())
    os.register_at_fork(after_in_child=lambda: _log("forked"),
                        after_in_parent=lambda: _log("forked a child"))
    atexit.register(lambda: _log("exit"))
    real_exit = os._exit

    def exit_logged(code: int) -> None:
        _log("_exit")
        real_exit(code)
    os._exit = exit_logged  # type: ignore[assignment]
    _log("interpreter up")


# The build process's phases, each ending at its first line with this event (in order).
PHASES = (
    ("interpreter (and this hook)", "interpreter up"),
    ("imports to the parse's fork", "forked a child"),
    ("imports, configuration", "> open_manifest"),
    ("manifest, inputs (the parses taken)", "< inputs"),
    ("load (LocalSource)", "< load_source"),
    ("globals, document states, collect", "< collect_pages"),
    ("plan, page files, clashes, journal", "> render_pages"),
    ("render's warm, to the worker's fork", "forked a child@render"),
    ("render (both processes)", "< render_pages"),
    ("record, saves, extras, exit", "_exit"),
)


def run_once(site: Path, base: str | None, log: Path) -> list[str]:
    """One cold build's log lines, sorted by wall time."""
    root = str(Path(__file__).resolve().parent.parent)
    here = str(Path(__file__).resolve().parent)
    set_aside([site / "public", site / ".ssgen"], site.parent / "trash")
    # As ssg_bench runs it (``_env``: .pyc files and ssgen's caches beside the code written).
    env = {**_env(os.pathsep.join([base or root, here])),
           _ENV_LOG: str(log.resolve()), _ENV_START: repr(time.time())}
    log.unlink(missing_ok=True)
    code = "import timeline; timeline.install(); import runpy; " \
           "runpy.run_module('ssgen', run_name='__main__')"
    subprocess.run([sys.executable, "-c", code, "-q", "build", "--full"], cwd=site,
                   env=env, check=True)
    return sorted(log.read_text().splitlines(), key=lambda line: float(line.split()[0]))


def phases(log: list[str]) -> dict[str, tuple[float, float]]:
    """Wall ms at each phase's end and CPU ms spent in it (the build process's, ``PHASES``),
    each child's wall from its fork to its exit and its CPU, and the other core's idle ms
    before the render's worker forked."""
    lines = [line.split(None, 7) for line in log]
    parent = lines[0][6]
    mine = [fields for fields in lines if fields[6] == parent]
    render = next((float(f[0]) for f in mine if f[7] == "> render_pages"), None)
    out: dict[str, tuple[float, float]] = {}
    cpu, start = 0.0, 0
    for name, event in PHASES:
        wanted, _, after_render = event.partition("@")
        for index in range(start, len(mine)):
            fields = mine[index]
            if fields[7] == wanted and (not after_render or (
                    render is not None and float(fields[0]) >= render)):
                out[name] = (float(fields[0]), float(fields[1]) - cpu)
                cpu, start = float(fields[1]), index + 1
                break
    forks = [float(f[0]) for f in mine if f[7] == "forked a child"]
    children = {f[6] for f in lines if f[6] != parent}
    busy, fork_at = 0.0, out.get(PHASES[7][0], (0.0, 0.0))[0]
    ordered = sorted(children, key=lambda p: min(float(f[0]) for f in lines if f[6] == p))
    for number, pid in enumerate(ordered, 1):
        theirs = [f for f in lines if f[6] == pid]
        began = max([at for at in forks if at <= float(theirs[0][0])], default=0.0)
        ended, used = float(theirs[-1][0]), float(theirs[-1][1])
        # The children of a 1k build: the parse, the parse cache's save, the render worker.
        label = "render worker" if began >= fork_at > 0 else f"child {number}"
        out[f"{label}: fork -> exit (CPU)"] = (ended - began, used)
        if began < fork_at:
            busy += used
    out["other core idle before the render's fork"] = (fork_at - busy, 0.0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("site", type=Path)
    parser.add_argument("--base", help="PYTHONPATH of the ssgen to run (default: this one)")
    parser.add_argument("--log", type=Path, default=Path("/tmp/timeline.log"))
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    if args.runs <= 1:
        lines = run_once(args.site, args.base, args.log)
        print("   wall ms   cpu ms  sys ms  wait ms   minflt core     pid event")
        print("\n".join(lines))
        return
    found: dict[str, list[tuple[float, float]]] = {}
    for _ in range(args.runs):
        for name, value in phases(run_once(args.site, args.base, args.log)).items():
            found.setdefault(name, []).append(value)
    print(f"medians of {args.runs} runs; load average {os.getloadavg()[0]:.2f}")
    print(f"{'phase':48} {'wall at end':>11} {'CPU in it':>9}  (runs)")
    for name, values in found.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        print(f"{name:48} {statistics.median(walls):11.1f} {statistics.median(cpus):9.1f}"
              f"  ({len(values)})")


if __name__ == "__main__":
    main()
