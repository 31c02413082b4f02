"""ssgen's GROQ engine (pure Python, no I/O): the public API.

    from ssgen.groq import parse, Dataset, evaluate
    query = parse('*[_type == "post" && slug.current == $slug][0]{..., author->}')
    data = Dataset(documents)                  # built once, indexed
    query.evaluate(data, {"slug": "hello"})    # plain JSON
    ids: set[str] = set()
    query.evaluate(data, {"slug": "hello"}, trace=ids)   # + contributing _ids
    evaluate('count(*[_type == "post"])', documents)     # one-off

Results are plain JSON that may share objects with the dataset (documents returned by
``*``) and with the compiled query (literal arrays/objects): treat them as read-only and
copy before mutating.

Errors: ``GroqSyntaxError`` (parse time, with line/column and ``.render()``) and
``GroqEvaluationError`` (run time, e.g. a missing ``$param``), both ``GroqError``.

Inside, imports point one way: lexer/parser -> nodes (the AST, imports nothing of the
engine; ``Query.evaluate`` is bound by evaluate.py); functions/registry <- the namespace
modules, loaded by functions/__init__; compile -> traverse -> plan -> dataset ->
refindex (the indexes); evaluate -> compile; shapes/dependents <- maintained (results
kept across ``Dataset.update``, with each update's delta). This package imports only
``ssgen.errors``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ssgen.errors import GroqError, GroqEvaluationError, GroqSyntaxError
from ssgen.groq.dataset import Dataset
from ssgen.groq.evaluate import evaluate_query
from ssgen.groq.nodes import Query
from ssgen.groq.parser import parse

# Importing the submodule ``ssgen.groq.evaluate`` set it as this package's attribute
# ``evaluate``; the function defined below replaces it (keep this order).

__all__ = [
    "Dataset",
    "GroqError",
    "GroqEvaluationError",
    "GroqSyntaxError",
    "Query",
    "evaluate",
    "parse",
]


def evaluate(
    text: str,
    documents: Dataset | Iterable[dict[str, Any]],
    params: Mapping[str, Any] | None = None,
    now: Any = None,
    *,
    trace: set[str] | None = None,
) -> Any:
    """Parse and evaluate a query in one go (for one-offs; reuse ``parse`` otherwise)."""
    return evaluate_query(parse(text, params), documents, params, now, trace=trace)
