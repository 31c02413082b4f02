"""The ``match`` operator: tokenising text, analysing patterns, and match scores."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"[A-Za-z0-9]+")
_TERM = re.compile(r"[A-Za-z0-9*]+")


def tokenize(text: str) -> list[str]:
    """The lowercase tokens of a text."""
    return [t.lower() for t in _TOKEN.findall(text)]


def pattern_terms(text: str) -> list[re.Pattern[str]]:
    """The term regexes of a pattern (``*`` is a wildcard)."""
    terms = _TERM.findall(text)
    return [re.compile(re.escape(t.lower()).replace(r"\*", ".*") + r"\Z") for t in terms]


def _strings(value: Any) -> list[str] | None:
    if type(value) is str:
        return [value]
    if type(value) is list:
        if all(type(v) is str for v in value):
            return list(value)
        return None
    return None


def _texts(value: Any) -> list[str]:
    if type(value) is str:
        return [value]
    if type(value) is list:
        return [v for v in value if type(v) is str]
    return []


def match(text: Any, pattern: Any) -> bool:
    """``text match pattern``."""
    texts = _texts(text)
    patterns = _strings(pattern)
    if not patterns:
        return False
    tokens = [tok for t in texts for tok in tokenize(t)]
    terms = [term for p in patterns for term in pattern_terms(p)]
    if not terms:
        return False
    return all(any(term.match(tok) for tok in tokens) for term in terms)


def match_score(text: Any, pattern: Any) -> float:
    """The score contribution of ``text match pattern`` inside score() (BM25-like)."""
    texts = _texts(text)
    patterns = _strings(pattern)
    if not patterns:
        return 0
    tokens = [tok for t in texts for tok in tokenize(t)]
    terms = [term for p in patterns for term in pattern_terms(p)]
    if not tokens or not terms:
        return 0
    total = 0.0
    for term in terms:
        freq = sum(1 for tok in tokens if term.match(tok))
        total += freq * 2.2 / (freq + 1.2)
    return total
