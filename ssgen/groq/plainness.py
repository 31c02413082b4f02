"""Whether a query's result is plain JSON as evaluated, so ``to_json`` need not walk it.

Only ``DateTime`` and ``Path`` values need converting, and only three functions make
them: ``dateTime()``, ``path()`` and ``dateTime::now()`` (operators make a ``DateTime``
only from one; documents and parameters are JSON). A query that calls none of them,
custom functions' bodies included, can only return JSON: walking a 10,000-post result
(Portable Text bodies included) to find nothing to convert cost more than evaluating it.
"""

from __future__ import annotations

from ssgen.groq import nodes as n
from ssgen.groq.analysis import walk
from ssgen.groq.nodes import Query
from ssgen.memos import site_memo

PRODUCERS = frozenset({("global", "dateTime"), ("global", "path"), ("dateTime", "now")})

_KNOWN: dict[int, tuple[Query, bool]] = site_memo()


def json_only(query: Query) -> bool:
    """True when no evaluation of ``query`` can return a ``DateTime`` or ``Path``."""
    found = _KNOWN.get(id(query))
    if found is None or found[0] is not query:
        plain = not any(isinstance(node, n.FuncCall) and (node.namespace, node.name) in PRODUCERS
                        for node in walk(query.root, into_functions=True))
        if len(_KNOWN) > 4096:
            _KNOWN.clear()
        found = _KNOWN[id(query)] = (query, plain)
    return found[1]
