"""What a maintained query keeps per candidate document (``_Entry``), and the parts of the
result a re-evaluated document may change (``ITEMS``, ``ORDER``, ``TRACE``)."""

from __future__ import annotations

from typing import Any

from ssgen.fastclass import dataclass

# What a re-evaluated document may change: the items shown, their order and membership,
# the read trace.
ITEMS, ORDER, TRACE = 1, 2, 4
ALL = ITEMS | ORDER | TRACE
NONE: frozenset[Any] = frozenset()


@dataclass(slots=True)
class _Entry:
    """One outer document's state in a maintained correlated query."""

    passes: bool
    keys: tuple[Any, ...]
    item: Any
    # Ids read by the filter and sort keys (the document itself if it passes), and by
    # the item's expression: a slice before the Map evaluates items only inside it.
    reads: frozenset[str]
    item_reads: frozenset[str]
    keys_read: frozenset[Any]  # index keys its subqueries looked up (ctx.keys)
    # Its item's stamp (``ssgen.stamp``): renewed with the item object, 0 when it does not pass.
    stamp: int = 0


__all__ = ["ALL", "ITEMS", "NONE", "ORDER", "TRACE", "_Entry"]
