"""Profile one serve webhook round on the grown default site (cProfile, in-process).

Grows the default site like bench/starter_bench.py, runs a full build in a new process,
then drives serve's RebuildWorker in this process: a first round (loads the kept source),
then ``--rounds`` retitle-one-post rounds, printing each round's time and the cProfile
of the last one (of the last ``--profile-last`` ones together).

    .venv/bin/python bench/webhook_profile.py 2000 --rounds 3 --top 40

``--stages`` leaves the profiler off (but for the last ``--profile-last`` rounds, left out
of its summary) and prints, per round, the wall ms of the stages that scale with the site
(each function timed where the pipeline calls it) and the round's CPU.
Each round's line also gives ``reply``: when the webhook's job resolved, i.e. when a
``?wait=1`` caller would have had its answer (what a round does after that is not in it),
and ``gc``: the cyclic collections the round ran (count, ms, the oldest generation) and
the stages' CPU ms (``thread_time``: this thread's, other threads and children apart).
At the end, the rounds' reply, wall and CPU p50 / p90 / p99 / max, and per stage the
median wall and CPU of all rounds beside those of the slowest tenth (by reply): what
the slow rounds do that the median ones do not.

``--source sanity`` serves the site from the project's Sanity test server (as
bench/starter_sanity.py), run in a forked child so that its copy of the dataset and its
rebuilds stay out of this process's heap, collections and CPU: each round's edit is a
``put`` there (untimed), the round's change names the new ``_rev``, and the mirror
fetches the document over HTTP inside the round (the child's answer in the round's wall,
not its CPU). Stage ``apply_change`` is the mirror's patch of the kept source.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from starter_bench import Dataset, grow, ssgen  # noqa: E402

from ssgen.build.change import Change, DocChange  # noqa: E402
from ssgen.config.load import load_config  # noqa: E402
from ssgen.render.environment import Renderer  # noqa: E402
from ssgen.serve.worker import RebuildWorker  # noqa: E402

_STAGES = {  # module -> names the pipeline calls through it (a checkout may lack some)
    "ssgen.build.pipeline": ["find_damage", "collect_pages", "plan_render", "record_build",
                             "write_extras", "sync_images", "render_pages", "_scope",
                             "query_globals", "document_states"],
    "ssgen.build.pipeline.pages": ["collect_pages", "plan_render", "record_build",
                                   "render_pages", "query_globals", "document_states",
                                   "rebuild_scope"],
    "ssgen.build.extras": ["_generated", "page_lastmods", "render_feed", "feed_and_undated", "_sitemap_memo", "_sitemap",
                           "_copy_static"],
}
_SPENT: dict[str, float] = {}
_CPU: dict[str, float] = {}  # the stages' thread CPU, as _SPENT their wall
_DEPTH = [0]  # nested timed calls: only the outermost counts toward "stages"
_GC: list[tuple[int, float]] = []  # (generation, seconds) of each collection this round


def _timed(name: str, function: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began, cpu = time.perf_counter(), time.thread_time()
        _DEPTH[0] += 1
        try:
            return function(*args, **kwargs)
        finally:
            _DEPTH[0] -= 1
            _SPENT[name] = _SPENT.get(name, 0.0) + time.perf_counter() - began
            _CPU[name] = _CPU.get(name, 0.0) + time.thread_time() - cpu
            if not _DEPTH[0]:
                _SPENT["stages"] = _SPENT.get("stages", 0.0) + time.perf_counter() - began
    return wrapper


def _note_gc() -> None:
    """Time every cyclic collection (``gc.callbacks``) into ``_GC``."""
    began: list[float] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[:] = [time.perf_counter()]
        elif began:
            _GC.append((info["generation"], time.perf_counter() - began[0]))

    gc.callbacks.append(callback)


def _gc_line() -> str:
    if not _GC:
        return "gc 0"
    return (f"gc {len(_GC)} {sum(s for _, s in _GC) * 1000:.0f} ms "
            f"(gen {max(g for g, _ in _GC)})")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(rows: list[dict[str, float]]) -> None:
    """Reply, wall and CPU percentiles over the rounds; each stage's median wall / CPU
    over all rounds and over the slowest tenth by reply."""
    if not rows:
        return
    for key in ("reply", "wall", "cpu", "gc"):
        values = [row[key] for row in rows]
        print(f"{key} ms over {len(values)} rounds: p50 {statistics.median(values):.0f}, "
              f"p90 {_pct(values, 0.9):.0f}, p99 {_pct(values, 0.99):.0f}, "
              f"max {max(values):.0f}")
    slow = sorted(rows, key=lambda row: -row["reply"])[:max(1, len(rows) // 10)]
    names = sorted({k for row in rows for k in row if k.startswith(("w:", "c:"))})
    print(f"stage medians, wall / cpu ms: all {len(rows)} rounds | slowest {len(slow)}")
    for name in sorted({n[2:] for n in names}):
        print(f"  {name:18} {_median(rows, 'w:' + name):6.1f} / "
              f"{_median(rows, 'c:' + name):6.1f} | {_median(slow, 'w:' + name):6.1f} / "
              f"{_median(slow, 'c:' + name):6.1f}")


def _median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median([row.get(key, 0.0) for row in rows])


def _time_stages() -> None:
    import importlib

    for module_name, names in _STAGES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:  # an older checkout: the pipeline was one module
            continue
        for name in names:
            if hasattr(module, name):  # an older checkout may not have it
                setattr(module, name, _timed(name, getattr(module, name)))
    from ssgen.sources.local import LocalSource
    from ssgen.sources.mirror.source import MirrorSource

    LocalSource.reload = _timed("reload", LocalSource.reload)  # type: ignore[method-assign]
    MirrorSource.apply_change = _timed(  # type: ignore[method-assign]
        "apply_change", MirrorSource.apply_change)


def _note_reports() -> list[Any]:
    """The reports of the builds the worker runs (its rounds' and its warming's)."""
    import ssgen.build.pipeline as pipeline

    reports: list[Any] = []
    real = pipeline.build

    def noting(*args: Any, **kwargs: Any) -> Any:
        reports.append(real(*args, **kwargs))
        return reports[-1]

    pipeline.build = noting  # type: ignore[assignment]
    return reports


def _planned(reports: list[Any]) -> str:
    """The pages the round's build planned and kept (a checkout may not count them)."""
    if not reports:
        return ""
    report, _ = reports[0], reports.clear()
    return f", planned {getattr(report, 'planned', '?')}, kept {report.kept}"


