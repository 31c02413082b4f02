"""Query stage of the build: run the ``[data]`` and route queries, expand them into pages.

Owns the order of queries against a source (globals first, then each route; per-page
queries of ``each`` routes go through ``Source.query_many`` so a remote source can batch
them) and the built-in 404 page. Route expansion itself is pure and lives in routes.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ssgen.config import Config, RouteConfig
from ssgen.errors import ConfigError, GroqError
from ssgen.groq.analysis import scanned_types
from ssgen.groq.nodes import Query
from ssgen.routes import PageResult, PageSpec, check_unique, each_params, expand_route
from ssgen.sources import QueryResult, Source

NOT_FOUND_TEMPLATE = "404.html"
NOT_FOUND_PATH = "/404.html"


def query_globals(config: Config, source: Source, now: datetime) -> dict[str, Any]:
    """The results of the ``[data]`` queries, by name."""
    names = list(config.data_ast)
    requests = [(config.data_ast[name], {}) for name in names]
    results = _run(source, requests, now, "data")
    return {name: result.value for name, result in zip(names, results, strict=True)}


def collect_pages(
    config: Config, source: Source, data: dict[str, Any], now: datetime
) -> list[PageSpec]:
    """Every page of the site with its context and tags; duplicate paths are an error."""
    pages: list[PageSpec] = []
    for route in config.routes:
        pages.extend(route_pages(config, route, source, data, now))
    if (config.templates_dir / NOT_FOUND_TEMPLATE).is_file() and not any(
        page.path == NOT_FOUND_PATH for page in pages
    ):
        pages.append(not_found_page(config, data))
    check_unique(pages)
    return pages


def route_pages(
    config: Config, route: RouteConfig, source: Source, data: dict[str, Any], now: datetime
) -> list[PageSpec]:
    """The pages of one route, from its query (and per-page queries for ``each`` routes)."""
    main_ast = route.each_ast if route.each_ast is not None else route.query_ast
    assert main_ast is not None  # config guarantees a query
    main = _run(source, [(main_ast, {})], now, f"routes.{route.name}")[0]
    page_results: list[PageResult | None] | None = None
    page_types: frozenset[str] | None = frozenset()
    if route.each_ast is not None:
        assert route.query_ast is not None
        params = each_params(route, main.value)
        results = _run(source, [(route.query_ast, p) for p in params], now, f"routes.{route.name}")
        page_results = [PageResult(r.value, r.ids) for r in results]
        page_types = scanned_types(route.query_ast)
    return expand_route(
        route,
        main.value,
        result_ids=main.ids,
        scanned_types=scanned_types(main_ast),
        site=config.site,
        data=data,
        page_results=page_results,
        page_scanned_types=page_types,
    )


def not_found_page(config: Config, data: dict[str, Any]) -> PageSpec:
    """The built-in ``/404.html`` page, rendered from ``templates/404.html``."""
    context = {
        "site": config.site,
        "data": data,
        "page": {},
        "route": "404",
        "path": NOT_FOUND_PATH,
        "url": config.site.base_url.rstrip("/") + NOT_FOUND_PATH,
    }
    tags = frozenset({"route:404", *(f"global:{name}" for name in data)})
    return PageSpec(NOT_FOUND_PATH, "404", NOT_FOUND_TEMPLATE, context, tags)


def _run(
    source: Source, requests: list[tuple[Query, dict[str, Any]]], now: datetime, key: str
) -> list[QueryResult]:
    try:
        return source.query_many(requests, now=now)
    except GroqError as exc:
        raise ConfigError(f"{key}: query failed: {exc}") from exc
