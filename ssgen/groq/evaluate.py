"""Running a parsed GROQ query: ``evaluate_query`` (behind ``Query.evaluate``).

Builds the query context (dataset, params, ``now`` read once, trace), compiles the
query once (cached on the Query) and runs the root closure. Results are plain JSON
values (datetimes as RFC 3339 strings).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ssgen.errors import GroqEvaluationError
from ssgen.groq.chunks import Chunks
from ssgen.groq.compile import Compiler
from ssgen.groq.dataset import Dataset
from ssgen.groq.nodes import Parameter, Query, bind_evaluator
from ssgen.groq.plainness import json_only
from ssgen.groq.runtime import Closure, Context, Scope
from ssgen.groq.scopeuse import children
from ssgen.groq.values import DateTime, from_json, to_json


def compiled_root(query: Query, *, indexes: bool = True) -> Closure:
    """The root closure of a query, compiled on first use and kept on the Query
    (``indexes`` False: without index plans, see ``Compiler``)."""
    name = "root" if indexes else "plain root"
    root = query.compiled.get(name)
    if root is None:
        root = Compiler(indexes=indexes).compile(query.root)
        query.compiled[name] = root
    closure: Closure = root
    return closure


def parameters(query: Query) -> frozenset[str]:
    """The ``$param`` names a query uses (outside custom function bodies)."""
    found = query.compiled.get("params")
    if found is None:
        names: set[str] = set()
        stack: list[Any] = [query.root]
        while stack:
            node = stack.pop()
            if isinstance(node, Parameter):
                names.add(node.name)
            stack.extend(children(node))
        found = query.compiled["params"] = frozenset(names)
    result: frozenset[str] = found
    return result


def check_params(query: Query, params: Mapping[str, Any] | None) -> None:
    """Raise GroqEvaluationError naming the first ``$param`` the query uses but lacks."""
    missing = sorted(parameters(query) - set(params or {}))
    if missing:
        names = ", ".join(f"${name}" for name in missing)
        raise GroqEvaluationError(f"missing query parameter {names}")


def as_dataset(data: Dataset | Iterable[dict[str, Any]]) -> Dataset:
    """A Dataset as is, or one built from an iterable of documents."""
    return data if isinstance(data, Dataset) else Dataset(data)


def query_now(now: Any) -> DateTime:
    """The query's ``now()``: the given datetime (aware), DateTime or RFC 3339 string."""
    if now is None:
        return DateTime.from_datetime(datetime.now(UTC))
    if isinstance(now, DateTime):
        return now
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise GroqEvaluationError("now must be a timezone-aware datetime")
        return DateTime.from_datetime(now)
    if isinstance(now, str):
        parsed = DateTime.parse(now)
        if parsed is not None:
            return parsed
    raise GroqEvaluationError(f"now must be a timezone-aware datetime, not {now!r}")


def query_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """JSON params as evaluation values; GroqEvaluationError for a bad mapping."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise GroqEvaluationError(f"params must be a mapping, not {type(params).__name__}")
    out = {}
    for key, value in params.items():
        if not isinstance(key, str):
            raise GroqEvaluationError(f"parameter names must be strings, not {key!r}")
        out[key] = from_json(value)
    return out


def evaluate_query(
    query: Query,
    dataset: Dataset | Iterable[dict[str, Any]],
    params: Mapping[str, Any] | None = None,
    now: Any = None,
    *,
    trace: set[str] | None = None,
    before: Any = None,
    after: Any = None,
    identity: str = "me",
    indexes: bool = True,
    keys: set[Any] | None = None,
) -> Any:
    """Evaluate a parsed query over a dataset; see ``Query.evaluate``. ``indexes``
    False scans instead of using the dataset's indexes (same result and order)."""
    check_params(query, params)
    root = compiled_root(query, indexes=indexes)
    data = as_dataset(dataset)
    ctx = Context(data, query_params(params), query_now(now), trace, identity=identity,
                  before=before, after=after, delta=before is not None or after is not None)
    ctx.keys = keys
    try:
        result = root(Scope(None, None, ctx))
    except RecursionError as exc:
        raise GroqEvaluationError("query nests too deeply to evaluate") from exc
    documents = data.documents  # ``*``'s list is the dataset's, not the caller's
    if result is documents or (type(documents) is Chunks and documents.made(result)):
        result = list(result)
    return result if json_only(query) else to_json(result, data.holds)


bind_evaluator(evaluate_query)
