"""Query results kept up to date across dataset changes, for the shapes routes use.

The shapes are in shapes.py: ``*[cond] | order(...) {item}`` with an optional slice, and
``count(*[cond])``, whose per-document parts may dereference and run index-planned
subqueries (``*[_type == "post" && references(^._id)] | order(...)[0...5]``). A
``MaintainedQuery`` keeps, per candidate document, whether it passes, its sort keys, its
item, the ids it read and the index keys its subqueries looked up; after a change only
the entries the change reaches (dependents.py) are evaluated again, then the passing ones
are put in order. The result and its read trace equal a full evaluation's (the
hypothesis tests compare them after random edits). For any other shape ``shape_of``
returns None and the caller evaluates the query in full; ``explain`` says why.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ssgen.groq import nodes as n
from ssgen.groq.compile import Compiler
from ssgen.groq.dataset import Dataset, get_path
from ssgen.groq.dependents import Dependents
from ssgen.groq.evaluate import check_params, query_now, query_params
from ssgen.groq.memo import ProjectionMemo, known_plain, memo_safe
from ssgen.groq.plan import Plan, plan_filter
from ssgen.groq.refindex import outgoing, reference_ids
from ssgen.groq.runtime import Context, Scope
from ssgen.groq.shapes import Shape, explain, shape_of
from ssgen.groq.values import hash_key, same_json, slice_bounds, sort_key, to_json

__all__ = ["MaintainedQuery", "Shape", "explain", "shape_of"]

_T = TypeVar("_T")
# What a re-evaluated document may change: the items shown, their order and membership,
# the read trace.
_ITEMS, _ORDER, _TRACE = 1, 2, 4
_ALL = _ITEMS | _ORDER | _TRACE


@dataclass(slots=True)
class _Entry:
    passes: bool
    keys: tuple[Any, ...]
    item: Any
    # Ids read by the filter and sort keys (the document itself if it passes), and by
    # the item's expression: a slice before the Map evaluates items only inside it.
    reads: frozenset[str]
    item_reads: frozenset[str]
    keys_read: frozenset[Any]  # index keys its subqueries looked up (ctx.keys)


class MaintainedQuery:
    """One maintainable query with fixed params, kept in step with a changing dataset.

    The dataset's documents must have unique string ``_id``s (a local source's do).
    """

    def __init__(self, query: n.Query, shape: Shape, params: Mapping[str, Any] | None) -> None:
        check_params(query, params)
        self._shape = shape
        self._params = query_params(params)
        compiler = Compiler()
        self._cond = compiler.compile(shape.cond)
        self._keys = [(compiler.compile(key), desc) for key, desc in shape.keys]
        self._item = _item_closure(compiler, shape.item)
        plan = plan_filter(compiler, shape.cond)
        self._plan: Plan | None = plan
        self._reset()

    def _reset(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._dependents = Dependents()
        self._passing: list[str] = []  # ids of passing entries, sorted (dataset order)
        self._counts: dict[str, int] = {}  # traced id -> how many entries trace it
        self._order: list[str] = []  # ids of passing entries in result order
        self._position: dict[str, int] = {}  # id -> index in _order
        self._result: Any = None
        self._ids: frozenset[str] = frozenset()

    def evaluate(self, dataset: Dataset, changed: frozenset[str] | None,
                 now: Any = None) -> tuple[Any, frozenset[str]]:
        """The result and read trace over ``dataset``, which differs from the last call's
        by the documents whose ids are in ``changed`` (None: unknown, start over)."""
        ctx = Context(dataset, self._params, query_now(now))
        wanted = self._wanted(ctx)
        if changed is None or self._result is None:
            self._reset()
            changed = frozenset(doc["_id"] for doc in dataset.documents)
        stale = self._dependents.stale(changed, dataset.by_id)
        dirty = _ALL if self._result is None else 0
        retitled: list[str] = []  # passing entries whose item alone changed
        for doc_id in stale:
            flags = self._refresh(doc_id, dataset, ctx, wanted)
            if flags & _ITEMS and not flags & _ORDER:
                retitled.append(doc_id)
            dirty |= flags
        if dirty == _ITEMS and self._result is not None and self._shape.window is None:
            if not self._shape.count:  # a count does not show items
                self._result = self._patched(self._result, retitled)
        elif dirty:
            self._result, self._ids = self._assemble(dirty)
        result = self._result
        if self._shape.element:
            return (result[0] if result else None), self._ids
        return (list(result) if type(result) is list else result), self._ids

    def _patched(self, result: list[Any], doc_ids: list[str]) -> list[Any]:
        """The last result with the new items of entries that kept their place."""
        result = result.copy()
        for doc_id in doc_ids:
            result[self._position[doc_id]] = self._entries[doc_id].item
        return result

    def _wanted(self, ctx: Context) -> frozenset[Any] | None:
        """The index keys a candidate's attribute must have, or the ids one of which it
        must reference (None: every document)."""
        plan = self._plan
        if plan is None:
            return None
        key = plan.key(Scope(None, Scope(None, None, ctx), ctx))
        if plan.path is None:
            return frozenset(reference_ids(key))
        if not plan.is_in:
            hashed = hash_key(key)
            return None if hashed is None else frozenset({hashed})
        if type(key) is not list:
            return None
        return frozenset(h for value in key if (h := hash_key(value)) is not None)

    def _refresh(self, doc_id: str, dataset: Dataset, ctx: Context,
                 wanted: frozenset[Any] | None) -> int:
        """Re-evaluate one document; which parts of the result it may change (_ITEMS...)."""
        old = self._entries.pop(doc_id, None)
        if old is not None:
            self._unregister(doc_id, old)
        doc = dataset.by_id.get(doc_id)
        entry = self._evaluate(doc, ctx) if doc is not None and self._candidate(doc, wanted) \
            else None
        if entry is not None:
            self._entries[doc_id] = entry
            self._register(doc_id, entry)
        if old is None or entry is None:
            return _ALL if old is not None or entry is not None else 0
        if old.passes and entry.passes and same_json(old.item, entry.item):
            # Hand back the very same object: consumers compare results by identity.
            entry.item = old.item
        changed = 0 if old.reads == entry.reads and old.item_reads == entry.item_reads \
            else _TRACE
        if old.passes != entry.passes or old.keys != entry.keys:
            changed |= _ORDER | _ITEMS
        elif entry.passes and entry.item is not old.item:
            changed |= _ITEMS
        return changed

    def _register(self, doc_id: str, entry: _Entry) -> None:
        self._dependents.add(doc_id, entry.reads | entry.item_reads, entry.keys_read)
        counts = self._counts
        for read in self._counted(entry):
            counts[read] = counts.get(read, 0) + 1
        if entry.passes:
            insort(self._passing, doc_id)

    def _unregister(self, doc_id: str, entry: _Entry) -> None:
        self._dependents.remove(doc_id, entry.reads | entry.item_reads, entry.keys_read)
        counts = self._counts
        for read in self._counted(entry):
            left = counts[read] - 1
            if left:
                counts[read] = left
            else:
                del counts[read]
        if entry.passes:
            del self._passing[bisect_left(self._passing, doc_id)]

    def _counted(self, entry: _Entry) -> frozenset[str]:
        """The reads of an entry that are in the trace whatever the slice shows."""
        return entry.reads if self._shape.window_first else entry.reads | entry.item_reads

    def _candidate(self, doc: dict[str, Any], wanted: frozenset[Any] | None) -> bool:
        plan = self._plan
        if wanted is None or plan is None:
            return True
        if plan.path is None:
            return not wanted.isdisjoint(outgoing(doc))
        return hash_key(get_path(doc, plan.path)) in wanted

    def _evaluate(self, doc: dict[str, Any], ctx: Context) -> _Entry:
        reads: set[str] = set()
        item_reads: set[str] = set()
        keys: set[Any] = set()
        ctx.keys = keys
        ctx.trace = reads
        ctx.cache = {}  # parent-free subexpressions must be traced for every document
        root = Scope(None, None, ctx)
        passes = self._cond(Scope(doc, root, ctx)) is True
        sort_keys: tuple[Any, ...] = ()
        item = None
        if passes:
            reads.add(doc["_id"])
            scope = Scope(doc, root, ctx)
            sort_keys = tuple(sort_key(key(scope)) for key, _ in self._keys)
            ctx.trace = item_reads
            ctx.cache = {}
            item = self._item(doc, root, ctx)
        ctx.trace = ctx.keys = None
        return _Entry(passes, sort_keys, item, frozenset(reads), frozenset(item_reads),
                      frozenset(keys))

    def _assemble(self, dirty: int) -> tuple[Any, frozenset[str]]:
        if self._shape.count:
            return len(self._passing), frozenset(self._counts)
        if dirty & _ORDER:
            self._order = self._sorted()
            self._position = {doc_id: i for i, doc_id in enumerate(self._order)}
        shown = [self._entries[doc_id] for doc_id in self._order]
        window = self._shape.window
        ids = frozenset(self._counts) if dirty & _TRACE else self._ids
        if window is not None and self._shape.window_first:
            shown = _slice(shown, window)
            ids = frozenset(self._counts).union(*(entry.item_reads for entry in shown))
        result = [entry.item for entry in shown]
        if window is not None and not self._shape.window_first:
            result = _slice(result, window)
        return result, ids


    def _sorted(self) -> list[str]:
        entries = [self._entries[doc_id] for doc_id in self._passing]
        order = list(range(len(entries)))
        # As order() does: stable sorts from the least significant key, ties keep _id order.
        for index in reversed(range(len(self._keys))):
            column = [entry.keys[index] for entry in entries]
            order.sort(key=column.__getitem__, reverse=self._keys[index][1])
        return [self._passing[i] for i in order]


def _item_closure(compiler: Compiler, node: n.Node | None) -> Any:
    """``(doc, root scope, ctx) -> item`` the way Map evaluates its expression."""
    if node is None or isinstance(node, n.This):
        return lambda doc, root, ctx: doc
    if isinstance(node, n.Projection) and isinstance(node.base, n.This):
        obj = compiler.compile(node.expr)
        if memo_safe(node.expr):
            memo = ProjectionMemo(obj, node.expr)
            return lambda doc, root, ctx: memo(doc, root, ctx)  # plain already
        return lambda doc, root, ctx: to_json(obj(Scope(doc, root, ctx)),
                                              known_plain(ctx.dataset))
    expr = compiler.compile(node)
    return lambda doc, root, ctx: to_json(expr(Scope(doc, root, ctx, True)),
                                          known_plain(ctx.dataset))


def _slice(values: list[_T], window: n.Slice) -> list[_T]:
    return values[slice_bounds(len(values), window.left, window.right, window.is_inclusive)]
