"""Which enclosing scopes a GROQ expression reads: the basis of constant folding.

``ScopeUse.levels(node)`` is the set of scope levels the node reads relative to the
scope it is evaluated in (0 = ``@``, 1 = ``^``, ...). An expression with no levels gives
the same value anywhere in one evaluation, so the compiler evaluates it once. Nested
scopes (filters, projections, pipe arguments) shift levels by one; Map/FlatMap element
scopes are hidden (groq-js semantics, see runtime.Scope) and shift by zero below them.
"""

from __future__ import annotations

from dataclasses import fields

from ssgen.groq import nodes as n

# Functions that read ``@`` implicitly.
_READS_THIS = frozenset({
    ("global", "references"), ("sanity", "versionOf"), ("sanity", "partOfRelease"),
    ("documents", "incomingGlobalDocumentReferenceCount"),
})
_DATASET_FUNCS = frozenset({("releases", "all")})
_LEAVES = frozenset({n.Value, n.Parameter, n.Context})
_EMPTY: frozenset[int] = frozenset()


def _shift(levels: frozenset[int], hidden: bool) -> frozenset[int]:
    return frozenset(lv if hidden else lv - 1 for lv in levels if lv >= 1)


class ScopeUse:
    """Memoised scope-level analysis over the nodes of one query."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, bool], frozenset[int]] = {}
        self._reads: dict[int, bool] = {}
        self._keep: list[n.Node] = []  # keeps ids stable while memoised

    def levels(self, node: n.Node, hidden: bool = False) -> frozenset[int]:
        """Scope levels (0 = this) that node reads, evaluated in a (hidden) scope."""
        key = (id(node), hidden)
        found = self._memo.get(key)
        if found is None:
            found = self._compute(node, hidden)
            self._memo[key] = found
            self._keep.append(node)
        return found

    def _compute(self, node: n.Node, hidden: bool) -> frozenset[int]:
        if type(node) in _LEAVES:
            return _EMPTY
        if isinstance(node, n.This):
            return frozenset({0})
        if isinstance(node, n.Parent):
            return frozenset({node.n})
        if isinstance(node, n.AccessAttribute):
            return frozenset({0}) if node.base is None else self.levels(node.base, hidden)
        if isinstance(node, n.Filter | n.Projection):
            return self.levels(node.base, hidden) | _shift(self.levels(node.expr), hidden)
        if isinstance(node, n.Map | n.FlatMap):
            inner = self.levels(node.expr, True)
            return self.levels(node.base, hidden) | _shift(inner, hidden)
        if isinstance(node, n.PipeFuncCall):
            inner = frozenset().union(*(self.levels(a) for a in node.args))
            return self.levels(node.base, hidden) | _shift(inner, hidden)
        if isinstance(node, n.CustomFuncCall):
            return self._union(node.args, hidden)
        if isinstance(node, n.FuncCall):
            own = frozenset({0}) if (node.namespace, node.name) in _READS_THIS else frozenset()
            return own | self._union(node.args, hidden)
        return self._union(children(node), hidden)

    def _union(self, children: tuple[n.Node, ...] | list[n.Node], hidden: bool) \
            -> frozenset[int]:
        result: frozenset[int] = frozenset()
        for child in children:
            result = result | self.levels(child, hidden)
        return result

    def reads_dataset(self, node: n.Node) -> bool:
        """Whether evaluating node may scan the dataset (worth caching)."""
        key = id(node)
        found = self._reads.get(key)
        if found is None:
            found = self._compute_reads(node)
            self._reads[key] = found
            self._keep.append(node)
        return found

    def _compute_reads(self, node: n.Node) -> bool:
        if type(node) in _LEAVES:
            return False
        if isinstance(node, n.Everything):
            return True
        if isinstance(node, n.FuncCall) and (node.namespace, node.name) in _DATASET_FUNCS:
            return True
        if isinstance(node, n.CustomFuncCall):
            return True
        return any(self.reads_dataset(child) for child in children(node))


_WRAPPERS = (n.ArrayElement, n.SelectAlternative, n.ObjectAttributeValue, n.ObjectSplat,
             n.ObjectConditionalSplat)
_FIELDS: dict[type, tuple[str, ...]] = {}


def children(node: object) -> list[n.Node]:
    """The direct child nodes of any AST node (including object attributes)."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(
            f.name for f in fields(node))  # type: ignore[arg-type]
    out: list[n.Node] = []
    for name in names:
        value = getattr(node, name)
        if type(value) is tuple:
            for item in value:
                if isinstance(item, _WRAPPERS):
                    out.extend(children(item))
                elif _is_node(item):
                    out.append(item)
        elif _is_node(value) and not isinstance(value, n.CustomFunction):
            out.append(value)
    return out


def _is_node(value: object) -> bool:
    return type(value).__module__ == n.__name__
