"""GROQ Documents extension: ``documents::get`` and the incoming GDR count.

A local dataset has no other datasets, so global document references never resolve.
"""

from __future__ import annotations

from typing import Any

from ssgen.groq.functions.registry import FunctionSpec, register
from ssgen.groq.runtime import Scope


def get(scope: Scope, gdr: Any) -> Any:
    """``documents::get(gdr)``: null (no other data sources in a local dataset)."""
    return None


def incoming_count(scope: Scope) -> Any:
    """``documents::incomingGlobalDocumentReferenceCount()``: ``@._incomingGDRCount``."""
    doc = scope.value
    return doc.get("_incomingGDRCount") if type(doc) is dict else None


register(FunctionSpec("documents", "get", 1, 1, get))
register(FunctionSpec("documents", "incomingGlobalDocumentReferenceCount", 0, 0, incoming_count))
