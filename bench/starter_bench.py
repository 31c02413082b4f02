"""The bundled default site grown large: webhook -> every affected page, and new processes.

Copies the repository's own site (ssgen.toml, content/, templates/, static/: its queries
and templates unchanged) and clones its posts to N with fresh ids, slugs and dates, keeping
its authors and categories. Then, per size:

1. a full build (`ssgen build --full`, a new process, wall time);
2. `ssgen serve` in its own process, as users run it. For each of ``--webhooks`` edits:
   retitle one random post in the NDJSON (fsync'd, as a CMS commits before it calls),
   send a signed Sanity webhook with ``?wait=1`` and time send -> reply. After each reply
   the bench checks every affected page shows the new title: the post, its blog list
   page, its author, its categories, the home page and the feed when the post is on them;
3. new processes after a one-post edit: `ssgen revalidate --doc ID` and `ssgen build`,
   interpreter start included, ``--runs`` times each; each begins once no process works
   in the site any more (``settle``: serve's last snapshot save, which outlives it by
   seconds at 100,000 posts, and a command's re-save at its exit, untimed), as in
   snapshot_ab.py.

``--source sanity`` serves the grown site from the Sanity test server through the mirror
instead (bench/starter_sanity.py: each edit a ``put`` there, the webhook names it; no
new-process runs).

The default site has ``[search] enabled``; the grown copy turns it off unless ``--search``
is given, so the figures are ssgen's own: a Pagefind run re-indexes the whole site (17 s
of CPU at 10k pages, see "Search index: Pagefind" in docs/benchmarks.md), in serve in the
background after rounds settle, in a new process inside the build.

    .venv/bin/python bench/starter_bench.py 10000 100000 --webhooks 200 --runs 5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ssgen.serve.webhooks import sign  # noqa: E402

SECRET = "starter-bench-secret-0123456789"
PER_LIST_PAGE = 10
HOME_POSTS = 7
FEED_POSTS = 20


def grow(workdir: Path, posts: int, search: bool = False) -> Path:
    """A copy of the default site with its posts cloned to ``posts`` (and Pagefind search
    turned off unless ``search``)."""
    site = workdir / f"starter-{posts}"
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    for name in ("ssgen.toml", "content", "templates", "static"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, site / name)
        else:
            shutil.copy(source, site / name)
    if not search:
        toml = site / "ssgen.toml"
        toml.write_text(toml.read_text().replace("[search]\nenabled = true", "[search]\nenabled = false"))
    path = site / "content" / "dataset.ndjson"
    docs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    originals = [d for d in docs if d["_type"] == "post" and not d["_id"].startswith("drafts.")]
    rest = [d for d in docs if d not in originals]
    start = datetime(2015, 1, 1, tzinfo=UTC)
    grown = []
    for i in range(posts):
        clone = json.loads(json.dumps(originals[i % len(originals)]))
        clone["_id"] = f"post-{i:06d}"
        clone["_rev"] = "r0"
        clone["slug"] = {"_type": "slug", "current": f"{clone['slug']['current']}-{i}"}
        clone["title"] = f"{clone['title']} ({i})"
        stamp = (start + timedelta(minutes=97 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        clone["publishedAt"] = stamp
        clone["_updatedAt"] = stamp
        grown.append(clone)
    _write(path, rest + grown)
    return site


def _write(path: Path, docs: list[dict[str, Any]]) -> None:
    with path.open("w") as handle:
        for doc in docs:
            handle.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


# The fields a light ``Dataset`` keeps of each document (``affected`` reads them).
_LIGHT = ("_id", "_type", "_rev", "title", "slug", "author", "categories", "publishedAt")


class Dataset:
    """The grown site's documents: retitle a post and save the file. ``light``: keep each
    document's line and the few fields the bench reads, not the whole parse (4.8 GB at
    100,000 posts beside a 7-10 GB server: a snapshot save forked then ran the machine
    out of memory); the Sanity mode needs the documents whole."""

    def __init__(self, site: Path, light: bool = False) -> None:
        self.site = site
        self.path = site / "content" / "dataset.ndjson"
        self.lines: list[bytes] | None = None
        if light:
            self.lines = [line for line in self.path.read_bytes().splitlines() if line]
            self.docs = [{**{k: v for k, v in json.loads(line).items() if k in _LIGHT},
                          "_line": i} for i, line in enumerate(self.lines)]
        else:
            self.docs = [json.loads(line) for line in self.path.read_text().splitlines()
                         if line]
        self.by_id = {d["_id"]: d for d in self.docs}
        posts = [d for d in self.docs if d["_type"] == "post" and d["_id"].startswith("post-")]
        # The routes' order: publishedAt desc.
        self.order = sorted(posts, key=lambda d: d["publishedAt"], reverse=True)
        self.rank = {d["_id"]: i for i, d in enumerate(self.order)}
        # Each post's place in its author's and its categories' lists (same order), for
        # a site whose author and category routes are paginated (``paginate_by``).
        self.paged = "paginate_by" in (site / "ssgen.toml").read_text()
        self.place: dict[tuple[str, str], int] = {}
        counts: dict[str, int] = {}
        for doc in self.order:
            for ref in [doc["author"]["_ref"], *(c["_ref"] for c in doc.get("categories") or [])]:
                self.place[(ref, doc["_id"])] = counts.get(ref, 0)
                counts[ref] = counts.get(ref, 0) + 1
        self.round = 0
        self.changelog = False  # the edits written through ``ndjson.changelog`` (--changelog)

    def retitle(self, rng: random.Random) -> dict[str, Any]:
        self.round += 1
        doc = rng.choice(self.order)
        doc["title"] = f"{doc['title'].split(' [')[0]} [edit {self.round}]"
        doc["_rev"] = f"r{self.round}"
        if self.lines is None:
            _write(self.path, self.docs)
            return doc
        whole = json.loads(self.lines[doc["_line"]])
        whole.update(title=doc["title"], _rev=doc["_rev"])
        self.lines[doc["_line"]] = json.dumps(whole, ensure_ascii=False,
                                              separators=(",", ":")).encode()
        if self.changelog:  # the writer says which bytes it changed: the line's
            from ssgen.sources.ndjson import changelog

            prefix = sum(len(line) + 1 for line in self.lines[:doc["_line"]])
            suffix = sum(len(line) + 1 for line in self.lines[doc["_line"] + 1:]) + 1
            changelog.write(str(self.path), b"\n".join(self.lines) + b"\n", prefix, suffix)
            return doc
        with self.path.open("wb") as handle:
            handle.write(b"\n".join(self.lines) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        return doc

    def _listing(self, folder: Path, owner: dict[str, Any], doc: dict[str, Any]) -> Path:
        """The author's or category's page that lists ``doc``."""
        page = self.place[(owner["_id"], doc["_id"])] // PER_LIST_PAGE + 1 if self.paged else 1
        return folder / ("" if page == 1 else f"page/{page}") / "index.html"

    def affected(self, doc: dict[str, Any]) -> list[Path]:
        """The output files that must show the post's new title."""
        out = self.site / "public"
        rank = self.rank[doc["_id"]]
        page = rank // PER_LIST_PAGE + 1
        files = [out / "blog" / doc["slug"]["current"] / "index.html",
                 out / "blog" / ("" if page == 1 else f"page/{page}") / "index.html"]
        author = self.by_id[doc["author"]["_ref"]]
        files.append(self._listing(out / "authors" / author["slug"]["current"], author, doc))
        for ref in doc.get("categories") or []:
            category = self.by_id[ref["_ref"]]
            files.append(self._listing(out / "categories" / category["slug"]["current"],
                                       category, doc))
        if rank < HOME_POSTS:
            files.append(out / "index.html")
        if rank < FEED_POSTS:
            files.append(out / "feed.xml")
        return files


