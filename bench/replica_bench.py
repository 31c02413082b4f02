"""Webhook -> page on disk with shared PostgreSQL state (two replicas) vs single-node
SQLite, on the same generated site; and failover time (the builder killed -9, then the
next change on the survivor's disk).

Starts a throwaway PostgreSQL cluster (tests/pgkit.py: Debian's initdb/pg_ctl), the
real ``ssgen serve`` processes on 127.0.0.1, and for each mode sends ``--webhooks``
signed webhooks one at a time (round-robin over the replicas), each after retitling one
post in the shared NDJSON, timing send -> the page on the builder's disk has the title.

    PYTHONPATH=. .venv/bin/python bench/replica_bench.py --docs 1000 --webhooks 100
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from incremental_bench import make_site
from pgkit import PgServer
from serve_bench import SECRET, Dataset, page_file, pct, webhook

from ssgen.build.pipeline import build
from ssgen.config.load import load_config

LOG = Path(os.environ.get("SSGEN_BENCH_LOG", os.devnull))


class AtomicDataset(Dataset):
    """serve_bench's dataset, written by rename: a replica's rebuild may read it while
    the next edit is written (one process at a time never did)."""

    def edit(self, count: int) -> list[dict[str, Any]]:
        path = self.path
        self.path = path.with_suffix(".tmp")
        try:
            edited = super().edit(count)
        finally:
            self.path = path
        os.replace(path.with_suffix(".tmp"), path)
        return edited


class Replica:
    def __init__(self, site: Path, url: str | None, port: int) -> None:
        self.site, self.url, self.port = site, url, port
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)

    def start(self) -> None:
        env = {**os.environ, "SSGEN_REVALIDATE_SECRET": SECRET}
        env.pop("SSGEN_STATE_URL", None)
        if self.url:
            env["SSGEN_STATE_URL"] = self.url
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ssgen", "--site", str(self.site), "serve", "--port",
             str(self.port), "--settle-ms", "0", "--log-format", "json", "-v"], env=env,
            stdout=subprocess.DEVNULL, stderr=LOG.open("ab"), start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            try:
                if self.client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("replica did not start")
            time.sleep(0.05)

    def builder(self) -> bool:
        return "ssgen_builder 1.0" in self.client.get("/metrics").text

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def _port(n: int) -> int:
    return 18400 + n


def _wait_page(site: Path, doc: dict[str, object], timeout: float = 120) -> None:
    path, title = page_file(site, doc), str(doc["title"])
    deadline = time.monotonic() + timeout
    while True:
        try:
            if title in path.read_text():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} never showed {title!r}")
        time.sleep(0.002)


def _leader(replicas: list[Replica]) -> Replica:
    while True:
        for replica in replicas:
            if replica.url is None or replica.builder():
                return replica
        time.sleep(0.05)


def measure(replicas: list[Replica], data: Dataset, n: int) -> list[float]:
    latencies = []
    for k in range(n):
        (doc,) = data.edit(1)
        leader = _leader(replicas)
        started = time.perf_counter()
        reply = webhook(replicas[k % len(replicas)].client, doc, wait=False)
        assert reply.status_code == 202, reply.text
        _wait_page(leader.site, doc)
        latencies.append(time.perf_counter() - started)
    return latencies


def failover(replicas: list[Replica], data: Dataset, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        victim = _leader(replicas)
        survivor = next(r for r in replicas if r is not victim)
        (doc,) = data.edit(1)
        victim.kill()
        started = time.perf_counter()
        webhook(survivor.client, doc, wait=False)
        _wait_page(survivor.site, doc)
        times.append(time.perf_counter() - started)
        victim.start()
    return times


def replica_sites(origin: Path, count: int) -> list[Path]:
    sites = []
    for i in range(count):
        site = origin.parent / f"replica-{i}"
        shutil.rmtree(site, ignore_errors=True)
        site.mkdir()
        shutil.copy(origin / "ssgen.toml", site / "ssgen.toml")
        shutil.copytree(origin / "templates", site / "templates")
        (site / "content").symlink_to(origin / "content")
        sites.append(site)
    return sites


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--webhooks", type=int, default=100)
    parser.add_argument("--failovers", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ssgen-replica-bench-"))
    server = PgServer().start()
    try:
        origin = make_site(work, args.docs)
        data = AtomicDataset(origin)
        single = Replica(replica_sites(origin, 1)[0], None, _port(0))
        build(load_config(single.site, env={}), full=True)
        single.start()
        try:
            measure([single], data, 5)  # warm-up
            lite = measure([single], data, args.webhooks)
        finally:
            single.kill()
        url = server.new_database()
        pair = [Replica(site, url, _port(i + 1)) for i, site in
                enumerate(replica_sites(origin, 2))]
        for replica in pair:
            replica.start()
        try:
            measure(pair, data, 5)  # warm-up (and the first builder's full build)
            shared = measure(pair, data, args.webhooks)
            fails = failover(pair, data, args.failovers)
        finally:
            for replica in pair:
                replica.kill()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    def row(name: str, values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        return (f"| {name} | {len(ms)} | {statistics.median(ms):.0f} | {pct(ms, 0.99):.0f} | "
                f"{min(ms):.0f}-{max(ms):.0f} |")

    print(f"{args.docs:,} docs; webhook (sent without ?wait) -> page on the builder's disk")
    print("| mode | webhooks | p50 ms | p99 ms | range ms |")
    print("|---|---|---|---|---|")
    print(row("single node, SQLite", lite))
    print(row("2 replicas, PostgreSQL, round-robin", shared))
    print(row("failover: builder killed -9 -> change on survivor's disk", fails))
    print(f"p99 ratio PostgreSQL/SQLite: {pct(shared, 0.99) / pct(lite, 0.99):.2f}")


if __name__ == "__main__":
    main()
