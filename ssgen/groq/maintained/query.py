"""``MaintainedQuery``: one maintainable query's result kept in step with a changing
dataset, by re-evaluating only the candidate documents a change reaches (the package
docstring tells how)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import is_
from typing import Any

from ssgen import shells, stamp
from ssgen.groq import nodes as n
from ssgen.groq.correlated import CorrelatedSubs
from ssgen.groq.dataset import Dataset, get_path
from ssgen.groq.dependents import Dependents
from ssgen.groq.evaluate import check_params, query_now, query_params
from ssgen.groq.maintained.delta import Changes, Delta, unchanged
from ssgen.groq.maintained.entry import (
    ALL,
    ITEMS,
    NONE,
    ORDER,
    TRACE,
    Columned,
    ItemParts,
    _Entry,
    check_columns,
    item_reads_of,
    recount,
    same_sets,
)
from ssgen.groq.maintained.parts import Parts, compile_parts, wanted_of
from ssgen.groq.ordered import Ordered
from ssgen.groq.plan import Plan
from ssgen.groq.runtime import ALL_KEYS, WATCH, Context, Scope
from ssgen.groq.shapes import Shape
from ssgen.groq.values import hash_key, same_json, slice_bounds, sort_key


class MaintainedQuery(Columned):
    """One maintainable query with fixed params, kept in step with a changing dataset.

    The dataset's documents must have unique string ``_id``s (a local source's do).
    ``query`` None and ``parts`` given: a correlated subquery's runner (correlated.py),
    which ``run``s in the outer document's scope with the outer evaluation's params."""

    _chunked = False  # a runner of an element's item: its whole list handed out as chunks

    def __init__(self, query: n.Query | None, shape: Shape, params: Mapping[str, Any] | None,
                 *, parts: Parts | None = None) -> None:
        if query is not None:
            check_params(query, params)
        self._params = query_params(params)
        self._subs: CorrelatedSubs | None = None
        if parts is None:
            self._subs = CorrelatedSubs(_runners(shape.element))
            parts = compile_parts(shape, self._subs)
        self._shape, self._compiled = shape, parts
        self._reset(None)

    def __getstate__(self) -> dict[str, Any]:
        """Its entries (as ``entry.columns``) and indexes, without the compiled parts
        (closures): a snapshot of a kept source (``ssgen.sources.snapshot``) pickles them."""
        state = dict(self.__dict__)
        del state["_compiled"], state["_delta"], state["_changes"], state["_item_parts"]
        del state["_columns"], state["_entry_map"]
        state["_entries"] = self._entry_columns()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Its state; the parts are compiled on first use (``_parts``), the entries made
        from their columns on first use (``_entries``), which are checked now: of the
        queries a resumed snapshot holds, a one-post edit runs a few."""
        found = state.pop("_entries")
        check_columns(found)
        # How the result came about is not kept: until a change, its delta is from itself.
        self.__dict__.update(state, _delta=None, _changes=None, _item_parts={},
                             _compiled=None, _entry_map={}, _columns=found)

    @property
    def _parts(self) -> Parts:
        parts = self._compiled
        return parts if parts is not None else self._compile()

    @property
    def _plan(self) -> Plan | None:
        return self._parts.plan

    def _compile(self) -> Parts:
        """Compile the parts of an unpickled query; the correlated runners get their
        slots in the order the compilation assigns them, as when first made."""
        subs = self._subs
        if subs is not None:
            subs.rebind(_runners(self._shape.element))
        parts = self._compiled = compile_parts(self._shape, subs)
        return parts

    def _reset(self, wanted: frozenset[Any] | None, key_reads: frozenset[str] = NONE) -> None:
        self._entry_map, self._columns = {}, None
        self._dependents = Dependents()
        self._ordered = Ordered(tuple(desc for _, desc in self._shape.keys))
        self._counts: dict[str, int] = {}  # traced id -> how many entries trace it
        self._result: Any = None
        self._ids: frozenset[str] = frozenset()
        # The stamps of a list result's items (``ssgen.stamp``), and the result's own stamp.
        self._stamps: Sequence[int] | None = None
        self._version = 0
        # The item reads of the entries a slice before the Map showed (in ``_ids``).
        self._shown_reads: list[frozenset[str]] = []
        self._wanted_last = wanted, key_reads
        self._key_reads = key_reads  # ids the index key read (a dereference)
        # Candidates that do not pass: not in the trace, yet one that stops being a
        # candidate must reach the outer entry (its reads leave the trace).
        self._failing: set[str] = set()
        self._lookups = self._lookup_keys(wanted)
        # How the result differs from the last (delta.py); the rows this update changed.
        self._delta: Delta | None = None
        self._changes: Changes | None = None
        self._item_parts: ItemParts = {}  # (entry.ItemParts)
        if self._subs is not None:
            self._subs.reset()

    def evaluate(self, dataset: Dataset, changed: frozenset[str] | None,
                 now: Any = None) -> tuple[Any, frozenset[str]]:
        """The result and read trace over ``dataset``, which differs from the last call's
        by the documents whose ids are in ``changed`` (None: unknown, start over). A list
        result is never changed once handed out (copy on write): the caller must not."""
        ctx = Context(dataset, self._params, query_now(now))
        return self.run(ctx, Scope(None, None, ctx), changed)

    def run(self, ctx: Context, parent: Scope, changed: frozenset[str] | None) \
            -> tuple[Any, frozenset[str]]:
        """``evaluate`` in a scope whose parent is ``parent`` (the outer document's for a
        correlated subquery); a list value is this object's own: not to be changed."""
        wanted, key_reads = wanted_of(self._plan, ctx, parent)
        fresh = changed is None or self._result is None \
            or (wanted, key_reads) != self._wanted_last
        if changed is None or fresh:
            shells.fill_all()  # every candidate is evaluated
            self._reset(wanted, key_reads)
            changed = self._initial(ctx.dataset, wanted)
        if self._subs is not None:
            self._subs.changed(changed)
        stale = self._dependents.stale(changed, ctx.dataset.by_id, ctx.dataset.refs_of)
        dirty = ALL if self._result is None else 0
        shape = self._shape
        listed = shape.window is None and not shape.count and not shape.element
        changes = self._changes = Changes(self._ordered) if listed and not fresh else None
        try:
            for doc_id in stale:
                dirty |= self._refresh(doc_id, ctx, parent, wanted)
        finally:
            self._changes = None
        if dirty:
            base, base_version = self._result, self._version
            self._result, self._ids = self._assemble(dirty)
            if self._result is not base:
                self._version = stamp.new()
                self._delta = None if changes is None else changes.delta(
                    (base, base_version), (self._result, self._version, self._stamps),
                    self._entries)
        result = self._result
        if self._shape.element:
            return (result[0] if result else None), self._ids
        return result, self._ids

    @property
    def stamps(self) -> Sequence[int] | None:
        """The stamps of the last list result's items, by place (``ssgen.stamp``; None: not a
        list); not to be changed (a ``Chunks`` for a whole list)."""
        return self._stamps

    @property
    def version(self) -> int:
        """The last result's stamp: renewed whenever a new result object is handed out."""
        return self._version

    @property
    def delta(self) -> Delta | None:
        """How the result differs from the one before its last change (see delta.py); for
        a whole list with none known (after a start, reset or load), its delta from itself:
        a correlated runner's too, so that a nested list's consumer knows its version."""
        if self._delta is None and self._shape.window is None and self._stamps is not None:
            self._delta = unchanged(self._ordered, (self._result, self._version, self._stamps),
                                    self._entries)
        return self._delta

    def nested(self) -> dict[str, Delta]:
        """For a one-element result (``*[...][0]{..., "posts": *[... ^._id ...]}``): the
        deltas of its item's kept correlated lists, by attribute name (correlated.py);
        empty for other shapes or no element."""
        window = self._shape.window
        if self._subs is None or not self._shape.element or window is None:
            return {}
        if self._compiled is None:
            self._compile()  # the subs' slots and names, for an unpickled query
        rows = self._ordered.rows[slice_bounds(len(self._ordered), window.left,
                                               window.right, window.is_inclusive)]
        return self._subs.deltas(rows[0][-1]) if len(rows) == 1 else {}

    def lookups(self) -> Iterable[Any]:
        """The index keys the last run looked up, as ``ctx.keys`` records them."""
        found = self._lookups | self._dependents.keys()
        return found | {(WATCH, doc_id) for doc_id in self._failing} if self._failing else found

    def _lookup_keys(self, wanted: frozenset[Any] | None) -> frozenset[Any]:
        plan = self._plan
        if plan is None or wanted is None:
            return frozenset({ALL_KEYS})
        return frozenset((plan.path, key) for key in wanted)

    def _initial(self, dataset: Dataset, wanted: frozenset[Any] | None) -> frozenset[str]:
        """The ids of the candidates (an index lookup, not a scan, when planned)."""
        plan = self._plan
        if wanted is None or plan is None:
            return frozenset(doc["_id"] for doc in dataset.documents)
        if plan.path is None:
            return frozenset(doc["_id"] for ref in wanted for doc in dataset.referrers(ref))
        if plan.path == ("_id",):
            return frozenset(key for key in wanted if type(key) is str and key in dataset.by_id)
        index = dataset.index(plan.path)
        return frozenset(doc["_id"] for key in wanted for doc in index.get(key, ()))

    def _refresh(self, doc_id: str, ctx: Context, parent: Scope,
                 wanted: frozenset[Any] | None) -> int:
        """Re-evaluate one document; which parts of the result it may change (ITEMS...)."""
        shells.fill((doc_id,))  # its last item too (the same record as its document)
        old = self._entries.get(doc_id)
        doc = shells.filled(ctx.dataset.by_id.get(doc_id))
        entry = self._evaluate(doc, ctx, parent) \
            if doc is not None and self._candidate(ctx.dataset, doc, wanted) else None
        if old is None and entry is None:
            return 0
        if entry is None:
            del self._entries[doc_id]
            self._item_parts.pop(doc_id, None)
        else:
            self._entries[doc_id] = entry
        if old is not None and entry is not None:
            if old.passes and entry.passes and (same_json(old.item, entry.item) if self._subs
                                                is None else self._subs.same(doc_id, old, entry)):
                # Hand back the very same object: consumers compare results by identity
                # (or by its stamp, which goes with it).
                entry.item, entry.stamp = old.item, old.stamp
            same_sets(old, entry, self._item_parts, doc_id)
        if self._changes is not None:
            self._changes.note(doc_id, old, entry)
        if entry is None or not entry.passes:
            if self._subs is not None:
                self._subs.forget(doc_id)
            if entry is None:
                self._failing.discard(doc_id)
            else:
                self._failing.add(doc_id)
        else:
            self._failing.discard(doc_id)
        self._swap(doc_id, old, entry)
        if old is None or entry is None:
            only = old if entry is None else entry
            return ALL if only is not None and only.passes else TRACE
        changed = 0 if old.reads is entry.reads and old.item_reads is entry.item_reads \
            else TRACE
        if old.passes != entry.passes or old.keys != entry.keys:
            changed |= ORDER | ITEMS
        elif entry.passes and entry.item is not old.item:
            changed |= ITEMS
        return changed

    def _swap(self, doc_id: str, old: _Entry | None, new: _Entry | None) -> None:
        """Replace what ``old`` registered (reads, keys, counts, row) by ``new``'s, by
        their differences: an entry that read 10,000 ids and still does costs little."""
        if old is None or new is None or old.reads is not new.reads \
                or old.item_reads is not new.item_reads:
            old_reads = old.reads | old.item_reads if old is not None else NONE
            new_reads = new.reads | new.item_reads if new is not None else NONE
            self._dependents.remove(doc_id, old_reads - new_reads, NONE)
            self._dependents.add(doc_id, new_reads - old_reads, NONE)
            recount(self._counts, self._counted(old), self._counted(new))
        old_keys = old.keys_read if old is not None else NONE
        new_keys = new.keys_read if new is not None else NONE
        if old_keys is not new_keys:
            self._dependents.remove(doc_id, NONE, old_keys - new_keys)
            self._dependents.add(doc_id, NONE, new_keys - old_keys)
        ordered = self._ordered
        old_row = ordered.row(doc_id, old.keys) if old is not None and old.passes else None
        new_row = ordered.row(doc_id, new.keys) if new is not None and new.passes else None
        if old_row is not None and old_row == new_row:
            assert new is not None and old is not None
            if new.item is not old.item:
                ordered.replace(new_row, new.item, new.stamp)
            return
        if old_row is not None:
            ordered.remove(old_row)
        if new_row is not None:
            assert new is not None
            ordered.insert(new_row, new.item, new.stamp)

    def _counted(self, entry: _Entry | None) -> frozenset[str]:
        """The reads of an entry that are in the trace whatever the slice shows."""
        if entry is None:
            return NONE
        return entry.reads if self._shape.window_first else entry.reads | entry.item_reads

    def _candidate(self, dataset: Dataset, doc: dict[str, Any],
                   wanted: frozenset[Any] | None) -> bool:
        plan = self._plan
        if wanted is None or plan is None:
            return True
        if plan.path is None:  # the index's walk of the document, not a new one
            return not wanted.isdisjoint(dataset.refs_of(doc))
        return hash_key(get_path(doc, plan.path)) in wanted

    def _evaluate(self, doc: dict[str, Any], ctx: Context, parent: Scope) -> _Entry:
        reads: set[str] = set()
        item_reads: set[str] = set()
        keys: set[Any] = set()
        parts = self._parts
        listed: list[frozenset[str]] = []  # the kept subqueries' traces (correlated.py)
        saved = ctx.trace, ctx.keys, ctx.cache, ctx.traces
        ctx.keys = keys
        ctx.trace = reads
        ctx.traces = None
        ctx.cache = {}  # parent-free subexpressions must be traced for every document
        try:
            if parts.test_doc is not None:
                passes = parts.test_doc(doc)
            else:
                passes = parts.test is None or parts.test(Scope(doc, parent, ctx)) is True
            sort_keys: tuple[Any, ...] = ()
            item = None
            if passes:
                reads.add(doc["_id"])
                scope = Scope(doc, parent, ctx)
                sort_keys = tuple(sort_key(key(scope)) for key, _ in parts.keys)
                ctx.trace = item_reads
                ctx.traces = (item_reads, listed)
                ctx.cache = {}
                item = parts.item(doc, parent, ctx)
        finally:
            ctx.trace, ctx.keys, ctx.cache, ctx.traces = saved
        return _Entry(passes, sort_keys, item, frozenset(reads),
                      item_reads_of(self._item_parts, doc["_id"], item_reads, listed),
                      frozenset(keys),
                      stamp.new() if passes else 0)

    def _assemble(self, dirty: int) -> tuple[Any, frozenset[str]]:
        """The result and trace (the stamps of a list result's items in ``_stamps``)."""
        ids = frozenset(self._counts).union(self._key_reads) if dirty & TRACE else self._ids
        if self._shape.count:
            self._stamps = None
            return len(self._ordered), ids
        window = self._shape.window
        if window is None:
            items, self._stamps = self._ordered.result(), self._ordered.stamps
            # A correlated list is JSON inside its outer item: a list, but in one element's
            # item (an each route's page) its chunks (``chunks.listed`` makes it a list).
            return (items if self._subs is not None or self._chunked else items.plain()), ids
        bounds = slice_bounds(len(self._ordered), window.left, window.right,
                              window.is_inclusive)
        if self._shape.window_first:
            shown = [self._entries[row[-1]] for row in self._ordered.rows[bounds]]
            reads = [entry.item_reads for entry in shown]
            last_reads, self._shown_reads = self._shown_reads, reads
            if dirty & TRACE or len(reads) != len(last_reads) \
                    or not all(map(is_, reads, last_reads)):
                ids = frozenset(self._counts).union(self._key_reads, *reads)
            result = [entry.item for entry in shown]
            stamps = [entry.stamp for entry in shown]
        else:
            result = self._ordered.items[bounds]
            stamps = self._ordered.stamps[bounds]
        last = self._result
        if type(last) is list and len(last) == len(result) and all(map(is_, last, result)):
            return last, ids  # the same items: the same list (and stamps)
        self._stamps = stamps
        return result, ids


def _runners(chunked: bool) -> Callable[[Shape], MaintainedQuery]:
    """A maker of correlated subquery runners, which share one compilation per shape
    (``chunked``: of an element's item, whose whole lists are handed out as chunks)."""
    shared: dict[int, Parts] = {}  # id(shape): the shapes live as long as the subs

    def runner(sub: Shape) -> MaintainedQuery:
        parts = shared.get(id(sub))
        if parts is None:
            parts = shared[id(sub)] = compile_parts(sub, None)
        runner = MaintainedQuery(None, sub, None, parts=parts)
        runner._chunked = chunked
        return runner

    return runner


__all__ = ["MaintainedQuery"]
