"""The manifest's row records and their conversions.

Owns ``PageRecord``, ``FileRecord`` and ``Failure``, the ``pages`` row of a record and the
record of a row (``page_row``, ``page_record``, params and tags as canonical JSON), the
JSON codec that names what it failed on (``dumps``, ``loads``) and ``chunks``, which keeps
an ``IN (...)`` query's bound parameters under SQLite's limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import Any

import orjson

from ssgen.errors import ManifestError
from ssgen.fastclass import dataclass
from ssgen.memos import site_memo

FILE_KINDS = frozenset({"page", "static", "generated"})
CHUNK = 500  # bound parameters per IN (...) query


@dataclass(frozen=True, slots=True)
class PageRecord:
    """One built page as the manifest remembers it."""

    path: str
    route: str
    params: dict[str, Any]
    template: str
    data_hash: str
    output_hash: str
    file: str


@dataclass(frozen=True, slots=True)
class FileRecord:
    """An output file ssgen wrote: its hash, why it exists, and its size and mtime (ns)
    when written (-1: unknown), so a later build can notice it was changed from outside."""

    relpath: str
    hash: str
    kind: str
    size: int = -1
    mtime_ns: int = -1


@dataclass(frozen=True, slots=True)
class Failure:
    """A page whose last render failed; its previous file was kept."""

    path: str
    route: str
    error: str


PAGE_SELECT = "SELECT path, route, params, template, data_hash, output_hash, file FROM pages"



# Per page path, a large tag set, the image tags added to it and their text: a list's
# first page carries every id its query read (the home and blog pages 100,000 at 100k,
# an author or category 7,000-40,000), rendered again each serve round that touches
# one of its posts with the very same set (``routes.page.page_tags``); sorting and
# encoding 40,000 tags again cost ~10 ms a page.
_TAG_TEXTS: dict[str, tuple[AbstractSet[str], frozenset[str], str]] = site_memo()
_KEEP_FROM = 256


def page_row(record: PageRecord, tags: Iterable[str],
             images: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The ``pages`` row of a record (params and sorted tags as canonical JSON); its
    tags are ``tags`` with ``images`` (the image variants' tags its render used)."""
    params = dumps(record.params, f"params of page {record.path!r}")
    return (
        record.path,
        record.route,
        params,
        record.template,
        record.data_hash,
        record.output_hash,
        record.file,
        tag_text(record.path, tags, images),
    )


def tag_text(path: str, tags: Iterable[str], images: frozenset[str] = frozenset()) -> str:
    """The canonical JSON of ``tags`` with ``images``, sorted: the last text of the page
    at ``path`` while its tags are the very set (a frozenset, so unchanged) and its
    images equal."""
    if not isinstance(tags, frozenset) or len(tags) < _KEEP_FROM:
        return _text(path, {str(tag) for tag in tags}.union(images))
    last = _TAG_TEXTS.get(path)
    if last is not None and last[0] is tags and last[1] == images:
        return last[2]
    text = _text(path, {str(tag) for tag in tags}.union(images))
    _TAG_TEXTS[path] = (tags, frozenset(images), text)
    return text


def _text(path: str, tags: set[str]) -> str:
    return dumps(sorted(tags), f"tags of page {path!r}")


def page_record(row: tuple[Any, ...]) -> PageRecord:
    """A record from a ``PAGE_SELECT`` row."""
    path, route, params, template, data_hash, output_hash, file = row
    decoded = loads(params, f"params of page {path!r}")
    return PageRecord(path, route, decoded, template, data_hash, output_hash, file)


def dumps(value: Any, what: str) -> str:
    """Canonical JSON text (sorted keys); ManifestError naming ``what`` if impossible."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError as exc:
        raise ManifestError(f"{what} is not JSON-serialisable: {exc}") from exc


def loads(text: str, what: str) -> Any:
    """Parse stored JSON; ManifestError naming ``what`` if it is damaged."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ManifestError(f"manifest is damaged: {what} is not valid JSON") from exc


def chunks(items: list[str]) -> Iterator[list[str]]:
    """``items`` in slices small enough for one query's bound parameters."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
