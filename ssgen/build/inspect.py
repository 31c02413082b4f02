"""Read-only views of the manifest for ``ssgen inspect``, ``ssgen revalidate`` and serve's
``/api/locations``, and which of the site's queries a kept source (serve) maintains per
document (``--routes``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ssgen.build.change import normalize_path
from ssgen.config.load import Config
from ssgen.errors import ConfigError
from ssgen.groq.shapes import explain, subqueries
from ssgen.manifest.connect import open_state
from ssgen.manifest.store import Manifest


def open_existing(config: Config) -> Manifest:
    """The site's manifest; ConfigError when no build made one yet."""
    path = config.state_dir / "manifest.sqlite"
    if config.state_url is None and not path.exists():
        raise ConfigError(f"no manifest at {path}: run `ssgen build` first")
    return open_state(config.state_dir, config.state_url, fenced=False)


def inspect_page(config: Config, path: str) -> dict[str, Any]:
    """A page's route, template chain, hashes, file and tags."""
    with open_existing(config) as manifest:
        record = manifest.page(normalize_path(path))
        if record is None:
            raise ConfigError(
                f"no page {path!r} in the manifest (list pages: ssgen inspect --tag route:<name>)"
            )
        tags = sorted(manifest.tags_of(record.path))
        failure = next((f.error for f in manifest.failures() if f.path == record.path), None)
    return {
        "path": record.path,
        "route": record.route,
        "file": record.file,
        "template": record.template,
        "templates": sorted(t.removeprefix("template:") for t in tags if t.startswith("template:")),
        "params": record.params,
        "data_hash": record.data_hash,
        "output_hash": record.output_hash,
        "last_error": failure,
        "tags": tags,
    }


def inspect_tag(config: Config, tag: str) -> dict[str, Any]:
    """The pages that depend on ``tag``."""
    with open_existing(config) as manifest:
        pages = sorted(manifest.pages_for_tags([tag]))
    return {"tag": tag, "pages": pages}


def document_types(config: Config, ids: Iterable[str]) -> dict[str, str]:
    """The recorded ``_type`` of each known document id (unknown ids are left out)."""
    wanted = set(ids)
    if not wanted or (config.state_url is None
                      and not (config.state_dir / "manifest.sqlite").exists()):
        return {}
    with open_existing(config) as manifest:
        known = manifest.documents(wanted)  # those rows only, not every document's
    return {i: known[i][0] for i in wanted if i in known}


def document_locations(config: Config, doc_id: str) -> dict[str, Any]:
    """The pages that show a document (its published and draft ids), in the shape of the
    Presentation tool's document locations: ``{"locations": [{"title", "href"}]}``; the
    title is the page's ``<title>`` as last built, else its path."""
    base = doc_id.removeprefix("drafts.")
    with open_existing(config) as manifest:
        paths = sorted(manifest.pages_for_tags([f"doc:{base}", f"doc:drafts.{base}"]))
        records = manifest.pages_at(paths)
    locations = []
    for path in paths:
        record = records.get(path)
        title = _title(config.output_dir / record.file) if record is not None else None
        locations.append({"title": title or path, "href": path})
    return {"locations": locations}


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


def _title(file: Path) -> str | None:
    try:
        with open(file, "rb") as handle:
            head = handle.read(65536)
    except OSError:
        return None
    found = _TITLE.search(head)
    if found is None:
        return None
    import html  # here: ``revalidate --doc`` imports this module, and never a title

    text = html.unescape(found.group(1).decode("utf-8", "replace")).strip()
    return " ".join(text.split()) or None


def route_queries(config: Config) -> list[dict[str, Any]]:
    """Each route query, ``each`` query and ``[data]`` query: whether serve's kept source
    keeps its result up to date per changed document, and if not, why (to fix the query);
    and for each subquery in its projection, whether it is kept per outer document (a
    change patches its sorted result) or evaluated again whenever its outer item is."""
    found: list[tuple[str, str, Any]] = []
    for route in config.routes:
        if route.each_ast is not None:
            found.append((route.name, "each", route.each_ast))
        if route.query_ast is not None:
            found.append((route.name, "query", route.query_ast))
    found += [("[data]", name, query) for name, query in sorted(config.data_ast.items())]
    rows = []
    for name, part, query in found:
        reason = explain(query)
        subs = [] if isinstance(reason, str) else [
            {"name": sub, "maintained": why is None, "reason": why}
            for sub, why in subqueries(reason)]
        rows.append({"route": name, "query": part, "maintained": not isinstance(reason, str),
                     "reason": reason if isinstance(reason, str) else None,
                     "subqueries": subs})
    return rows
