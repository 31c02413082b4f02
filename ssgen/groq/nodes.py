"""The GROQ abstract syntax tree: one frozen dataclass per node type.

The node set follows groq-js (the reference implementation) so that the traversal
lowering of the spec (``a.b[].c->d``, see spec section 8) maps one to one: the parser
turns traversals into ``Map``/``FlatMap``/``AccessAttribute``/... nodes and the
evaluator has exactly one evaluator per node type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field
from typing import Any, Literal

from ssgen.fastclass import dataclass

# --- leaves -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Value:
    """A literal: null, boolean, number (int or float) or string."""

    value: Any


@dataclass(frozen=True, slots=True)
class Everything:
    """``*``: every document of the dataset."""


@dataclass(frozen=True, slots=True)
class This:
    """``@``: the current value of the scope."""


@dataclass(frozen=True, slots=True)
class Parent:
    """``^`` (n=1), ``^.^`` (n=2), ...: a value of an enclosing scope."""

    n: int


@dataclass(frozen=True, slots=True)
class Parameter:
    """``$name``: a query parameter (or a custom function's argument)."""

    name: str


@dataclass(frozen=True, slots=True)
class Context:
    """``before()`` / ``after()`` in delta mode: key is "before" or "after"."""

    key: Literal["before", "after"]


# --- traversal (lowered by the parser, spec section 8) ---------------------------------


@dataclass(frozen=True, slots=True)
class AccessAttribute:
    """``base.name``, or a bare identifier ``name`` (base None: attribute of ``@``)."""

    base: Node | None
    name: str


@dataclass(frozen=True, slots=True)
class AccessElement:
    """``base[index]`` with a constant integer index (negative counts from the end)."""

    base: Node
    index: int


@dataclass(frozen=True, slots=True)
class Slice:
    """``base[left..right]`` (inclusive) or ``base[left...right]``; constant bounds."""

    base: Node
    left: int
    right: int
    is_inclusive: bool


@dataclass(frozen=True, slots=True)
class Filter:
    """``base[expr]`` where expr is a boolean filter."""

    base: Node
    expr: Node


@dataclass(frozen=True, slots=True)
class Projection:
    """``base{...}`` applied to one value (the parser wraps it in Map for arrays)."""

    base: Node
    expr: Node


@dataclass(frozen=True, slots=True)
class Deref:
    """``base->``: follow a reference (``_ref``) to the document with that ``_id``."""

    base: Node


@dataclass(frozen=True, slots=True)
class ArrayCoerce:
    """``base[]``: the value if it is an array, else null."""

    base: Node


@dataclass(frozen=True, slots=True)
class Map:
    """For each element of ``base`` (an array), evaluate ``expr`` with it as ``@``."""

    base: Node
    expr: Node


@dataclass(frozen=True, slots=True)
class FlatMap:
    """Like Map, and arrays produced by ``expr`` are flattened one level."""

    base: Node
    expr: Node


@dataclass(frozen=True, slots=True)
class Group:
    """``(expr)``: kept so that ``(a.b)[0]`` and ``a.b[0]`` lower differently."""

    base: Node


# --- compound literals --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArrayElement:
    """One element of an array literal; ``is_splat`` for ``...expr``."""

    value: Node
    is_splat: bool = False


@dataclass(frozen=True, slots=True)
class Array:
    """``[a, ...b, c]``."""

    elements: tuple[ArrayElement, ...]


@dataclass(frozen=True, slots=True)
class ObjectAttributeValue:
    """``"name": value`` (or a shorthand such as ``title`` / ``author->name``)."""

    name: str
    value: Node


@dataclass(frozen=True, slots=True)
class ObjectConditionalSplat:
    """``condition => {...}``: splat the object when condition is true."""

    condition: Node
    value: Node


@dataclass(frozen=True, slots=True)
class ObjectSplat:
    """``...`` (value is This) or ``...expr``."""

    value: Node


ObjectAttribute = ObjectAttributeValue | ObjectConditionalSplat | ObjectSplat


@dataclass(frozen=True, slots=True)
class Object:
    """``{ ... }``; attributes in source order (later keys win)."""

    attributes: tuple[ObjectAttribute, ...]


@dataclass(frozen=True, slots=True)
class Tuple:
    """``(a, b, ...)``: only valid as a function argument (e.g. diff selectors)."""

    members: tuple[Node, ...]


# --- operators ----------------------------------------------------------------------------

OpName = Literal[
    "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "**", "in", "match"
]


@dataclass(frozen=True, slots=True)
class OpCall:
    """A binary operator other than ``&&``/``||`` and ranges."""

    op: OpName
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class And:
    """``left && right`` with three-valued logic."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or:
    """``left || right`` with three-valued logic."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not:
    """``!base``."""

    base: Node


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary ``-base``."""

    base: Node


@dataclass(frozen=True, slots=True)
class Pos:
    """Unary ``+base``."""

    base: Node


@dataclass(frozen=True, slots=True)
class InRange:
    """``base in left..right`` (inclusive) / ``base in left...right``."""

    base: Node
    left: Node
    right: Node
    is_inclusive: bool


@dataclass(frozen=True, slots=True)
class Asc:
    """``expr asc`` inside ``order()``."""

    base: Node


@dataclass(frozen=True, slots=True)
class Desc:
    """``expr desc`` inside ``order()``."""

    base: Node


@dataclass(frozen=True, slots=True)
class SelectAlternative:
    """``condition => value`` inside ``select()``."""

    condition: Node
    value: Node


@dataclass(frozen=True, slots=True)
class Select:
    """``select(c1 => v1, c2 => v2, fallback)``."""

    alternatives: tuple[SelectAlternative, ...]
    fallback: Node | None


# --- calls -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FuncCall:
    """``ns::name(args)`` of a built-in function; namespace "global" when none is written."""

    namespace: str
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class PipeFuncCall:
    """``base | name(args)``: ``order``, ``score`` and other pipe functions."""

    base: Node
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class CustomFunction:
    """``fn ns::name($a, $b) = body;`` declared at the top of a query."""

    namespace: str
    name: str
    params: tuple[str, ...]
    body: Node


@dataclass(frozen=True, slots=True)
class CustomFuncCall:
    """A call of a declared custom function; its args bind the function's params."""

    function: CustomFunction
    args: tuple[Node, ...]


Node = (
    Value | Everything | This | Parent | Parameter | Context
    | AccessAttribute | AccessElement | Slice | Filter | Projection | Deref | ArrayCoerce
    | Map | FlatMap | Group | Array | Object | Tuple
    | OpCall | And | Or | Not | Neg | Pos | InRange | Asc | Desc | Select
    | FuncCall | PipeFuncCall | CustomFuncCall
)


# ``Query.evaluate`` runs the evaluator, which is built on these nodes: evaluate.py binds
# it here when imported (the package's __init__ imports it), so this module imports none.
_evaluator: list[Callable[..., Any]] = []


def bind_evaluator(evaluator: Callable[..., Any]) -> None:
    """Install the function behind ``Query.evaluate`` (evaluate.py calls it once)."""
    _evaluator[:] = [evaluator]


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: its root expression, the source text and declared functions.

    ``compiled`` caches the evaluator's closure for the root (the evaluator lives
    apart from the AST, see ``bind_evaluator``).
    """

    root: Node
    text: str
    functions: tuple[CustomFunction, ...] = ()
    compiled: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def evaluate(
        self,
        dataset: Any,
        params: dict[str, Any] | None = None,
        now: Any = None,
        *,
        trace: set[str] | None = None,
        keys: set[Any] | None = None,
    ) -> Any:
        """Run the query over a ``Dataset``; ``trace`` collects contributing ``_id``s,
        ``keys`` the index keys its filters over ``*`` looked up (``runtime.Context``)."""
        return _evaluator[0](self, dataset, params, now, trace=trace, keys=keys)
