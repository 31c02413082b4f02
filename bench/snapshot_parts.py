"""What a snapshot's decode would cost without some of its objects: the ceiling of
decoding them on demand.

Reads a built site's ``.ssgen/source.snapshot`` (this checkout's format), decodes it once,
then encodes it again several ways, each with one set of objects written as a persistent
id (decoded as None, none of their contents reached through them): nothing left out, the
maintained entries' items, the dataset's documents, both, both and the page specs. Each
encoding is decoded ``--runs`` times, alternated, CPU time; then, for nothing left out and
for all three left out, the time by part of the state (one memo across the parts, in
order: an object shared by two parts is paid by the first).

    python bench/snapshot_parts.py /tmp/s10k/starter-10000 --runs 5

Only for measuring: the stubs make a graph no build could use.
"""

from __future__ import annotations

import argparse
import gc
import io
import mmap
import os
import pickle
import random
import statistics
import time
from pathlib import Path
from typing import Any

from ssgen.build.memo import carry  # noqa: F401  (registers the memo classes)
from ssgen.groq.maintained import _Entry
from ssgen.routes.page import PageSpec
from ssgen.sources import snapshot
from ssgen.sources.local import LocalSource
from ssgen.sources.snapshot import codec, filling, records


class _Stubbing(codec._Encoder):
    """The snapshot's encoder, with the objects of ``stub`` (by id) as persistent ids."""

    stub: frozenset[int] = frozenset()

    def persistent_id(self, obj: Any) -> Any:
        return 1 if id(obj) in self.stub else None


class _Stubbed(pickle.Unpickler):
    """The snapshot's decoder, with every persistent id as None."""

    find_class = codec._Decoder.find_class

    def persistent_load(self, pid: Any) -> Any:
        return None


def _reachable(root: Any) -> tuple[set[int], set[int], int]:
    """The ids of the passing entries' container items and of the page specs reachable
    from ``root``, and how many objects it reaches."""
    items: set[int] = set()
    specs: set[int] = set()
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        kind = type(obj)
        if kind is _Entry:
            if obj.passes and type(obj.item) in (dict, list):
                items.add(id(obj.item))
        elif kind is PageSpec:
            specs.add(id(obj))
        if kind is dict:
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif kind in (list, tuple, set, frozenset):
            stack.extend(obj)
        elif hasattr(obj, "__dict__"):
            stack.append(vars(obj))
        else:
            stack.extend(getattr(obj, name) for name in getattr(kind, "__slots__", ())
                         if hasattr(obj, name))
    return items, specs, len(seen)


def _encode(parts: list[Any], stub: set[int]) -> tuple[tuple[bytes, list[Any]], float]:
    """The parts encoded as the snapshot is (its kept bytes out of band, as views)."""
    out, buffers = io.BytesIO(), []
    encoder = _Stubbing(out, protocol=5, buffer_callback=buffers.append)
    encoder.stub = frozenset(stub)
    started = time.process_time()
    for part in parts:
        encoder.dump(part)
    return (out.getvalue(), [buffer.raw() for buffer in buffers]), \
        time.process_time() - started


def _decode(blob: tuple[bytes, list[Any]], count: int) -> list[float]:
    """The CPU time of each of ``count`` parts, decoded in order with one memo."""
    decoder = _Stubbed(io.BytesIO(blob[0]), buffers=blob[1])
    times = []
    for _ in range(count):
        started = time.process_time()
        decoder.load()
        times.append(time.process_time() - started)
    return times


def _filling(mapped: mmap.mmap, start: int, buffers: list[Any],
             table: records.Records) -> filling.Filling:
    return filling.decode(memoryview(mapped), start, buffers, table.ends, table.crcs,
                          table.whole)


