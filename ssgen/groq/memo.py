"""Per-document memo of ``a[]{...}`` projections, kept across evaluations.

``*[_type == "post" && references(^._id)] | order(publishedAt desc){title, "author":
author->{name}}`` inside an author's projection projects every post of the author again
whenever any one of them changes. When the projection is a function of the element and
of the documents it dereferences only (``memo_safe``: no ``^``, ``$param``, ``*``,
``now()``, custom or impure functions), its value for a document is kept with the ids
it read and the documents found under them. It is reused while the element is the very
same document object and every id it read still names the very same object (or is
still missing): a local dataset never mutates a document, it replaces it
(``Dataset.update``), so identity is a version. The reads are replayed into the trace, so
maintained queries see exactly what a fresh evaluation would report; the value itself
is the same object as before, which lets later stages (change detection, rendered
fragments) compare by identity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from ssgen.groq import nodes as n
from ssgen.groq.runtime import Closure, Scope
from ssgen.groq.values import to_json

_ALLOWED = (
    n.Value, n.This, n.AccessAttribute, n.AccessElement, n.Slice, n.Filter, n.Projection,
    n.Deref, n.ArrayCoerce, n.Map, n.FlatMap, n.Group, n.ArrayElement, n.Array,
    n.ObjectAttributeValue, n.ObjectConditionalSplat, n.ObjectSplat, n.Object, n.OpCall,
    n.And, n.Or, n.Not, n.Neg, n.Pos, n.InRange, n.Asc, n.Desc, n.SelectAlternative,
    n.Select, n.FuncCall, n.PipeFuncCall,
)
_PURE_GLOBALS = frozenset({
    "boolean", "coalesce", "count", "defined", "length", "lower", "references", "round",
    "select", "string", "upper",
})
_PURE_NAMESPACES = frozenset({"array", "math", "string", "pt"})
_PURE_PIPES = frozenset({"order"})
_ABSENT = object()


def memo_safe(node: Any) -> bool:
    """True when ``node``'s value depends only on ``@`` and the documents it dereferences."""
    if isinstance(node, tuple):
        return all(memo_safe(item) for item in node)
    if node is None or isinstance(node, str | int | float | bool):
        return True
    if not isinstance(node, _ALLOWED):
        return False
    if isinstance(node, n.FuncCall) and not (
            node.namespace in _PURE_NAMESPACES
            or (node.namespace == "global" and node.name in _PURE_GLOBALS)):
        return False
    if isinstance(node, n.PipeFuncCall) and node.name not in _PURE_PIPES:
        return False
    if isinstance(node, n.Value):
        return True
    return all(memo_safe(getattr(node, f.name)) for f in fields(node))


# One memo per projection text (its node's repr tells 1 from 1.0), shared by every query
# that projects documents the same way: the blog list's, the author's and the category's
# cards are then the same objects.
_KEYS: dict[str, int] = {}
# Under this key of ``Dataset.memos``: id -> value of every value the memos hold, all
# plain JSON, so ``to_json`` need not walk them again (``known_plain``).
PLAIN = -1
_Entries = dict[str, tuple[dict[str, Any], Any, tuple[tuple[str, Any], ...]]]


class ProjectionMemo:
    """``obj(Scope(doc, parent, ctx))`` as plain JSON, per document ``_id``, reused while
    valid.

    The entries live on the dataset (``Dataset.memos``), so they go with it.
    """

    __slots__ = ("_key", "_obj")

    def __init__(self, obj: Closure, node: n.Node) -> None:
        self._obj = obj
        self._key = _KEYS.setdefault(repr(node), len(_KEYS))

    def __call__(self, item: dict[str, Any], parent: Scope | None, ctx: Any) -> Any:
        doc_id = item.get("_id")
        if type(doc_id) is not str:
            return to_json(self._obj(Scope(item, parent, ctx)))
        dataset = ctx.dataset
        # _id -> (the document, its value, ((id read, object found or _ABSENT), ...))
        entries: _Entries = dataset.memos.get(self._key) or dataset.memos.setdefault(
            self._key, {})
        found = entries.get(doc_id)
        by_id = dataset.by_id
        if found is not None and _valid(found, item, by_id):
            if ctx.trace is not None:
                ctx.trace.update(read for read, _ in found[2])
            return found[1]
        trace, cache = ctx.trace, ctx.cache
        reads: set[str] = set()
        ctx.trace, ctx.cache = reads, {}
        try:
            value = self._obj(Scope(item, parent, ctx))
        finally:
            ctx.trace, ctx.cache = trace, cache
        if trace is not None:
            trace.update(reads)
        # No to_json walk: memo_safe admits none of plainness.PRODUCERS, so the value is
        # plain JSON already (tests/groq/test_plainness.py holds this).
        plain = dataset.memos.setdefault(PLAIN, {})
        if found is not None and plain.get(id(found[1])) is found[1]:
            del plain[id(found[1])]
        plain[id(value)] = value
        entries[doc_id] = (item, value, tuple(
            (read, by_id.get(read, _ABSENT)) for read in sorted(reads)))
        return value


def _valid(found: tuple[dict[str, Any], Any, tuple[tuple[str, Any], ...]],
           item: dict[str, Any], by_id: dict[str, Any]) -> bool:
    """The entry is of this very document, and every id it read names what it did."""
    return found[0] is item and all(by_id.get(read, _ABSENT) is seen for read, seen in found[2])


def known_plain(dataset: Any) -> Callable[[dict[str, Any]], bool] | None:
    """For ``to_json(value, frozen)``: is an object one of the memos' plain values?"""
    plain = getattr(dataset, "memos", {}).get(PLAIN)
    if not plain:
        return None
    return lambda obj: plain.get(id(obj)) is obj
