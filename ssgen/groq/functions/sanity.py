"""GROQ ``sanity::`` functions: projectId, dataset, versionOf, partOfRelease."""

from __future__ import annotations

from typing import Any

from ssgen.groq.functions.registry import FunctionSpec, register
from ssgen.groq.runtime import Scope


def project_id(scope: Scope) -> Any:
    """``sanity::projectId()``: null for a local dataset."""
    return getattr(scope.ctx.dataset, "project_id", None)


def dataset(scope: Scope) -> Any:
    """``sanity::dataset()``: null for a local dataset."""
    return getattr(scope.ctx.dataset, "name", None)


def version_of(scope: Scope, base_id: Any) -> Any:
    """``sanity::versionOf(id)``: ``@`` is the document, its draft or one of its versions."""
    doc = scope.value
    if type(base_id) is not str or type(doc) is not dict:
        return None
    doc_id = doc.get("_id")
    if type(doc_id) is not str:
        return None
    if doc_id == base_id:
        return True
    parts = doc_id.split(".")
    if len(parts) >= 2 and parts[0] == "drafts" and ".".join(parts[1:]) == base_id:
        return True
    return len(parts) >= 3 and parts[0] == "versions" and ".".join(parts[2:]) == base_id


def part_of_release(scope: Scope, release: Any) -> Any:
    """``sanity::partOfRelease(name)``: ``@`` is a version document in that release."""
    doc = scope.value
    if type(release) is not str or type(doc) is not dict:
        return None
    doc_id = doc.get("_id")
    if type(doc_id) is not str:
        return None
    parts = doc_id.split(".")
    return len(parts) >= 3 and parts[0] == "versions" and parts[1] == release


register(FunctionSpec("sanity", "projectId", 0, 0, project_id))
register(FunctionSpec("sanity", "dataset", 0, 0, dataset))
register(FunctionSpec("sanity", "versionOf", 1, 1, version_of))
register(FunctionSpec("sanity", "partOfRelease", 1, 1, part_of_release))
