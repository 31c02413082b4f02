"""Content sources: the ``Source`` protocol every source implements, and ``open_source``.

A source answers parsed GROQ queries and reports which documents contributed
(``QueryResult.ids``), which the build turns into ``doc:<_id>`` tags. ``local`` (files)
lives in sources/local.py; ``sanity`` in sources/mirror/ (the default: a synced local copy
queried by the local engine) or, with ``mirror = false``, sources/sanity.py (the HTTP
Query API).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from ssgen.errors import ConfigError
from ssgen.fastclass import dataclass

if TYPE_CHECKING:
    from ssgen.config.load import Config
    from ssgen.groq.maintained import Delta
    from ssgen.groq.nodes import Query


@dataclass(frozen=True, slots=True)
class QueryResult:
    """A query's JSON result and the ``_id``s of the documents that contributed to it;
    for a kept source's maintained list, how it differs from the last one (``delta``:
    ``ssgen.groq.maintained.delta``; None: unknown), and for a maintained one-element
    result, the deltas of its object's nested lists by attribute (``nested``: an author
    and its posts); for a query with scans keyed by ``references()``
    (``ssgen.groq.refkeyed``), the ids those lookups took (``refs``; None: not
    reported). Not part of equality."""

    value: Any
    ids: frozenset[str]
    delta: Delta | None = field(default=None, compare=False)
    nested: Mapping[str, Delta] | None = field(default=None, compare=False)
    refs: frozenset[str] | None = field(default=None, compare=False)


def content_hash(doc: dict[str, Any]) -> str:
    """A hash of a document's content, for change detection (keys in stored order: a
    reorder only costs a spurious re-query). blake2b: fast, and not a security boundary."""
    return hashlib.blake2b(orjson.dumps(doc), digest_size=16).hexdigest()


class Source(Protocol):
    """What the build needs from a content source."""

    def query(self, query: Query, params: Mapping[str, Any] | None = None, *,
              now: datetime | None = None) -> QueryResult:
        """Evaluate one query with ``$params``; ``now`` fixes ``now()``."""
        ...

    def query_many(self, requests: Sequence[tuple[Query, Mapping[str, Any]]], *,
                   now: datetime | None = None, sequences: bool = False) -> list[QueryResult]:
        """Evaluate several queries (a remote source may batch or parallelise them);
        ``sequences``: a list value may be a ``ssgen.groq.chunks.Chunks`` (a kept local
        source's maintained result, not copied into a list: the caller reads it as a
        sequence), else it is a list."""
        ...

    def reload(self) -> None:
        """Pick up content changes since the last load."""
        ...

    def watched_paths(self) -> list[Path]:
        """Files and folders whose changes ``serve --watch`` should react to."""
        ...


def open_source(config: Config, *, drafts: bool = False, kept: bool = False) -> Source:
    """The source ``[source] type`` names; ``drafts`` forces the drafts perspective.

    ``kept``: the caller keeps the source across rebuilds (serve), which lets the local
    source maintain its list queries' results per changed document.
    """
    if config.source.type == "local":
        from ssgen.sources.local import LocalSource

        return LocalSource(config, drafts=drafts, kept=kept)
    if config.source.type == "sanity" and config.source.mirror:
        from ssgen.sources.mirror.source import MirrorSource

        return MirrorSource(config, drafts=drafts, kept=kept)
    if config.source.type == "sanity":
        from ssgen.sources.sanity import SanitySource

        source: Source = SanitySource(config, drafts=drafts)
        return source
    raise ConfigError(f"source.type: unknown source type {config.source.type!r}: "
                      "use \"local\" or \"sanity\"")
