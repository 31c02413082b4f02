"""The parser against the official GROQ conformance suite (vendored in tests/groq/data):
every valid query parses, every invalid one is rejected."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from ssgen.errors import GroqSyntaxError
from ssgen.groq.analysis import parameters
from ssgen.groq.parser import parse

SUITE = Path(__file__).parent / "data" / "tests.ndjson.gz"


def _suite_cases() -> list[dict[str, Any]]:
    with gzip.open(SUITE, "rt", encoding="utf-8") as handle:
        tests = [json.loads(line) for line in handle]
    return [t for t in tests if not t["filename"].startswith("perf/") and t["version"] != "0.1"]


def test_every_suite_query_is_accepted_or_rejected_as_the_suite_says() -> None:
    cases = _suite_cases()
    assert len(cases) > 8000
    wrong: list[str] = []
    seen: set[str] = set()
    for case in cases:
        key = case["query"] + json.dumps(case["params"], sort_keys=True)
        if case["valid"] and key in seen:
            continue
        seen.add(key)
        try:
            query = parse(case["query"], case["params"])
        except GroqSyntaxError as exc:
            if case["valid"]:
                wrong.append(f"rejected valid {case['id']}: {exc}")
            continue
        # A query reading a $param that was not supplied is rejected before it runs.
        if not case["valid"] and not parameters(query) - set(case["params"] or {}):
            wrong.append(f"accepted invalid {case['id']}: {case['query']!r}")
    assert wrong == []


def test_suite_has_invalid_cases_of_every_kind() -> None:
    invalid = {c["filename"] for c in _suite_cases() if not c["valid"]}
    assert {"function/boost.yml", "function/custom.yml", "function/diff.yml",
            "compound/precedence.yml", "type/range.yml", "misc/params.yml"} <= invalid
