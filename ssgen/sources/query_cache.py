"""Maintained results of a long-lived local source's list queries (serve, watch).

A route's ``each`` query and its list queries scan every document of a type; re-running
them after a one-document edit is the O(site) part of an incremental rebuild. A kept
source answers those of them that ``ssgen.groq.maintained`` can maintain (no params,
the ``*[cond] | order() {item}`` shape) from per-document results updated with the ids
the source reports changed since the query last ran. Everything else runs in full.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ssgen.groq.dataset import Dataset
from ssgen.groq.maintained import MaintainedQuery, Shape, shape_of
from ssgen.groq.nodes import Query

ChangedSince = Callable[[int], frozenset[str] | None]
_NOT_MAINTAINABLE = "not maintainable"


class QueryCache:
    """Per query text: its maintained result and the source version it reflects."""

    def __init__(self) -> None:
        self._queries: dict[str, tuple[MaintainedQuery, int]] = {}

    def query(
        self,
        query: Query,
        params: Mapping[str, Any] | None,
        dataset: Dataset,
        version: int,
        changed_since: ChangedSince,
        now: Any,
    ) -> tuple[Any, frozenset[str]] | None:
        """The result and trace of ``query`` at ``version``, or None: evaluate it in full."""
        if params:
            return None
        shape = _shape(query)
        if shape is None:
            return None
        known = self._queries.pop(query.text, None)
        if known is None:
            maintained, changed = MaintainedQuery(query, shape, None), None
        else:
            maintained, changed = known[0], changed_since(known[1])
        # Popped first: an evaluation that raises leaves no half-updated entry behind.
        value, ids = maintained.evaluate(dataset, changed, now)
        self._queries[query.text] = (maintained, version)
        return value, ids


def _shape(query: Query) -> Shape | None:
    shape = query.compiled.get("maintained")
    if shape is None:
        shape = query.compiled["maintained"] = shape_of(query) or _NOT_MAINTAINABLE
    return shape if isinstance(shape, Shape) else None