# The subprocesses run this checkout's ssgen, not whichever one the venv installed.
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


# (command, CPU seconds: user + sys of the process and its children) of every ssgen run.
CPU: list[tuple[str, float]] = []


def ssgen(site: Path, *args: str) -> float:
    """Run ``ssgen`` in a new process; its wall time in seconds (its CPU time to ``CPU``)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ssgen", "-q", "--site", str(site), *args],
                   check=True, cwd=site, env=ENV)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append((" ".join(args[:2]), after.ru_utime + after.ru_stime
                - before.ru_utime - before.ru_stime))
    return wall


def serve(site: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "ssgen", "-q", "--site", str(site), "serve", "--port", str(port),
         "--revalidate-secret", SECRET, "--settle-ms", "0"], cwd=site,
        stdout=subprocess.DEVNULL, env=ENV)
    url = f"http://127.0.0.1:{port}"
    # Up: its first round done. Warmed: the fragment cache filled too (the steady state the
    # webhooks below measure; webhooks are taken while it warms, and stop the warming).
    started = time.monotonic()
    deadline, up = started + 3600, None
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            status = httpx.get(url + "/api/status", timeout=5).json()
            state = status.get("state")
            if up is None and status.get("rebuilds") and state != "building":
                up = time.monotonic() - started
            if status.get("queue_depth") == 0 and state not in ("building", "warming"):
                print(f"  serve up in {up or time.monotonic() - started:.1f} s, warmed in "
                      f"{time.monotonic() - started:.1f} s", flush=True)
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"ssgen serve did not settle within an hour: {status}")


def webhook(client: httpx.Client, doc: dict[str, Any], key: str | None = None) -> httpx.Response:
    body = json.dumps({"_id": doc["_id"], "_type": doc["_type"], "_rev": doc["_rev"]}).encode()
    headers = {"content-type": "application/json", "sanity-operation": "update",
               "sanity-webhook-signature": sign(SECRET, int(time.time() * 1000), body),
               "idempotency-key": key or f"{doc['_id']}-{doc['_rev']}"}
    return client.post("/api/revalidate?wait=1", content=body, headers=headers)


def _round_of(reply: httpx.Response) -> str:
    """Serve's own account of the round that answered ``reply`` (its time and summary)."""
    try:
        result = reply.json().get("result") or reply.json()
        stages = ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in
                           (result.get("stages") or {}).items() if seconds >= 0.002)
        faults = result.get("faults") or {}
        return (f"round {float(result.get('seconds', 0)) * 1000:.0f} ms (queued "
                f"{float(result.get('queued', 0)) * 1000:.0f} ms; {stages}; worker CPU "
                f"{float(result.get('cpu', 0)) * 1000:.0f} ms, faults "
                f"{faults.get('minor', '?')} minor / {faults.get('major', '?')} major), "
                f"{result.get('summary')}")
    except (ValueError, AttributeError, TypeError):
        return "no account"


