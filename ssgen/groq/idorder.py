"""Lists of documents kept in ``_id`` order: the order of ``*`` and of every index bucket."""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from ssgen.groq.chunks import Chunks
from ssgen.shells import id_of


def id_key(doc: dict[str, Any]) -> str:
    """The sort key of a document: its ``_id``, or "" when it has no string ``_id``."""
    doc_id = id_of(doc)  # an unfilled snapshot shell's from the table, not filled
    return doc_id if type(doc_id) is str else ""


def place(docs: list[dict[str, Any]] | Chunks, doc_id: str, old: dict[str, Any] | None,
          new: dict[str, Any] | None) -> None:
    """In a list in ``_id`` order (unique ids), put ``new`` where ``old`` (or nothing)
    with this ``_id`` is."""
    at = bisect_left(docs, doc_id, key=id_key)
    if old is not None:
        if new is None:
            del docs[at]
        else:
            docs[at] = new
    elif new is not None:
        docs.insert(at, new)
