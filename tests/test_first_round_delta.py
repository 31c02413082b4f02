"""The first webhook's round after a start takes its lists' deltas (issue 14).

A route's maintained list has no delta after a start or a load (what came before is not
known); it now hands out its result's delta from itself (``groq.maintained.delta``'s
``unchanged``), so the expansions made of that very list keep it as their marker and the
next change's delta, whose base it is, is theirs: serve's first webhook no longer scans
the route's lists (the blog's pages by identity, the post route's ids and spans). On the
site of ``test_nested_delta_property``, whose rounds each equal a clean full build.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_nested_delta_property import _check_retitles, retitle, run

from ssgen.groq.maintained import query as query_module


def test_the_first_retitle_after_a_start_scans_no_list(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = run([retitle(7, "Once")], monkeypatch)
    kind, _, counts = rounds[0]
    assert kind == "retitle" and counts.expanded > 0 and counts.scanned == 0
    _check_retitles(rounds)


def test_mutant_no_delta_from_itself_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """As before: no delta until a list's first change, so the first round's expansions
    had no marker and scanned (the blog list by identity)."""

    def none(*_args: Any) -> None:
        return None

    monkeypatch.setattr(query_module, "unchanged", none)
    rounds = run([retitle(7, "Once")], monkeypatch)
    assert rounds[0][2].scanned > 0
    with pytest.raises(AssertionError):
        _check_retitles(rounds)
