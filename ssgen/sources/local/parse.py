"""Parsing one input file of the local source against its last parse.

Owns ``parse_input``: an NDJSON file re-parsed only where its bytes changed
(``ndjson.diff.reparse``), else parsed whole by its kind (NDJSON, export archive,
Markdown), with the documents it dropped and gained as a ``Splice``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssgen.sources.export import parse_export, restore_assets
from ssgen.sources.markdown_docs import markdown_or_fault
from ssgen.sources.ndjson import Data, Loaded, parse_ndjson
from ssgen.sources.ndjson.diff import Splice, reparse
from ssgen.sources.ndjson.mapped import Kept

if TYPE_CHECKING:
    from ssgen.config.source import SourceConfig
    from ssgen.sources.inputs import Input


def parse_input(source: SourceConfig, item: Input, data: Data,
                previous: tuple[Loaded, Kept | None] | None) -> Splice:
    """The file's new documents against its last parse (``previous``: that parse and
    the bytes it was made from, when kept)."""
    gone = previous[0].documents if previous is not None else []
    if item.kind == "ndjson" and previous is not None and previous[1] is not None:
        splice = reparse(previous[0], previous[1], data)
        if splice is not None:
            return splice
    if item.kind == "export":
        loaded = parse_export(bytes(data), item.display, project_id=source.project_id,
                              dataset=source.dataset)
    elif item.kind == "markdown":
        loaded = markdown_or_fault(bytes(data), item.rel, item.display, source.markdown_type)
    else:
        loaded = parse_ndjson(data, item.display)
        if loaded.has_exported_assets:  # an unpacked `sanity dataset export`
            restore_assets(loaded, {}, source.project_id, source.dataset)
    aligned = len(loaded.digests) == len(loaded.documents)
    return Splice(loaded, gone, loaded.documents, loaded.digests if aligned else [])


__all__ = ["parse_input"]