def _checkpoint(worker: Any) -> str:
    """The manifest's WAL checkpoint serve runs after a round once idle (if it does)."""
    if not hasattr(worker, "_checkpoint"):
        return ""
    began = time.perf_counter()
    worker._checkpoint()
    return f", checkpoint {(time.perf_counter() - began) * 1000:.0f} ms"


def _lake_child(site: Path, docs: list[dict[str, Any]], conn: Any) -> None:
    """The Sanity test server over the grown dataset (``docs``: the parent's parse, shared
    by the fork); puts the documents ``conn`` sends and answers each with its new
    ``_rev`` (None ends it)."""
    from starter_sanity import lake_for

    lake = lake_for(site, docs)
    conn.send(lake.url)
    try:
        while (doc := conn.recv()) is not None:
            stored = lake.put(doc)
            lake._dataset("raw", False)  # the fake lake's rebuild, before the round
            conn.send(stored["_rev"])
    finally:
        lake.stop()


class _Lake:
    """The parent's end of ``_lake_child``: ``retitle`` as ``starter_sanity.LakeEdits``."""

    def __init__(self, site: Path, docs: list[dict[str, Any]]) -> None:
        import multiprocessing

        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=_lake_child, args=(site, docs, child), daemon=True)
        self.process.start()
        self.url = self.conn.recv()

    def retitle(self, data: Dataset, rng: random.Random) -> dict[str, Any]:
        data.round += 1
        doc = rng.choice(data.order)
        doc["title"] = f"{doc['title'].split(' [')[0]} [edit {data.round}]"
        self.conn.send(doc)
        doc["_rev"] = self.conn.recv()
        return doc

    def stop(self) -> None:
        self.conn.send(None)
        self.process.join(60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("posts", type=int)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--profile-last", type=int, default=None, metavar="N",
                        help="profile the last N rounds together (default: 1, none with "
                             "--stages; with --stages they are left out of its summary)")
    parser.add_argument("--reuse", action="store_true", help="keep an existing grown site")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--stages", action="store_true", help="time stages, no profile")
    parser.add_argument("--source", choices=("ndjson", "sanity"), default="ndjson",
                        help="sanity: the Sanity test server through the mirror")
    args = parser.parse_args()
    profile_last = args.profile_last if args.profile_last is not None else int(not args.stages)
    if args.stages:
        _time_stages()
        _note_gc()
    site = args.workdir / f"starter-{args.posts}"
    if not (args.reuse and (site / "public").is_dir()):
        site = grow(args.workdir, args.posts)
        print(f"full build: {ssgen(site, 'build', '--full'):.1f} s", flush=True)
    data = Dataset(site)
    lake = None
    if args.source == "sanity":
        from starter_sanity import use_lake

        lake = _Lake(site, data.docs)
        use_lake(site, lake)  # type: ignore[arg-type]
        print(f"Sanity test server on {lake.url}", flush=True)
    rng = random.Random()  # a reused site already shows the titles a fixed seed gives
    reports = _note_reports()
    worker = RebuildWorker(load_config(site), settle=0)
    started, cpu = time.perf_counter(), os.times()
    worker._round()
    after = os.times()
    print(f"first round: {time.perf_counter() - started:.2f} s, cpu "
          f"{after.user + after.system - cpu.user - cpu.system:.2f} s{_planned(reports)}",
          flush=True)
    profile = cProfile.Profile()
    rows: list[dict[str, float]] = []
    for i in range(args.rounds):
        doc = lake.retitle(data, rng) if lake is not None else data.retitle(rng)
        job = worker.submit(Change(documents=(DocChange(doc["_id"], "post", rev=doc["_rev"]),)))
        replied: list[float] = []  # when a ?wait=1 caller would have had its reply
        worker.future(job.job).add_done_callback(
            lambda _, noted=replied: noted.append(time.perf_counter()))
        started, cpu = time.perf_counter(), os.times()
        _SPENT.clear()
        _CPU.clear()
        _GC.clear()
        profiled = i >= args.rounds - profile_last
        if profiled:
            profile.enable()
        worker._round()
        profile.disable()
        after = os.times()
        wall = time.perf_counter() - started
        checkpointed = _checkpoint(worker)  # as serve's loop does once idle
        if args.stages and not profiled:
            used = (after.user + after.system - cpu.user - cpu.system) * 1000
            print(f"  cpu {used:.0f} ms; {_gc_line()}; "
                  + ", ".join(f"{k} {v * 1000:.0f}/{_CPU.get(k, 0.0) * 1000:.0f}"
                              for k, v in sorted(_SPENT.items(), key=lambda kv: -kv[1])),
                  flush=True)
            rows.append({"reply": ((replied or [time.perf_counter()])[0] - started) * 1000,
                         "wall": wall * 1000, "cpu": used,
                         "gc": sum(s for _, s in _GC) * 1000,
                         **{f"w:{k}": v * 1000 for k, v in _SPENT.items()},
                         **{f"c:{k}": v * 1000 for k, v in _CPU.items()}})
        stale = [str(f) for f in data.affected(doc) if doc["title"] not in f.read_text()]
        fragments = Renderer.shared(load_config(site)).fragments
        reply = f"reply {(replied[0] - started) * 1000:.0f} ms, " if replied else ""
        print(f"round {i}: {wall * 1000:.0f} ms, {reply}fragments "
              f"{fragments.hits} hits {fragments.misses} misses {len(fragments)} kept, "
              f"{doc['_id']}{_planned(reports)}{checkpointed}"
              f"{' STALE ' + str(stale) if stale else ''}", flush=True)
    rss = next(line.split()[1] for line in Path("/proc/self/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    print(f"RSS after the rounds: {int(rss) // 1024} MB; load {os.getloadavg()[0]:.1f}",
          flush=True)
    _summary(rows)
    worker.stop()
    if lake is not None:
        lake.stop()
    if profile_last:
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
