"""Query results kept up to date across dataset changes, for the shapes routes use.

The shapes are in shapes.py: ``*[cond] | order(...) {item}`` with an optional slice, and
``count(*[cond])``, whose per-document parts may dereference and run index-planned
subqueries (``*[_type == "post" && references(^._id)] | order(...)[0...5]``). A
``MaintainedQuery`` keeps, per candidate document, whether it passes, its sort keys, its
item, the ids it read and the index keys its subqueries looked up; after a change only
the entries the change reaches (dependents.py) are evaluated again, each leaving and
entering the sorted rows (ordered.py) at its bisect position. A subquery that is an
attribute of the item and reads ``^`` is itself a nested ``MaintainedQuery`` per outer
document (correlated.py), patched the same way. The result and its read trace equal a
full evaluation's (the hypothesis tests compare them after random edits). For any other
shape ``shape_of`` returns None and the caller evaluates the query in full; ``explain``
says why.

A package: ``query`` owns ``MaintainedQuery``, ``entry`` what it keeps per candidate
document, ``parts`` the shape compiled once, ``delta`` what one update of a whole ordered
list changed (``MaintainedQuery.delta``: inserted, removed, changed and moved ids, for
consumers that redo only those items' part). Re-exported here.
"""

from __future__ import annotations

from ssgen.groq.maintained.delta import Delta
from ssgen.groq.maintained.entry import _Entry
from ssgen.groq.maintained.query import MaintainedQuery
from ssgen.groq.shapes import Shape, explain, shape_of

__all__ = ["Delta", "MaintainedQuery", "Shape", "_Entry", "explain", "shape_of"]
