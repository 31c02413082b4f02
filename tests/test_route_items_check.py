"""A list route's items must be objects: after the first expansion of a maintained result,
an expansion of the next one checks only the items its delta names new (the others are
the very objects checked then), so an edit that makes one item a string is still an
error naming the route; and the whole result, a ``Chunks``, is never copied to a list."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from maintkit import maintain

from ssgen.errors import ConfigError
from ssgen.groq.chunks import Chunks
from ssgen.groq.dataset import Dataset
from ssgen.routes.spec import expand as expand_module
from ssgen.routes.spec import expand_route

ROUTE = dataclasses.make_dataclass("Route", [
    ("name", str, "card"), ("path", str, "/cards/{slug}/"), ("template", str, "card.html"),
    ("tags", tuple, ()), ("each", Any, None), ("paginate", Any, None),
    ("paginate_by", Any, None)])
NOW = "2026-01-01T00:00:00Z"


def _doc(at: int, card: Any) -> dict[str, Any]:
    return {"_id": f"p{at:02}", "_type": "post", "card": card}


def _rounds(edits: list[tuple[int, Any]]) -> None:
    """A maintained ``... .card`` list expanded, then again after each edit."""
    _query, _shape, maintained = maintain('*[_type == "post"] | order(_id).card', None)
    dataset = Dataset([_doc(at, {"slug": f"s{at}"}) for at in range(40)])
    site = object()
    for doc_id, card in [(None, None), *edits]:
        changed = None
        if doc_id is not None:
            dataset.update({f"p{doc_id:02}": _doc(doc_id, card)})
            changed = frozenset({f"p{doc_id:02}"})
        value, _ = maintained.evaluate(dataset, changed, NOW)
        assert type(value) is Chunks
        expand_route(ROUTE(), value, result_ids=frozenset(), scanned_types=frozenset(),
                     site=site, base_url="https://x", delta=maintained.delta)


def test_an_edit_that_makes_an_item_a_string_is_an_error() -> None:
    _rounds([(3, {"slug": "moved"}), (5, {"slug": "again"})])
    with pytest.raises(ConfigError, match="item 7 of the query result is a string"):
        _rounds([(3, {"slug": "moved"}), (7, "not an object")])


def test_mutant_that_trusts_the_delta_for_every_item_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = expand_module._check_items

    def trusting(route: Any, value: Any, delta: Any = None, checked: Any = None) -> Any:
        if checked is not None and delta is not None and delta.result is value:
            return value
        return real(route, value, delta, checked)

    monkeypatch.setattr(expand_module, "_check_items", trusting)
    # The string goes on to the page's making: a bare TypeError, not the route's error.
    with pytest.raises(TypeError):
        test_an_edit_that_makes_an_item_a_string_is_an_error()
