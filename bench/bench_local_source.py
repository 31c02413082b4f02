"""Benchmark: loading N NDJSON documents / N Markdown files into the local source.

    PYTHONPATH=. .venv/bin/python bench/bench_local_source.py [N ...] [--markdown N ...]

Writes a Sanity-shaped dataset (posts with references, Portable Text bodies, 5% drafts)
to a temp site, then times: parsing (orjson, file:line checks), the whole
``LocalSource`` load (duplicates, perspective, ``ssgen.groq.Dataset``) and a no-op
``reload()`` (the mtime/size cache). ``--markdown``: N files of the standard SSG
benchmark (front-matter title + three lorem paragraphs). Peak memory is max RSS.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import orjson

from ssgen.config.load import load_config
from ssgen.sources.local import LocalSource
from ssgen.sources.ndjson import read_ndjson


def document(i: int) -> dict[str, object]:
    return {
        "_id": f"post-{i}", "_type": "post", "_rev": f"rev{i}",
        "_createdAt": "2024-01-01T00:00:00Z", "_updatedAt": "2024-01-02T00:00:00Z",
        "title": f"Post number {i}", "slug": {"_type": "slug", "current": f"post-{i}"},
        "author": {"_type": "reference", "_ref": f"author-{i % 50}"},
        "publishedAt": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
        "body": [{"_type": "block", "_key": "k1", "style": "normal", "markDefs": [],
                  "children": [{"_type": "span", "_key": "s1", "marks": [],
                                "text": "Lorem ipsum dolor sit amet, consectetur adipiscing."}]}],
    }


def write_site(root: Path, n: int) -> None:
    (root / "content").mkdir(parents=True)
    lines = [orjson.dumps(document(i)) for i in range(n)]
    lines += [orjson.dumps({**document(i), "_id": f"drafts.post-{i}"}) for i in range(0, n, 20)]
    (root / "content" / "dataset.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    (root / "ssgen.toml").write_text('[source]\nfiles = ["content/dataset.ndjson"]\n'
                                     'markdown_dir = ""\n')


def timed(label: str, fn: object) -> object:
    start = time.perf_counter()
    result = fn()  # type: ignore[operator]
    print(f"  {label:<28} {time.perf_counter() - start:7.3f} s")
    return result


def run(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_site(root, n)
        size = (root / "content" / "dataset.ndjson").stat().st_size / 1e6
        print(f"{n} documents (+{n // 20} drafts), {size:.1f} MB")
        path = root / "content" / "dataset.ndjson"
        timed("parse NDJSON", lambda: read_ndjson(path, "dataset.ndjson"))
        config = load_config(root, env={})
        source = timed("LocalSource() total", lambda: LocalSource(config))
        timed("reload() unchanged", source.reload)  # type: ignore[attr-defined]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS so far              {peak:7.0f} MB")


LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua. ") * 4


def run_markdown(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "content").mkdir()
        for i in range(n):
            text = f"---\ntitle: Page {i}\n---\n{LOREM}\n\n{LOREM}\n\n{LOREM}\n"
            (root / "content" / f"page-{i}.md").write_text(text)
        (root / "ssgen.toml").write_text("")
        print(f"{n} Markdown files")
        config = load_config(root, env={})
        source = timed("LocalSource() total", lambda: LocalSource(config))
        timed("reload() unchanged", source.reload)  # type: ignore[attr-defined]


if __name__ == "__main__":
    args = sys.argv[1:] or ["10000", "100000", "--markdown", "1000", "4000", "16000"]
    markdown = False
    for arg in args:
        if arg == "--markdown":
            markdown = True
        else:
            (run_markdown if markdown else run)(int(arg))
