"""The official GROQ conformance suite (vendored in tests/groq/data), one pytest test per
suite file. Run ``python tests/groq/test_conformance.py`` for pass counts by directory
and feature.

Rules (from the suite's README): documents sorted by ``_id``; ``now`` fixed per query;
scores replaced by ranks; numbers compared numerically with a small relative tolerance;
``perf/`` (needs an unavailable dataset) and version ``0.1`` (pre-spec legacy) skipped;
every optional feature on. Test ids in data/known_failures.txt must fail (the list may
only shrink): a listed test that passes fails the run, as does an unlisted failure.
"""

from __future__ import annotations

import gzip
import json
import math
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ssgen.errors import GroqError, GroqEvaluationError, GroqSyntaxError
from ssgen.groq import Dataset, parse
from ssgen.groq.evaluate import check_params

DATA = Path(__file__).parent / "data"
NOW = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)


@cache
def load_tests() -> list[dict[str, Any]]:
    """Every test of the suite that ssgen targets (not perf/, not version 0.1)."""
    tests = []
    with gzip.open(DATA / "tests.ndjson.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            test = json.loads(line)
            if test["filename"].startswith("perf/") or test["version"] == "0.1":
                continue
            tests.append(test)
    return tests


@cache
def load_datasets() -> dict[str, list[dict[str, Any]]]:
    """Dataset id -> documents."""
    out: dict[str, list[dict[str, Any]]] = {}
    with gzip.open(DATA / "datasets.ndjson.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            entry = json.loads(line)
            out[entry["id"]] = entry.get("documents") or []
    return out


@cache
def dataset(dataset_id: str) -> Dataset:
    return Dataset(load_datasets()[dataset_id])


def known_failures() -> dict[str, str]:
    """Test id -> reason, from data/known_failures.txt (``id  # reason`` lines)."""
    path = DATA / "known_failures.txt"
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        test_id, _, reason = text.partition("#")
        out[test_id.strip()] = reason.strip()
    return out


def _scores_to_ranks(value: Any) -> Any:
    scores: set[float] = set()

    def collect(v: Any) -> None:
        if isinstance(v, list):
            for item in v:
                collect(item)
        elif isinstance(v, dict):
            if isinstance(v.get("_score"), int | float):
                scores.add(v["_score"])
            for item in v.values():
                collect(item)

    collect(value)
    if not scores:
        return value
    ranks = {s: i + 1 for i, s in enumerate(sorted(scores, reverse=True))}

    def replace(v: Any) -> Any:
        if isinstance(v, list):
            return [replace(item) for item in v]
        if isinstance(v, dict):
            out = {k: replace(item) for k, item in v.items() if k != "_score"}
            if "_score" in v and isinstance(v["_score"], int | float):
                out["_pos"] = ranks[v["_score"]]
            elif "_score" in v:
                out["_score"] = v["_score"]
            return out
        return v

    return replace(value)


def same(actual: Any, expected: Any) -> bool:
    """Deep equality: numbers numerically (tolerance 1e-9), key order ignored."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(
            same(a, e) for a, e in zip(actual, expected, strict=True))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(
            same(actual[k], expected[k]) for k in expected)
    return bool(actual == expected) and type(actual) is type(expected)


def run_test(test: dict[str, Any]) -> str | None:
    """None when the test passes, else a short description of the failure."""
    if not test["valid"]:
        # Rejected at parse time, or (an undefined $param) by the check that runs
        # before evaluation starts.
        try:
            check_params(parse(test["query"], test["params"]), test["params"] or {})
        except (GroqSyntaxError, GroqEvaluationError):
            return None
        return "invalid query was accepted"
    try:
        query = parse(test["query"], test["params"])
        result = query.evaluate(dataset(test["dataset"]), test["params"] or {}, NOW)
    except GroqError as exc:
        return f"{type(exc).__name__}: {exc}"
    actual = _scores_to_ranks(json.loads(json.dumps(result)))
    if same(actual, test["result"]):
        return None
    return f"got {json.dumps(actual)[:300]}, expected {json.dumps(test['result'])[:300]}"


def _filenames() -> list[str]:
    return sorted({t["filename"] for t in load_tests()})


@pytest.mark.parametrize("filename", _filenames())
def test_suite_file(filename: str) -> None:
    known = known_failures()
    unexpected = []
    fixed = []
    for test in load_tests():
        if test["filename"] != filename:
            continue
        failure = run_test(test)
        if failure is not None and test["id"] not in known:
            unexpected.append(f"{test['id']} ({test['name']}): {failure}\n    query: "
                              f"{test['query'][:200]!r}")
        elif failure is None and test["id"] in known:
            fixed.append(test["id"])
    message = ""
    if unexpected:
        message += f"{len(unexpected)} failing tests:\n" + "\n".join(unexpected[:30])
    if fixed:
        message += "\nnow passing, remove from known_failures.txt: " + ", ".join(fixed)
    assert not message, message


def test_known_failures_exist() -> None:
    ids = {t["id"] for t in load_tests()}
    stale = sorted(set(known_failures()) - ids)
    assert not stale, f"known_failures.txt lists unknown test ids: {stale}"


def table() -> str:
    """Pass counts by directory and by feature (for the report)."""
    by_dir: dict[str, Counter[str]] = defaultdict(Counter)
    by_feature: dict[str, Counter[str]] = defaultdict(Counter)
    failed = []
    for test in load_tests():
        ok = run_test(test) is None
        key = "pass" if ok else "fail"
        by_dir[test["filename"].split("/")[0]][key] += 1
        by_dir["TOTAL"][key] += 1
        for feature in test["features"] or ["(none)"]:
            by_feature[feature][key] += 1
        if not ok:
            failed.append(test["id"])
    lines = ["| directory | pass | fail |", "|---|---|---|"]
    lines += [f"| {d} | {c['pass']} | {c['fail']} |" for d, c in sorted(by_dir.items())]
    lines += ["", "| feature | pass | fail |", "|---|---|---|"]
    lines += [f"| {f} | {c['pass']} | {c['fail']} |" for f, c in sorted(by_feature.items())]
    return "\n".join(lines) + "\n\nfailing: " + " ".join(failed)


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    print(table())
