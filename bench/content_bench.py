"""Content renderer micro-benchmark: µs per call of render_markdown, portable text to_html,
image_url, slugify and format_date.

Run by hand: .venv/bin/python bench/content_bench.py [repeats]
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ssgen.render.images.url import image_url
from ssgen.render.markdown import _options_key, _parser, render_markdown
from ssgen.render.portabletext.html import to_html
from ssgen.render.text import format_date, slugify

LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure "
    "dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur."
)
THREE_PARAGRAPHS = "\n\n".join([LOREM] * 3) + "\n"
RICH = (
    "# Title\n\nSome *text* with `code` and a [link](https://example.com).[^1]\n\n"
    "## Section\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "```python\ndef f(x):\n    return x * 2\n```\n\n[^1]: A note.\n"
)
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "portable-text"
IMAGE = {
    "_type": "image",
    "asset": {"_ref": "image-Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000-jpg"},
    "crop": {"bottom": 0.1, "left": 0.1, "right": 0.1, "top": 0.1},
    "hotspot": {"height": 0.3, "width": 0.3, "x": 0.3, "y": 0.3},
}
SIZE: dict[str, Any] = {"project_id": "p", "dataset": "d", "width": 100, "height": 80}


def per_call_us(fn: Callable[[], Any], repeats: int) -> float:
    """Best of 5 rounds, in process CPU time (other work on the machine barely skews it)."""
    fn()
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(repeats):
            fn()
        best = min(best, (time.process_time() - start) / repeats)
    return best * 1e6


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    pt_body = json.loads((FIXTURES / "021-list-without-level.json").read_text())["input"]
    pt_lists = json.loads((FIXTURES / "016-deep-weird-lists.json").read_text())["input"]
    start = time.process_time()
    _parser.cache_clear()
    _parser(_options_key(None))
    cold_ms = (time.process_time() - start) * 1e3
    cases: list[tuple[str, Callable[[], Any]]] = [
        (
            "markdown: 3 lorem paragraphs (default options)",
            lambda: render_markdown(THREE_PARAGRAPHS),
        ),
        ("markdown: headings, table, footnote, highlighted code", lambda: render_markdown(RICH)),
        (f"portable text: fixture 021 ({len(pt_body)} blocks)", lambda: to_html(pt_body)),
        (f"portable text: fixture 016 ({len(pt_lists)} list items)", lambda: to_html(pt_lists)),
        ("image_url: crop + hotspot, 100x80", lambda: image_url(IMAGE, **SIZE)),
        ("slugify: short title", lambda: slugify("Crème Brûlée, the Recipe")),
        ("format_date: RFC 3339 string", lambda: format_date("2025-01-05T08:03:00Z")),
    ]
    rows = [("markdown: first MarkdownIt build (once per option set)", cold_ms * 1e3)]
    rows += [(name, per_call_us(fn, repeats)) for name, fn in cases]
    for name, micros in rows:
        print(f"| {name} | {micros:,.1f} µs |")


if __name__ == "__main__":
    main()
