"""The ``match`` operator: tokenising text, analysing patterns, and match scores.

Text is split into words the way Unicode word segmentation (UAX #29) does for the
cases that matter to search: letters and digits of any script form words, ``_`` joins,
``.``/``'``/``:`` inside a word of letters (``ding.dong``, ``A.B.C.s``) and ``.``/``,``
inside a number keep it whole, anything else (spaces, ``-``, punctuation) separates.
Patterns are split the same way with ``*`` counted as a letter (wildcard match
segmentation), so ``ding.*`` stays one term. A term matches a token case-insensitively,
``*`` matching any run of characters; ``match`` is true when every term of every
pattern matches some token.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

_MID_LETTER = frozenset(".'’:·")
_MID_NUMBER = frozenset(".,;'’")


def _kind(ch: str, wildcard: bool) -> str:
    """L(etter), N(umber), E(xtender: joins) or '' (separator) for one character."""
    if ch.isalpha() or (wildcard and ch == "*"):
        return "L"
    if ch.isdigit():
        return "N"
    if ch == "_" or unicodedata.category(ch) in ("Mn", "Mc", "Me"):
        return "E"
    if ch.isnumeric():
        return "N"
    return ""


@lru_cache(maxsize=4096)
def _words(text: str, wildcard: bool) -> tuple[str, ...]:
    words: list[str] = []
    current: list[str] = []
    kinds = [_kind(ch, wildcard) for ch in text]
    for i, ch in enumerate(text):
        kind = kinds[i]
        if kind:
            current.append(ch)
            continue
        if current and i + 1 < len(text):
            prev, nxt = kinds[i - 1], kinds[i + 1]
            if (prev == nxt == "L" and ch in _MID_LETTER) or \
                    (prev == nxt == "N" and ch in _MID_NUMBER):
                current.append(ch)
                continue
        if current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return tuple(w.lower() for w in words
                 if any(c.isalnum() or (wildcard and c == "*") for c in w))


def tokenize(text: str) -> tuple[str, ...]:
    """The lowercase word tokens of a text."""
    return _words(text, False)


@lru_cache(maxsize=4096)
def pattern_terms(text: str) -> tuple[re.Pattern[str], ...]:
    """The term regexes of a pattern (``*`` is a wildcard)."""
    return tuple(re.compile(".*".join(re.escape(part) for part in term.split("*")) + r"\Z",
                            re.DOTALL)
                 for term in _words(text, True))


def _texts(value: Any) -> list[str]:
    if type(value) is str:
        return [value]
    if type(value) is list:
        return [v for v in value if type(v) is str]
    return []


def _patterns(value: Any) -> list[str] | None:
    if type(value) is str:
        return [value]
    if type(value) is list and all(type(v) is str for v in value):
        return list(value)
    return None


def match(text: Any, pattern: Any) -> bool:
    """``text match pattern``."""
    patterns = _patterns(pattern)
    if not patterns:
        return False
    tokens = [tok for t in _texts(text) for tok in tokenize(t)]
    terms = [term for p in patterns for term in pattern_terms(p)]
    if not terms or not tokens:
        return False
    return all(any(term.match(tok) for tok in tokens) for term in terms)


def match_score(text: Any, pattern: Any) -> float:
    """The score of ``text match pattern`` inside score(): BM25-like term frequency."""
    patterns = _patterns(pattern)
    if not patterns:
        return 0
    tokens = [tok for t in _texts(text) for tok in tokenize(t)]
    terms = [term for p in patterns for term in pattern_terms(p)]
    if not tokens or not terms:
        return 0
    total = 0.0
    for term in terms:
        freq = sum(1 for tok in tokens if term.match(tok))
        total += freq * 2.2 / (freq + 1.2)
    return total
