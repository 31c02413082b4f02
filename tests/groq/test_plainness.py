"""``json_only`` (ssgen.groq.plainness): a query it passes never returns a ``DateTime`` or
``Path``, so ``evaluate_query`` may skip ``to_json``. Checked on every query of the GROQ
conformance suite (those naming a date, time or path, and a sample of the rest),
evaluated without the conversion; the mutant test shows the check
catching a producer left out of the list."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from test_conformance import NOW, dataset, load_tests

from ssgen.errors import GroqError
from ssgen.groq import parse, plainness
from ssgen.groq.values import _needs_conversion


def unconverted_but_not_json(first: bool = False) -> list[str]:
    """Queries ``json_only`` passes whose raw result still needs converting: of those
    that name a date, time or path, and one in eight of the others (CI time)."""
    wrong: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(importlib.import_module("ssgen.groq.evaluate"), "to_json", lambda value, frozen=None: value)
        for index, test in enumerate(load_tests()):
            text = test["query"].lower()
            if index % 8 and not any(word in text for word in ("date", "time", "now", "path")):
                continue
            if first and wrong:
                break
            try:
                query = parse(test["query"], test["params"])
                if not plainness.json_only(query):
                    continue
                raw: Any = query.evaluate(dataset(test["dataset"]), test["params"] or {}, NOW)
            except (GroqError, RecursionError):
                continue
            if _needs_conversion(raw, None):
                wrong.append(test["query"])
    return wrong


def test_json_only_queries_need_no_conversion() -> None:
    assert unconverted_but_not_json() == []
    query = parse('*[_type == "post"]{title, "when": dateTime(publishedAt)}')
    assert not plainness.json_only(query)
    assert plainness.json_only(parse('*[_type == "post"]{title, body, "a": author->name}'))


def test_mutant_without_a_producer_is_caught() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plainness, "PRODUCERS", frozenset({("global", "path")}))
        plainness._KNOWN.clear()
        try:
            assert unconverted_but_not_json(first=True) != []
        finally:
            plainness._KNOWN.clear()


def test_memoised_projections_admit_no_producer() -> None:
    """``ProjectionMemo`` keeps values without ``to_json``: ``memo_safe`` must refuse every
    expression that can make a ``DateTime`` or ``Path``."""
    from ssgen.groq.memo import memo_safe

    calls = {("global", "dateTime"): 'dateTime("2024-01-01T00:00:00Z")',
             ("global", "path"): 'path("a.*")', ("dateTime", "now"): "dateTime::now()"}
    assert calls.keys() == plainness.PRODUCERS
    for text in calls.values():
        projection = parse(f'*{{"x": {text}}}').root.expr
        assert not memo_safe(projection), text
    assert memo_safe(parse('*{"x": title}').root.expr)
