"""An ``each`` route re-queried in part keeps its pages in the route's order (issue 14).

``routepaths.merged`` makes the kept memo of a paginated ``each`` route that a round
re-queried for some items only; ``kept.split`` then matches the next round's pages by
identity at the same places. A page new to the route (an item grown by a page, a new
item) must go where a whole expansion puts it: at the end, every page after its place
moved, and the next round that re-expands the whole route plans all of them again
(hypothesis seed 19400054235130892547926733996952037512: 16 pages for a retitle).
The site and the rounds are ``test_nested_delta_property``'s.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_nested_delta_property import RETITLE_MOST, _check_retitles, add_category, retitle, run

from ssgen.build import collect as collect_module
from ssgen.build import routepaths

# p01 is in c1; added to c2 (cat-1, 18 posts), it gives c2 a tenth page in a round that
# re-queries c1 and c2 only. p07 is in all three categories: its retitle re-expands the
# whole category route (c3's seven pages come after c2's).
GROW_THEN_RETITLE = [add_category(1, "c2"), retitle(7, "Last")]


def test_a_page_an_item_grew_keeps_the_route_order(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = run(GROW_THEN_RETITLE, monkeypatch)
    _check_retitles(rounds)
    assert rounds[-1][0] == "retitle" and rounds[-1][1] <= RETITLE_MOST


def test_mutant_new_pages_at_the_end_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """``merged`` without the route's order (the pages new to the route appended, as
    before the fix): the retitle plans c3's pages and c2's last one again."""
    real = routepaths.merged

    def at_the_end(before: Any, pages: Any, paths: Any, order: Any = None) -> Any:
        return real(before, pages, paths)

    monkeypatch.setattr(collect_module, "merged", at_the_end)
    rounds = run(GROW_THEN_RETITLE, monkeypatch)
    assert rounds[-1][1] > RETITLE_MOST
    with pytest.raises(AssertionError):
        _check_retitles(rounds)
