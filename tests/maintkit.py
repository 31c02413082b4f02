"""A maintained query for the tests of ``ssgen.groq.maintained``: parsed, its shape found
(the test fails when the text has none) and the query kept with ``params``."""

from __future__ import annotations

from typing import Any

from ssgen.groq import nodes as n
from ssgen.groq.maintained import MaintainedQuery, Shape, shape_of
from ssgen.groq.parser import parse


def maintain(text: str, params: dict[str, Any] | None) -> tuple[n.Query, Shape, MaintainedQuery]:
    """``text`` parsed, its shape, and the query maintained over that shape."""
    query = parse(text)
    shape = shape_of(query)
    assert shape is not None, f"no maintained shape for {text!r}"
    return query, shape, MaintainedQuery(query, shape, params)
