"""The ``$params`` of ssgen.toml's queries, checked when the config loads.

Owns which parameters each query is given: a route's ``query`` (without ``each``),
its ``each`` query and the ``[data]`` queries get none; the per-page ``query`` of an
``each`` route gets the fields of each ``each`` item, known here when the ``each`` query
ends in a projection without ``...``. A ``$param`` a query uses but is not given is a
config mistake named with ssgen.toml:line and the parameters the route provides, instead
of an error at build time with no location.
"""

from __future__ import annotations

from ssgen.config.toml import TomlContext
from ssgen.errors import ConfigError
from ssgen.groq import nodes as n
from ssgen.groq.evaluate import parameters
from ssgen.groq.nodes import Query


def check_params(query: Query | None, given: frozenset[str] | None, key: str,
                 ctx: TomlContext) -> None:
    """Raise naming ``key`` when ``query`` uses a ``$param`` not in ``given`` (None:
    not known statically, so not checked)."""
    if query is None or given is None:
        return
    missing = sorted(parameters(query) - given)
    if not missing:
        return
    names = ", ".join(f"${name}" for name in missing)
    raise _error(names, given, key, ctx)


def item_fields(each: Query) -> frozenset[str] | None:
    """The fields of every item of an ``each`` query's result, when its shape says
    (``*[...]{"slug": slug.current, year}``, sorted or sliced); None otherwise."""
    node = each.root
    while isinstance(node, n.Slice | n.PipeFuncCall | n.Filter | n.Group):
        node = node.base
    if not (isinstance(node, n.Map) and isinstance(node.expr, n.Projection)
            and isinstance(node.expr.expr, n.Object)):
        return None
    attributes = node.expr.expr.attributes
    if not all(isinstance(a, n.ObjectAttributeValue) for a in attributes):
        return None
    return frozenset(a.name for a in attributes if isinstance(a, n.ObjectAttributeValue))


def _error(names: str, given: frozenset[str], key: str, ctx: TomlContext) -> ConfigError:
    if key.endswith(".query") and given:
        provided = ", ".join(f"${name}" for name in sorted(given))
        return ctx.error(key, f"uses {names}, but the items of `each` give only {provided} "
                              "(add the field to the `each` projection, or fix the name)")
    if key.endswith(".query"):
        return ctx.error(key, f"uses {names}, but this route gives its query no parameters "
                              "(a route gets $params from the items of an `each` query)")
    return ctx.error(key, f"uses {names}, but this query is given no parameters")
