"""Run-time state of one GROQ evaluation: the query context and the scope chain.

``Context`` is created once per evaluation (dataset, params, ``now`` read once, the
trace set, delta-mode before/after); ``Scope`` is the spec's scope (this value, parent
scope, root context). Compiled expressions are closures ``Closure = (Scope) -> value``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ssgen.groq.values import DateTime

if TYPE_CHECKING:
    from ssgen.groq.dataset import Dataset


class Context:
    """The query context: what every scope of one evaluation shares."""

    __slots__ = ("after", "before", "cache", "dataset", "delta", "identity", "now", "params",
                 "trace")

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
        self.cache: dict[int, Any] = {}


class Scope:
    """A value with its parent scope; ``ctx`` is the evaluation's shared context."""

    __slots__ = ("ctx", "parent", "value")

    def __init__(self, value: Any, parent: Scope | None, ctx: Context) -> None:
        self.value = value
        self.parent = parent
        self.ctx = ctx

    def nested(self, value: Any) -> Scope:
        """A child scope whose ``@`` is ``value`` (the spec's NewNestedScope)."""
        return Scope(value, self, self.ctx)


Closure = Callable[[Scope], Any]
PipeClosure = Callable[[Scope, Any], Any]
