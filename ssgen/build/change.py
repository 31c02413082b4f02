"""A ``Change``: what happened, in the terms the planner understands.

Webhooks, ``serve --watch``, ``ssgen revalidate`` and incremental ``ssgen build`` all
describe their news as a Change; changes that arrive while a rebuild runs are merged
(``Change.merge``) and applied together. A Change round-trips through JSON so it can
wait in the manifest's durable queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import field
from typing import Any, Literal, cast

from ssgen.errors import WebhookError
from ssgen.fastclass import dataclass
from ssgen.routes.paths import canonical_path

Operation = Literal["create", "update", "delete"]
OPERATIONS: frozenset[str] = frozenset({"create", "update", "delete"})


@dataclass(frozen=True, slots=True)
class DocChange:
    """One document that changed; ``type`` may be unknown (None) for a bare id."""

    id: str
    type: str | None = None
    operation: Operation = "update"
    rev: str | None = None


@dataclass(frozen=True)
class Change:
    """Documents, tags, URL paths and template files that changed, or everything."""

    documents: tuple[DocChange, ...] = ()
    tags: frozenset[str] = frozenset()
    paths: frozenset[str] = frozenset()
    templates: frozenset[str] = frozenset()
    everything: bool = False
    reasons: tuple[str, ...] = field(default=(), compare=False)

    @property
    def empty(self) -> bool:
        """True when the change asks for nothing."""
        return not (
            self.documents or self.tags or self.paths or self.templates or self.everything
        )

    def merge(self, other: Change) -> Change:
        """Both changes at once (the later document entry for an id wins)."""
        docs = {doc.id: doc for doc in (*self.documents, *other.documents)}
        return Change(
            documents=tuple(docs.values()),
            tags=self.tags | other.tags,
            paths=self.paths | other.paths,
            templates=self.templates | other.templates,
            everything=self.everything or other.everything,
            reasons=self.reasons + other.reasons,
        )

    def doc_tags(self) -> set[str]:
        """The manifest tags the changed documents hit: ``doc:<id>``, ``type:<t>``, ``type:*``.

        A document of unknown type may be of any type, so every ``type:`` tag matches it:
        the caller handles that through ``unknown_types``.
        """
        tags: set[str] = set()
        for doc in self.documents:
            tags.add(f"doc:{doc.id}")
            published = doc.id.removeprefix("drafts.")
            tags.add(f"doc:{published}")
            if doc.type is not None:
                tags.add(f"type:{doc.type}")
        if self.documents:
            tags.add("type:*")
        return tags

    @property
    def unknown_types(self) -> bool:
        """True when some changed document's type is not known."""
        return any(doc.type is None for doc in self.documents)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form for the durable queue."""
        return {
            "documents": [
                {"id": d.id, "type": d.type, "operation": d.operation, "rev": d.rev}
                for d in self.documents
            ],
            "tags": sorted(self.tags),
            "paths": sorted(self.paths),
            "templates": sorted(self.templates),
            "everything": self.everything,
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> Change:
        """The inverse of ``to_json``; a malformed payload raises WebhookError (400)."""
        try:
            docs = tuple(_doc(item) for item in payload.get("documents", []))
            return cls(
                documents=docs,
                tags=frozenset(_strings(payload.get("tags", []), "tags")),
                paths=frozenset(
                    normalize_path(p) for p in _strings(payload.get("paths", []), "paths")
                ),
                templates=frozenset(_strings(payload.get("templates", []), "templates")),
                everything=bool(payload.get("everything", False)),
                reasons=tuple(_strings(payload.get("reasons", []), "reasons")),
            )
        except (TypeError, AttributeError) as exc:
            raise WebhookError(f"malformed change: {exc}") from exc


def normalize_path(path: str) -> str:
    """A URL path as the manifest stores it: leading slash, no query or fragment, and a
    trailing slash unless the last segment is a file name (``/about`` -> ``/about/``,
    ``/feed.xml`` stays), as pages are written (see ``output.url_to_file``), in the
    canonical encoding (``/caf%C3%A9/`` for ``/café/``)."""
    path = path.split("?", 1)[0].split("#", 1)[0].strip()
    if not path.startswith("/"):
        path = "/" + path
    if not path.endswith("/") and "." not in path.rsplit("/", 1)[1]:
        path += "/"
    return canonical_path(path)


def _doc(item: Any) -> DocChange:
    if isinstance(item, str):
        return DocChange(item)
    if not isinstance(item, Mapping) or not isinstance(item.get("id"), str) or not item["id"]:
        raise WebhookError("each document needs a non-empty string `id`")
    operation = item.get("operation") or "update"
    if operation not in OPERATIONS:
        raise WebhookError(
            f"document operation must be create, update or delete, not {operation!r}"
        )
    doc_type = item.get("type")
    rev = item.get("rev")
    return DocChange(
        item["id"],
        doc_type if isinstance(doc_type, str) else None,
        cast(Operation, operation),
        rev if isinstance(rev, str) else None,
    )


def _strings(value: Any, key: str) -> Iterable[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WebhookError(f"`{key}` must be a string or a list of strings")
    return value
