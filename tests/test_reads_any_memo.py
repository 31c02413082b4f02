"""``Renderer.reads_any`` answered once per set of template texts (a shared renderer).

Serve asks every route's template whether it reads the neighbour keys each round; the
shared renderer keeps its answers while the texts it read stay the same. Property: over
any sequence of template edits (a variable read or not, an include added or dropped, a
template created or deleted), each use of the shared renderer answers as a renderer
made afresh on the files does. Mutant caught: answers kept across an edit.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import mutant
from test_render import make_config

from ssgen.render.environment import Renderer

_NAMES = ("page.html", "list.html", "_a.html", "_b.html")
_BODIES = ("plain {{ page.title }}", "{{ next.title }}", "{% set prev = 1 %}{{ prev }}",
           "{% include '_a.html' %}", "{% include '_b.html' %}{{ page.title }}",
           "{% if prev %}{{ prev.title }}{% endif %}", "{% include page.layout %}",
           "{% if %}")
_ASKED = (frozenset({"prev", "next"}), frozenset({"page"}), frozenset({"nothing"}))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(st.tuples(st.sampled_from(_NAMES),
                                   st.one_of(st.none(), st.sampled_from(_BODIES))),
                         max_size=3), min_size=1, max_size=6))
def test_a_shared_renderer_answers_as_a_fresh_one(edits: list[list[tuple[str, str | None]]]
                                                  ) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        templates = root / "templates"
        templates.mkdir()
        for name in _NAMES[:2]:
            (templates / name).write_text("{{ page.title }}")
        config = make_config(root)
        for round_ in edits:
            for name, body in round_:
                path = templates / name
                if body is None:
                    path.unlink(missing_ok=True)
                else:
                    path.write_text(body)
            shared, fresh = Renderer.shared(config), Renderer(config)
            for name in _NAMES:
                for asked in _ASKED:
                    for _ in range(2):  # the second ask is the memo's
                        assert shared.reads_any(name, asked) == fresh.reads_any(name, asked)


def test_mutant_answers_kept_across_an_edit_are_caught() -> None:
    def stale(self: Renderer, name: str, variables: frozenset[str]) -> bool:
        known = self.__dict__.setdefault("_stale", {})
        if (name, variables) not in known:
            known[name, variables] = self._chain_reads_any(name, variables)
        return bool(known[name, variables])

    with mutant(Renderer, "reads_any", stale), pytest.raises(AssertionError):
        test_a_shared_renderer_answers_as_a_fresh_one()
