"""Maintained results of a long-lived local source's list queries (serve, watch).

A route's ``each`` query and its list queries scan every document of a type; re-running
them after a one-document edit is the O(site) part of an incremental rebuild. A kept
source answers those of them that ``ssgen.groq.maintained`` can maintain (the
``*[cond] | order() {item}`` and ``*[cond][0]{...}`` shapes, ...) from per-document
results updated with the ids the source reports changed since the query last ran. A
query with params is kept once per param set (an ``each`` route's per-page query), up to
``PER_QUERY`` sets, the least recently used dropped first. Everything else runs in full.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import orjson

from ssgen.groq.dataset import Dataset
from ssgen.groq.maintained import Delta, MaintainedQuery, Shape, shape_of
from ssgen.groq.nodes import Query
from ssgen.groq.refkeyed import has_ref_keyed

ChangedSince = Callable[[int], frozenset[str] | None]
_NOT_MAINTAINABLE = "not maintainable"
PER_QUERY = 4096
# A param set first evaluated (in full) whose result reads this many documents or more
# counts in ``made`` as a list query does: an author's page of the default site grown to
# 10,000 posts reads ~2,000 and costs a new process 0.1-0.3 s in full, in every process
# whose edit reaches that author until the snapshot is saved again with it (serve's
# saves can leave it out); a post's page reads a few documents and never counts.
RESAVE_IDS = 500
_Key = tuple[str, bytes]


class QueryCache:
    """Per query text: its maintained result and the source version it reflects."""

    def __init__(self) -> None:
        self._queries: dict[_Key, tuple[MaintainedQuery, int]] = {}
        self._sets: dict[str, int] = {}  # query text -> how many param sets are kept
        # List queries (no params), and param sets whose results read ``RESAVE_IDS``
        # documents or more, first maintained since ``made`` was last reset: a resumed
        # snapshot that lacked some is worth saving again (ssgen.sources.snapshot).
        self.made = 0

    def query(
        self,
        query: Query,
        params: Mapping[str, Any] | None,
        dataset: Dataset,
        version: int,
        changed_since: ChangedSince,
        now: Any,
    ) -> tuple[Any, frozenset[str], Delta | None, dict[str, Delta] | None,
               frozenset[str] | None] | None:
        """The result and trace of ``query`` at ``version``, how the result differs from
        the one before its last change (``ssgen.groq.maintained.delta``), for a
        one-element result how its kept nested lists do (by attribute), and, for a query
        with scans keyed by ``references()``, the ids its lookups took (else None); or
        None: evaluate it in full."""
        shape = _shape(query)
        if shape is None:
            return None
        key = _key(query.text, params)
        if key is None:
            return None
        known = self._queries.pop(key, None)
        if known is None:
            self._make_room(query.text)
            maintained, changed = MaintainedQuery(query, shape, params), None
            self.made += not params
        else:
            self._sets[query.text] -= 1
            maintained, changed = known[0], changed_since(known[1])
        # Popped first: an evaluation that raises leaves no half-updated entry behind.
        value, ids = maintained.evaluate(dataset, changed, now)
        if known is None and params and len(ids) >= RESAVE_IDS:
            self.made += 1  # a param set as costly as a list query to evaluate in full
        self._queries[key] = (maintained, version)  # re-inserted: most recently used last
        self._sets[query.text] = self._sets.get(query.text, 0) + 1
        refs = looked_up(maintained.lookups()) if has_ref_keyed(query) else None
        return value, ids, maintained.delta, maintained.nested() or None, refs

    @property
    def lists(self) -> int:
        """How many list queries (no params) it maintains."""
        return sum(1 for _, params in self._queries if not params)

    def items(self) -> Iterator[tuple[str, Any]]:
        """Each maintained entry's document id and item, query by query (a snapshot's
        records group the items with their documents: ``ssgen.sources.snapshot.records``)."""
        for maintained, _ in self._queries.values():
            for doc_id, entry in maintained._entries.items():
                yield doc_id, entry.item

    def _make_room(self, text: str) -> None:
        if self._sets.get(text, 0) < PER_QUERY:
            return
        oldest = next(key for key in self._queries if key[0] == text)
        del self._queries[oldest]
        self._sets[text] -= 1


def looked_up(keys: Iterable[Any]) -> frozenset[str]:
    """The ids among index keys (``runtime.Context.keys``) that ``references()`` looked up."""
    return frozenset(key[1] for key in keys if type(key) is tuple and key[0] is None)


def _key(text: str, params: Mapping[str, Any] | None) -> _Key | None:
    """The query text and its params as canonical JSON (None: params JSON cannot encode)."""
    if not params:
        return text, b""
    try:
        return text, orjson.dumps(dict(params), option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return None


def _shape(query: Query) -> Shape | None:
    shape = query.compiled.get("maintained")
    if shape is None:
        shape = query.compiled["maintained"] = shape_of(query) or _NOT_MAINTAINABLE
    return shape if isinstance(shape, Shape) else None
