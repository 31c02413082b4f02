"""The classes a source snapshot may hold (``codec.allow``), from sources, routes, config
and groq; ``ssgen.build.memos`` adds its own.

Each is a state class whose construction only assigns its fields (or, for the GROQ
syntax nodes, frozen dataclasses, its slots): a hostile stream that constructs one with
values of its own gets that object, nothing more. ``LocalSource`` itself is not among
them (its constructor reads files): its state is decoded as a plain dict and checked by
``LocalSource.from_state``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ssgen.config.load.model import SiteConfig
from ssgen.groq import nodes
from ssgen.groq.chunks import Chunks
from ssgen.groq.correlated import CorrelatedSubs
from ssgen.groq.correlated import _State as CorrelatedState
from ssgen.groq.dataset import Dataset
from ssgen.groq.dependents import Dependents
from ssgen.groq.maintained import MaintainedQuery
from ssgen.groq.maintained import _Entry as MaintainedEntry
from ssgen.groq.ordered import Descending, Ordered
from ssgen.groq.shapes import Shape
from ssgen.groq.values import SortKey
from ssgen.groq.valuetypes import DateTime
from ssgen.routes.page import PageSpec
from ssgen.routes.paginate import _Expansion as PaginatedExpansion
from ssgen.routes.reuse import ListPages
from ssgen.sources.inputs import Input
from ssgen.sources.local.cached import Cached as CachedFile
from ssgen.sources.local.view import View
from ssgen.sources.ndjson import Fault, Loaded
from ssgen.sources.offsets import Offsets
from ssgen.sources.query_cache import QueryCache
from ssgen.sources.snapshot import codec


def _syntax_nodes() -> list[type]:
    """The GROQ syntax tree's node classes (a maintained query's shape holds them);
    not ``Query``, which carries compiled closures."""
    return [value for value in vars(nodes).values()
            if isinstance(value, type) and value.__module__ == nodes.__name__
            and dataclasses.is_dataclass(value) and value is not nodes.Query]


def register() -> None:
    """Allow the classes a snapshot of a local source holds."""
    codec.allow(
        CachedFile, Loaded, Offsets, Fault, Input, View, QueryCache,
        Dataset, MaintainedQuery, MaintainedEntry, Dependents, Ordered, Descending, Chunks,
        CorrelatedSubs, CorrelatedState, Shape, SortKey, DateTime,
        PageSpec, ListPages, PaginatedExpansion, SiteConfig,
        *_syntax_nodes(),
    )
    # The many small objects of maintained results and route memos (~10k page specs at
    # 10,000 posts), as constructor calls (see codec); the ~60k entries and rows go as
    # columns of their query (``groq.maintained.entry.columns``, ``Ordered``), any held
    # elsewhere as calls.
    codec.construct(MaintainedEntry, _entry_arguments)
    codec.construct(Descending, lambda row_key: (row_key.key,))
    codec.construct(PageSpec, _spec_arguments)


_EMPTY: frozenset[Any] = frozenset()


def _entry_arguments(entry: MaintainedEntry) -> tuple[Any, ...]:
    """Its fields; an empty set as one object, written once (each entry has its own)."""
    return (entry.passes, entry.keys, entry.item, entry.reads or _EMPTY,
            entry.item_reads or _EMPTY, entry.keys_read or _EMPTY, entry.stamp)


_TAGS: dict[str, str] = {}  # one encoding's tags (``forget`` after it)


def _spec_arguments(spec: PageSpec) -> tuple[Any, ...]:
    """Its fields, each tag string as one object across the snapshot's pages: a post
    page's ``doc:`` tags name the same authors, categories and images as 10,000 others,
    each page its own copy of the string (350,000 strings at 10,000 posts, 20,000 of them
    distinct), which the decoder would make again one by one."""
    tags = frozenset([_TAGS.setdefault(tag, tag) for tag in spec.tags])
    return spec.path, spec.route, spec.template, spec.context, tags, spec.params, spec.stamp


def forget() -> None:
    """Drop what the last encoding collected (its tag strings)."""
    _TAGS.clear()


__all__ = ["forget", "register"]