def _stages_of(reply: httpx.Response) -> dict[str, float]:
    """Serve's own stage times (seconds) of the round that answered ``reply`` (none known:
    empty)."""
    try:
        result = reply.json().get("result") or reply.json()
        return {name: float(seconds) for name, seconds in (result.get("stages") or {}).items()}
    except (ValueError, AttributeError, TypeError):
        return {}


def _round_seconds(reply: httpx.Response, field: str = "seconds") -> float:
    """Serve's own time of the round that answered ``reply`` (seconds; 0 when unknown),
    or its other time ``field`` (``queued``: from the webhook's arrival to the round)."""
    try:
        result = reply.json().get("result") or reply.json()
        return float(result.get(field, 0))
    except (ValueError, AttributeError, TypeError):
        return 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_mb(pid: int) -> float:
    """A process's resident set size (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def webhooks(site: Path, data: Dataset, count: int, rng: random.Random,
             lake: Any = None, cpu: list[float] | None = None) -> tuple[list[float], float]:
    """``lake``: a ``starter_sanity.LakeEdits`` (the Sanity source), or None (NDJSON).
    The webhooks' wall times and serve's RSS after them; ``cpu``: gets serve's CPU
    seconds per webhook."""

    def edit() -> dict[str, Any]:
        return lake.retitle(data, rng) if lake is not None else data.retitle(rng)

    def key(doc: dict[str, Any]) -> str | None:
        return lake.key(doc) if lake is not None else None

    started = time.perf_counter()
    process, url = serve(site)
    print(f"serve up (kept source loaded, fragment cache warmed): "
          f"{time.perf_counter() - started:.1f} s, load {load()}", flush=True)
    latencies = []
    cpu = [] if cpu is None else cpu
    written: list[tuple[int, int]] = []  # (files, bytes) each webhook wrote
    rounds: list[tuple[float, float, str, str]] = []  # wall, CPU, the post, serve's account
    stages: list[dict[str, float]] = []  # serve's stage times of each round
    outside: list[float] = []  # each reply's wall less its round's (HTTP, queue, replies)
    waited: list[float] = []  # of which the wait for the round to start (serve's "queued")
    rss = float("nan")
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            # Untimed: serve loads its kept source and maintained results on the first
            # rebuild after it starts (printed apart, as "first webhook").
            started = time.perf_counter()
            first = edit()
            wrote = time.perf_counter() - started  # the bench's own write of the dataset
            reply = webhook(client, first, key(first))
            replied = time.perf_counter() - started - wrote
            while client.get("/api/status").json().get("queue_depth"):
                time.sleep(0.2)
            print(f"first webhook after start: {time.perf_counter() - started:.1f} s (the "
                  f"edit's write {wrote * 1000:.0f} ms, the webhook's reply {replied * 1000:.0f}"
                  f" ms, status {reply.status_code})", flush=True)
            for _ in range(count):
                # Before the dataset's write (tens of ms): file times come from a coarse
                # clock that lags time_ns by up to a tick.
                stamp = time.time_ns()
                doc = edit()
                started, used = time.perf_counter(), cpu_seconds(process.pid)
                reply = webhook(client, doc, key(doc))
                latencies.append(time.perf_counter() - started)
                cpu.append(cpu_seconds(process.pid) - used)
                if reply.status_code != 200:
                    raise SystemExit(f"webhook answered {reply.status_code}: {reply.text}")
                rounds.append((latencies[-1], cpu[-1], doc["_id"], _round_of(reply)))
                stages.append(_stages_of(reply))
                outside.append(latencies[-1] - _round_seconds(reply))
                waited.append(_round_seconds(reply, "queued"))
                written.append(_written_since(site / "public", stamp))
                stale = [str(f.relative_to(site)) for f in data.affected(doc)
                         if doc["title"] not in f.read_text()]
                if stale:
                    raise SystemExit(f"stale after the reply for {doc['_id']}: {stale}")
        rss = rss_mb(process.pid)
        print(f"webhook wall p50 {statistics.median(latencies) * 1000:.0f} ms, p99 "
              f"{pct(latencies, 0.99) * 1000:.0f} ms, min {min(latencies) * 1000:.0f} ms, max "
              f"{max(latencies) * 1000:.0f} ms; serve CPU p50 {statistics.median(cpu) * 1000:.0f}"
              f" ms, p99 {pct(cpu, 0.99) * 1000:.0f} ms ({len(cpu)} webhooks, clock tick "
              f"{1000 / os.sysconf('SC_CLK_TCK'):.0f} ms); load {load()}", flush=True)
        for wall, used, doc_id, account in sorted(rounds, reverse=True)[:3]:
            print(f"  slow: {wall * 1000:.0f} ms (serve CPU {used * 1000:.0f} ms) {doc_id}: "
                  f"{account}", flush=True)
        names = dict.fromkeys(name for found in stages for name in found)
        print("serve's stages, p50 / p90 ms: " + ", ".join(
            f"{name} {statistics.median(times) * 1000:.0f} / {pct(times, 0.9) * 1000:.0f}"
            for name in names if (times := [found.get(name, 0.0) for found in stages])),
            flush=True)
        print(f"reply outside serve's round (HTTP, signature, queue, wake-up, reply), p50 / "
              f"p90 ms: {statistics.median(outside) * 1000:.1f} / "
              f"{pct(outside, 0.9) * 1000:.1f}; of which queued for the round "
              f"{statistics.median(waited) * 1000:.1f} / {pct(waited, 0.9) * 1000:.1f}",
              flush=True)
        files, size = [f for f, _ in written], [b for _, b in written]
        print(f"written per webhook: files p50 {statistics.median(files):.0f} (max "
              f"{max(files)}), MB p50 {statistics.median(size) / 1e6:.2f}, p99 "
              f"{pct(size, 0.99) / 1e6:.2f}, max {max(size) / 1e6:.2f}", flush=True)
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return latencies, rss


def _written_since(folder: Path, stamp: int) -> tuple[int, int]:
    """Files under ``folder`` modified at or after ``stamp`` (ns): their count and bytes."""
    count = size = 0
    stack = [str(folder)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    continue
                info = entry.stat(follow_symlinks=False)
                if info.st_mtime_ns >= stamp:
                    count, size = count + 1, size + info.st_size
    return count, size


def settle(site: Path) -> float:
    """Wait for any process still working in ``site`` (serve's last snapshot save, or a
    command's re-save at its exit, forked children that outlive their parent): it would
    share the cores with the next command timed. The seconds waited."""
    started = time.perf_counter()
    while True:
        busy = False
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    busy = os.readlink(f"/proc/{entry.name}/cwd") == str(site)
                except OSError:
                    continue
                if busy:
                    break
        if not busy:
            return time.perf_counter() - started
        time.sleep(0.05)


def new_processes(site: Path, data: Dataset, runs: int,
                  rng: random.Random) -> tuple[list[float], list[float]]:
    revalidate, build = [], []
    for _ in range(runs):
        doc = data.retitle(rng)
        waited = settle(site)
        if waited > 0.1:
            print(f"  waited {waited:.1f} s for a process left in the site", flush=True)
        revalidate.append(ssgen(site, "revalidate", "--doc", doc["_id"]))
        assert all(doc["title"] in f.read_text() for f in data.affected(doc)), doc["_id"]
        doc = data.retitle(rng)
        settle(site)
        build.append(ssgen(site, "build"))
        assert all(doc["title"] in f.read_text() for f in data.affected(doc)), doc["_id"]
    return revalidate, build


def spread(values: list[float]) -> str:
    if not values:
        return "not run"  # --runs 0
    return (f"{statistics.median(values) * 1000:.0f} ms "
            f"({min(values) * 1000:.0f}-{max(values) * 1000:.0f}, {len(values)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[10000])
    parser.add_argument("--webhooks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--search", action="store_true",
                        help="keep the default site's [search] on (Pagefind in every build)")
    parser.add_argument("--built", type=float, default=None, metavar="SECONDS",
                        help="reuse the site an interrupted run of this script grew and built "
                             "in --workdir (one size), and report SECONDS (that run's printed "
                             "full build) as its full build")
    parser.add_argument("--keep", action="store_true", help="leave the grown site in --workdir")
    parser.add_argument("--changelog", action="store_true",
                        help="the NDJSON edits written through ssgen.sources.ndjson.changelog "
                             "(a writer that logs the bytes it changed beside the file)")
    parser.add_argument("--source", choices=("ndjson", "sanity"), default="ndjson",
                        help="sanity: serve from the Sanity test server through the mirror "
                             "(bench/starter_sanity.py; no new-process runs)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print("| posts | full build | webhook p50 | webhook p99 | serve RSS | revalidate --doc "
          "| build after an edit |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for posts in args.sizes:
        if args.built is None:
            site = grow(args.workdir, posts, args.search)
            print(f"{posts:,} posts: grown, load {load()}", flush=True)
            full = ssgen(site, "build", "--full")
            print(f"full build {full:.1f} s, load {load()}", flush=True)
        else:
            site, full = args.workdir / f"starter-{posts}", args.built
            print(f"{posts:,} posts: reusing {site}, built in {full:.1f} s", flush=True)
        data = Dataset(site, light=args.source != "sanity")
        data.changelog = args.changelog
        if args.source == "sanity":
            _sanity(site, data, args.webhooks, rng)
            continue
        lat, rss = webhooks(site, data, args.webhooks, rng) if args.webhooks \
            else ([0.0], float("nan"))
        revalidate, build = new_processes(site, data, args.runs, rng)
        print(f"| {posts:,} | {full:.1f} s | {statistics.median(lat) * 1000:.0f} ms | "
              f"{pct(lat, 0.99) * 1000:.0f} ms ({len(lat)} webhooks) | {rss:.0f} MB | "
              f"{spread(revalidate)} | "
              f"{spread(build)}, {statistics.median(build or [math.nan]) / full:.1%} of full |",
              flush=True)
        for command in dict.fromkeys(name for name, _ in CPU):
            cpu = [seconds for name, seconds in CPU if name == command]
            print(f"CPU {command}: {spread(cpu)}, load {load()}", flush=True)
        CPU.clear()
        if not args.keep:
            shutil.rmtree(site, ignore_errors=True)


def _sanity(site: Path, data: Dataset, count: int, rng: random.Random) -> None:
    """The webhooks through the Sanity source (see bench/starter_sanity.py)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from starter_sanity import LakeEdits, lake_for, use_lake

    lake = lake_for(site, data.docs)  # shared with the bench's copy: see lake_for
    try:
        use_lake(site, lake)
        print(f"Sanity test server on {lake.url}, {len(data.docs):,} documents, load {load()}",
              flush=True)
        lat, rss = webhooks(site, data, count, rng, LakeEdits(lake))
        print(f"sanity source: webhook p50 {statistics.median(lat) * 1000:.0f} ms, p99 "
              f"{pct(lat, 0.99) * 1000:.0f} ms ({len(lat)} webhooks), serve RSS {rss:.0f} MB",
              flush=True)
    finally:
        lake.stop()


if __name__ == "__main__":
    main()
