"""Correlated subqueries in a maintained query's item, kept per outer document.

``*[_type == "author"]{name, "posts": *[_type == "post" && references(^._id)] |
order(publishedAt desc){title}}``: when one post changes, the author's entry is
evaluated again (maintained/), and so would be its subquery over every post of the
author. Here each such attribute (``shapes.correlated``) gets, per outer document, a
runner of its own (a nested maintained query whose ``^`` is the outer document) that
is brought up to date with the ids changed since it last ran: the changed post leaves
its place in the sorted sub-result and enters at its new one, and only its item is
projected again. The runner is started afresh when the outer document is a new
object (its ``^`` values may differ) or when the log of changed ids no longer reaches
back to its last run. Its result is the same object while nothing in it changed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ssgen import shells
from ssgen.groq import nodes as n
from ssgen.groq.memo import known_plain
from ssgen.groq.runtime import Closure, Context, NodeCompiler, Scope
from ssgen.groq.shapes import Shape, correlated
from ssgen.groq.values import same_json, to_json

_LOG_SIZE = 64


class Runner(Protocol):
    """What a nested maintained query offers (maintained.MaintainedQuery)."""

    def run(self, ctx: Context, parent: Scope, changed: frozenset[str] | None) \
            -> tuple[Any, frozenset[str]]:
        """The value and read trace in a scope whose parent is ``parent``."""
        ...

    def lookups(self) -> Iterable[Any]:
        """The index keys its last run looked up (for the outer ``ctx.keys``)."""
        ...

    @property
    def delta(self) -> Any:
        """How its result differs from the one before its last change (a
        ``maintained.Delta``, not imported here: maintained/ imports this module; None:
        unknown)."""
        ...


class _State:
    __slots__ = ("outer", "round", "runner")

    def __init__(self, runner: Runner, outer: dict[str, Any], round_: int) -> None:
        self.runner, self.outer, self.round = runner, outer, round_


class CorrelatedSubs:
    """The runners of one maintained query's correlated attributes, per outer ``_id``,
    and the ids its last evaluations changed."""

    def __init__(self, make: Callable[[Shape], Runner]) -> None:
        self._make = make
        self._slots = 0
        self._names: list[str | None] = []  # per slot: the attribute it fills
        self._states: dict[tuple[int, str], _State] = {}
        self.round = 0
        self._log: deque[tuple[int, frozenset[str]]] = deque(maxlen=_LOG_SIZE)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # A closure: the owner rebinds one (``rebind``) when unpickled, and the names
        # come back with the slots (neither yet if its owner was not compiled since).
        state.pop("_make", None)
        state.pop("_names", None)
        return state

    def rebind(self, make: Callable[[Shape], Runner]) -> None:
        """After unpickling: the runner maker, and slots handed out again from 0 (the
        owner recompiles its item, which asks for them in the same order)."""
        self._make, self._slots, self._names = make, 0, []

    def changed(self, ids: frozenset[str]) -> None:
        """A new evaluation of the owner starts; ``ids`` changed since the last one."""
        self.round += 1
        self._log.append((self.round, ids))

    def reset(self) -> None:
        """Forget every runner (the owner starts over)."""
        self._states.clear()
        self._log.clear()

    def forget(self, outer_id: str) -> None:
        """Drop the runners of an outer document that left the result."""
        for slot in range(self._slots):
            self._states.pop((slot, outer_id), None)

    def deltas(self, outer_id: str) -> dict[str, Any]:
        """The deltas of the outer document's kept attributes, by name (those known)."""
        found: dict[str, Any] = {}
        for slot, name in enumerate(self._names):
            state = self._states.get((slot, outer_id))
            delta = state.runner.delta if state is not None and name is not None else None
            if delta is not None and name is not None:
                found[name] = delta
        return found

    def same(self, outer_id: str, old: Any, new: Any) -> bool:
        """``same_json`` of the items of an outer document's last entry and its new one
        (``old.item``, ``new.item``), without the compare over thousands of items when a
        kept list's delta already tells them apart (``Delta.alters``: the list the old
        item held is its base, the new item holds its result)."""
        before, after = old.item, new.item
        if type(before) is dict and type(after) is dict:
            for name, delta in self.deltas(outer_id).items():
                if before.get(name) is delta.base and after.get(name) is delta.result \
                        and delta.base is not delta.result and delta.alters:
                    return False
        return same_json(before, after)

    def _since(self, round_: int) -> frozenset[str] | None:
        if round_ == self.round:
            return frozenset()
        if not self._log or round_ < self._log[0][0] - 1:
            return None
        return frozenset().union(*(ids for at, ids in self._log if at > round_))

    def closure(self, shape: Shape, name: str | None = None) -> Closure:
        """``(outer projection scope) -> the subquery's value``, kept per outer document;
        ``name``: the attribute of the outer item it fills (for ``deltas``)."""
        slot = self._slots
        self._slots += 1
        self._names.append(name)
        states = self._states

        def run(scope: Scope) -> Any:
            outer, ctx = shells.filled(scope.value), scope.ctx
            outer_id = outer.get("_id") if type(outer) is dict else None
            if type(outer_id) is not str:
                return _once(self._make(shape), ctx, scope)
            key = (slot, outer_id)
            state = states.get(key)
            changed = self._since(state.round) \
                if state is not None and state.outer is outer else None
            if state is None or changed is None:
                state = states[key] = _State(self._make(shape), outer, self.round)
            try:
                value, ids = state.runner.run(ctx, scope, changed)
            except BaseException:
                del states[key]  # half brought up to date
                raise
            state.round = self.round
            _report(ctx, ids, state.runner)
            return value

        return run


def _once(runner: Runner, ctx: Context, scope: Scope) -> Any:
    value, ids = runner.run(ctx, scope, None)
    _report(ctx, ids, runner)
    return value


def _report(ctx: Context, ids: frozenset[str], runner: Runner) -> None:
    if ctx.trace is not None:
        listed = ctx.traces
        if listed is not None and listed[0] is ctx.trace:
            listed[1].append(ids)  # the very set: no copy of an author's 10,000 ids
        else:
            ctx.trace.update(ids)
    if ctx.keys is not None:
        ctx.keys.update(runner.lookups())


def object_closure(compiler: NodeCompiler, node: n.Object,
                   subs: CorrelatedSubs) -> Closure | None:
    """``(scope) -> plain JSON`` of an object whose correlated attributes are kept per
    outer document; None when it has none (or has splats: evaluate it as usual)."""
    if not all(isinstance(attr, n.ObjectAttributeValue) for attr in node.attributes):
        return None
    parts: list[tuple[str, Closure, bool]] = []
    for attr in node.attributes:
        assert isinstance(attr, n.ObjectAttributeValue)
        shape = correlated(attr.value)
        if isinstance(shape, Shape):
            parts.append((attr.name, subs.closure(shape, attr.name), True))
        else:
            parts.append((attr.name, compiler.compile(attr.value), False))
    if not any(kept for _, _, kept in parts):
        return None

    def run(scope: Scope) -> Any:
        frozen = known_plain(scope.ctx.dataset)
        # A kept value is plain JSON already: not walked again (it may list 10,000 items).
        return {name: value(scope) if kept else to_json(value(scope), frozen)
                for name, value, kept in parts}

    return run
