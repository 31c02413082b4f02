"""Run-time state of one GROQ evaluation: the query context and the scope chain.

``Context`` is created once per evaluation (dataset, params, ``now`` read once, the
trace set, delta-mode before/after); ``Scope`` is the spec's scope (this value, parent
scope, root context). Compiled expressions are closures ``Closure = (Scope) -> value``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ssgen.groq.values import DateTime

if TYPE_CHECKING:
    from ssgen.groq.dataset import Dataset
    from ssgen.groq.nodes import Node
    from ssgen.groq.scopeuse import ScopeUse


class Context:
    """The query context: what every scope of one evaluation shares."""

    __slots__ = ("after", "before", "cache", "dataset", "delta", "identity", "keys", "now",
                 "params", "trace", "traces")

    def __init__(
        self,
        dataset: Dataset,
        params: dict[str, Any],
        now: DateTime,
        trace: set[str] | None = None,
        *,
        identity: str = "me",
        before: Any = None,
        after: Any = None,
        delta: bool = False,
    ) -> None:
        self.dataset = dataset
        self.params = params
        self.now = now
        self.trace = trace
        self.identity = identity
        self.before = before
        self.after = after
        self.delta = delta
        # Values of parent-free subexpressions, computed once per evaluation.
        self.cache: dict[Any, Any] = {}
        # When a set: the index keys that filters over * looked up, and ALL_KEYS for a
        # scan (maintained/ re-evaluates a document when a change can alter them).
        self.keys: set[Any] | None = None
        # When set, ``(a trace set, a list)``: the read traces of kept correlated
        # subqueries (frozensets, 10,000 ids each) that belong in that set are listed
        # instead of copied into it (maintained/ unions them only when they changed).
        self.traces: tuple[set[str], list[frozenset[str]]] | None = None

    def with_params(self, params: dict[str, Any]) -> Context:
        """A context for a custom function body: same data, params overlaid."""
        ctx = Context(self.dataset, {**self.params, **params}, self.now, self.trace,
                      identity=self.identity, before=self.before, after=self.after,
                      delta=self.delta)
        ctx.keys = self.keys
        return ctx


class Scope:
    """A value with its parent scope; ``ctx`` is the evaluation's shared context.

    A *hidden* scope (the per-element scope of a Map/FlatMap, as in groq-js) is skipped
    as a parent: scopes nested in it hang off its parent, so ``^`` inside ``a[]{...}``
    reaches the scope around ``a``, not the element.
    """

    __slots__ = ("ctx", "hidden", "parent", "value")

    def __init__(self, value: Any, parent: Scope | None, ctx: Context,
                 hidden: bool = False) -> None:
        self.value = value
        self.parent = parent
        self.ctx = ctx
        self.hidden = hidden

    def nest_parent(self) -> Scope | None:
        """The parent that a scope nested in this one gets."""
        return self.parent if self.hidden else self

    def nested(self, value: Any) -> Scope:
        """A child scope whose ``@`` is ``value`` (the spec's NewNestedScope)."""
        return Scope(value, self.parent if self.hidden else self, self.ctx)


Closure = Callable[[Scope], Any]
ALL_KEYS = "*"  # in Context.keys: the evaluation scanned the dataset
# In Context.keys, (WATCH, id): re-evaluate when that document changes, though the
# evaluation did not read it (a kept subquery's candidate that did not pass).
WATCH = "#watch"
PipeClosure = Callable[[Scope, Any], Any]


class NodeCompiler(Protocol):
    """What the closure builders outside compile.py (traverse.py, plans) need of the
    compiler: compiling a child node, and its scope-use analysis."""

    uses: ScopeUse
    indexes: bool  # False: plan no index lookups (scan)

    def compile(self, node: Node) -> Closure:
        """The closure for a node."""
        ...