def _layouts(mapped: mmap.mmap, start: int, buffers: list[Any], table: records.Records,
             body: Any, runs: int) -> None:
    """The file's decode as saved (shells filled from their records) against the same
    value encoded in one pickle (no records), the value alone (no record read) and the
    value with the records of five documents (a lazy decode's), alternated, CPU."""
    ends = table.ends
    out: list[pickle.PickleBuffer] = []
    plain = codec.encode(body, out)
    views = [buffer.raw() for buffer in out]
    print(f"{len(ends) - 2:,} records, {(ends[-1] - ends[1]) / 1e6:.1f} MB of {ends[-1] / 1e6:.1f} MB; "
          f"in one pickle {len(plain) / 1e6:.1f} MB")
    ids = _filling(mapped, start, buffers, table)._ids
    rng = random.Random(200)
    times: dict[str, list[float]] = {}
    misses = []
    for _ in range(runs):
        for way in ("with records", "in one pickle", "the value, no record",
                    "the value and 5 documents' records"):
            found: filling.Filling | None = None
            started = time.process_time()
            if way == "in one pickle":
                kept: Any = codec.decode(plain, 0, views)
            else:
                kept = found = _filling(mapped, start, buffers, table)
                if way == "with records":
                    found.fill_all()
                elif way != "the value, no record":
                    found.fill(rng.sample(ids, 5))
                    misses.append(found.misses)
                found.close()
            times.setdefault(way, []).append(time.process_time() - started)
            del kept, found  # freed outside the times
    for way, spent in times.items():
        print(f"| {way} | {_ms(spent)} |")
    print(f"records that missed an earlier one in the 5 documents' fills: {misses}")


def _ms(values: list[float]) -> str:
    return (f"{statistics.median(values) * 1000:,.0f} ms "
            f"({min(values) * 1000:,.0f}-{max(values) * 1000:,.0f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    gc.disable()
    start = len(snapshot.MAGIC) + snapshot._KEY + snapshot._SUM
    with open(args.site / ".ssgen" / snapshot.FILE, "rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        table = records.read(mapped, start)
        buffers = snapshot._mapped_buffers(file.fileno(), mapped,
                                           len(mapped) if table is None else table.size)
    if table is None:
        body = codec.decode(memoryview(mapped), start, buffers)
    else:
        found = _filling(mapped, start, buffers, table)
        found.fill_all()
        body = found.value
    _, state, extra = body
    if table is not None:
        _layouts(mapped, start, buffers, table, body, args.runs)
    items, specs, objects = _reachable(body)
    documents = {id(doc) for doc in LocalSource.from_state(state).dataset.documents}
    print(f"{objects:,} objects; {len(items):,} items, {len(documents):,} documents, "
          f"{len(specs):,} page specs")
    names = ["_cache", "_view", *[k for k in state if k not in ("_cache", "_view", "_results")],
             "_results"]
    parts = [state[name] for name in names] + list(extra.values())
    labels = [f"state.{name}" for name in names] + [f"extra.{name}" for name in extra]
    ways = {"nothing left out": set(), "items": items, "documents": documents,
            "items + documents": items | documents,
            "items + documents + specs": items | documents | specs}
    blobs = {}
    for way, stub in ways.items():
        blobs[way], spent = _encode(parts, stub)
        size = len(blobs[way][0]) + sum(buffer.nbytes for buffer in blobs[way][1])
        print(f"{way}: {size / 1e6:.1f} MB ({len(blobs[way][0]) / 1e6:.1f} MB body), "
              f"encoded in {spent * 1000:,.0f} ms")
    totals: dict[str, list[float]] = {way: [] for way in ways}
    by_part: dict[str, list[list[float]]] = {way: [] for way in ways}
    loads = []
    for _ in range(args.runs):
        loads.append(os.getloadavg()[0])
        for way, blob in blobs.items():
            times = _decode(blob, len(parts))
            totals[way].append(sum(times))
            by_part[way].append(times)
    print(f"load {min(loads):.1f}-{max(loads):.1f}; decode, CPU, median (range) of {args.runs}:")
    for way, values in totals.items():
        print(f"| {way} | {_ms(values)} |")
    for way in ("nothing left out", "items + documents + specs"):
        medians = [statistics.median(run[i] for run in by_part[way]) for i in range(len(parts))]
        shown = ", ".join(f"{label} {value * 1000:.0f}"
                          for label, value in zip(labels, medians, strict=True) if value >= 0.003)
        print(f"{way}, by part (ms): {shown}")


if __name__ == "__main__":
    main()
