"""Which files make up a local site's dataset: their ``Layout``, the ``Input`` list in
load order (dataset files, then Markdown; a mirrored Sanity site's snapshot), and the
Markdown parse cache of a layout. Nothing here reads a file's bytes (the package does).
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ssgen.sources.filecache import FileCache, cache_key
from ssgen.sources.listing import listed_files
from ssgen.sources.markdown_docs import MARKDOWN_SUFFIXES, find_files

if TYPE_CHECKING:
    from ssgen.config.load import Config

DATASET_SUFFIXES = (".ndjson", ".jsonl", ".tar.gz", ".tgz")
LISTING = "markdown.listing"  # the Markdown folder's listing (ssgen.sources.listing)


class Layout(NamedTuple):
    """What decides a local site's input files and parse cache: its folder and the
    ``[source]`` values they come from (``layout``; plain values, kept across processes
    by ``ssgen.build.ahead``)."""

    site_dir: str
    source_type: str
    files: tuple[str, ...] | None
    markdown_dir: str
    markdown_type: str


def layout(config: Config) -> Layout:
    """``config``'s ``Layout``."""
    source = config.source
    return Layout(str(config.site_dir), source.type, source.files, source.markdown_dir,
                  source.markdown_type)


def markdown_cache(config: Config) -> FileCache | None:
    """The site's persisted Markdown parses (None without ``markdown_dir``)."""
    return cache_of(layout(config))


def cache_of(site: Layout) -> FileCache | None:
    """``markdown_cache`` of a site's ``Layout``."""
    if not site.markdown_dir or site.source_type != "local":
        return None
    key = cache_key(posixpath.normpath(site.markdown_dir), site.markdown_type)
    return FileCache.load(Path(site.site_dir, ".ssgen", "markdown.cache"), key)


class Input(NamedTuple):
    """One file of the local dataset: where it is, how errors name it, how to read it."""

    path: str
    display: str
    kind: str  # "ndjson" | "export" | "markdown"
    rel: str  # Markdown: the path under markdown_dir (gives _id and slug)


def snapshot_path(config: Config) -> Path:
    """Where a Sanity site's mirror snapshot lives (``ssgen.sources.mirror`` writes it)."""
    return config.state_dir / "mirror" / f"{config.source.dataset}.ndjson"


def site_inputs(config: Config) -> list[Input]:
    """The files of the dataset, in load order (dataset files first, then Markdown); for
    a mirrored Sanity site, the mirror's snapshot alone."""
    if config.source.type == "sanity":
        path = snapshot_path(config)
        return [Input(str(path), path.relative_to(config.site_dir).as_posix(), "ndjson",
                      path.name)]
    return inputs_of(layout(config))


def inputs_of(site: Layout) -> list[Input]:
    """``site_inputs`` of a local site's ``Layout``."""
    folder_of_site = Path(site.site_dir)
    if site.files is not None:
        names = [posixpath.normpath(name) for name in site.files]
    else:
        names = [f"content/{rel}"
                 for rel in find_files(folder_of_site / "content", DATASET_SUFFIXES)]
    inputs = [Input(os.path.join(site.site_dir, name), name,
                    "export" if name.endswith((".tar.gz", ".tgz")) else "ndjson", name)
              for name in names]
    if site.markdown_dir:
        folder = posixpath.normpath(site.markdown_dir)
        base = os.path.join(site.site_dir, folder, "")  # joined once: os.path.join per file costs
        found = listed_files(folder_of_site / folder, MARKDOWN_SUFFIXES,
                             folder_of_site / ".ssgen" / LISTING)
        inputs += [Input(base + rel, f"{folder}/{rel}", "markdown", rel) for rel in found]
    return inputs


def unread_files(config: Config) -> list[str]:
    """``content/`` files that look like data but that the local source does not read
    (``*.json``: a JSON file is not one document a line), for a warning naming them."""
    if config.source.type != "local" or config.source.files is not None:
        return []
    return [f"content/{rel}" for rel in find_files(config.content_dir, (".json",))]
