"""``[[routes]]``: each route validated (name, path, template, shape) and its GROQ parsed once.

Every mistake is a ``ConfigError`` at ``routes[i].<key>`` saying what to do; the template
named must exist under ``templates/`` (with a did-you-mean).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

from ssgen.config.load.checks import parse_groq, positive
from ssgen.config.load.model import RouteConfig
from ssgen.config.params import check_params, item_fields
from ssgen.config.redirects import ROUTE_OPTIONS, check_route_options
from ssgen.config.toml import INT, REQUIRED, STR, STRS, TomlContext, placeholders, take

_ROUTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ROUTE = {"name": (STR, REQUIRED), "path": (STR, REQUIRED), "template": (STR, REQUIRED),
          "query": (STR, None), "each": (STR, None), "tags": (STRS, ()),
          "revalidate": (INT, None), "paginate": (INT, None), "paginate_by": (STR, None),
          **ROUTE_OPTIONS}


def list_templates(templates_dir: Path) -> list[str]:
    """Every file under ``templates_dir``, relative and sorted (none if it is missing)."""
    if not templates_dir.is_dir():
        return []
    return sorted(p.relative_to(templates_dir).as_posix()
                  for p in templates_dir.rglob("*") if p.is_file())


def _check_template(name: str, key: str, templates: list[str], ctx: TomlContext) -> None:
    if name in templates:
        return
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts:
        raise ctx.error(key, f"{name!r} must be a path inside templates/")
    import difflib  # only for a mistake's did-you-mean

    close = difflib.get_close_matches(name, templates, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else " (create it, or fix the name)"
    raise ctx.error(key, f'"{name}" not found in templates/{hint}')


def _route(raw: dict[str, Any], index: int, templates: list[str],
           ctx: TomlContext) -> RouteConfig:
    where = f"routes[{index}]"
    values = take(raw, _ROUTE, where, ctx)
    if not _ROUTE_NAME.fullmatch(values["name"]):
        raise ctx.error(f"{where}.name", f"{values['name']!r} must be letters, digits, "
                                          "'_', '-' or '.', starting with a letter or digit")
    path = values["path"]
    if not path.startswith("/"):
        raise ctx.error(f"{where}.path", f"{path!r} must start with '/' (e.g. '/{path}')")
    if any(part in (".", "..") for part in path.split("/")) or "//" in path or "\\" in path:
        raise ctx.error(f"{where}.path", f"{path!r} must not contain '.', '..', '//' or "
                                         "backslashes: pages are written under the output folder")
    names = placeholders(path, f"{where}.path", ctx)
    for i, tag in enumerate(values["tags"]):
        placeholders(tag, f"{where}.tags[{i}]", ctx)
    _check_template(values["template"], f"{where}.template", templates, ctx)
    positive(values["revalidate"], f"{where}.revalidate", ctx)
    positive(values["paginate"], f"{where}.paginate", ctx)
    _check_route_shape(values, names, where, ctx)
    check_route_options(values, where, ctx)
    # A route without a query is a page written entirely in its template: page = null.
    query_ast = parse_groq(values["query"] or "null", f"{where}.query", ctx)
    each_ast = parse_groq(values["each"], f"{where}.each", ctx) if values["each"] else None
    check_params(each_ast, frozenset(), f"{where}.each", ctx)
    given = item_fields(each_ast) if each_ast is not None else frozenset()
    check_params(query_ast, given, f"{where}.query", ctx)
    return RouteConfig(**values, placeholders=names, query_ast=query_ast, each_ast=each_ast)


def _check_route_shape(values: dict[str, Any], names: tuple[str, ...], where: str,
                       ctx: TomlContext) -> None:
    if values["each"] is not None and values["query"] is None:
        raise ctx.error(f"{where}.each", "each requires query: add a query that takes the "
                                         "item fields as $params")
    if values["paginate"] is not None:
        _check_paginate(values, names, where, ctx)
    elif values["paginate_by"] is not None:
        raise ctx.error(f"{where}.paginate_by", "paginate_by needs paginate = N (the number "
                                                "of items a page)")
    if names and values["query"] is None:
        raise ctx.error(f"{where}.path", f"placeholders {', '.join(names)} need a query "
                                         "(or each) that returns the items")


def _check_paginate(values: dict[str, Any], names: tuple[str, ...], where: str,
                    ctx: TomlContext) -> None:
    """A paginated route splits its query's list, or (with placeholders) the array field
    ``paginate_by`` of each page's object."""
    by = values["paginate_by"]
    if values["query"] is None:
        raise ctx.error(f"{where}.paginate", "paginate requires query (a list to split)")
    if not values["path"].endswith("/"):
        raise ctx.error(f"{where}.path", "a paginated path must end with '/' (its pages are "
                                         f"{values['path']!r}, then .../page/2/, ...)")
    if names or values["each"] is not None:
        if by is None:
            raise ctx.error(f"{where}.paginate", "a route with {field} placeholders splits "
                                                 "an array of each page's object: name it "
                                                 "with paginate_by (e.g. paginate_by = "
                                                 '"posts")')
        if not _FIELD.fullmatch(by):
            raise ctx.error(f"{where}.paginate_by", f"{by!r} must be a field name (letters, "
                                                    "digits, '_'), such as \"posts\"")
    elif by is not None:
        raise ctx.error(f"{where}.paginate_by", "paginate_by is for routes with {field} "
                                                "placeholders or each; this route's pages "
                                                "split its query's list")


def parse_routes(raw: list[dict[str, Any]], templates: list[str],
            ctx: TomlContext) -> tuple[RouteConfig, ...]:
    """The ``[[routes]]`` array, each route checked; names must be unique."""
    routes: list[RouteConfig] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(raw):
        route = _route(table, index, templates, ctx)
        if route.name in seen:
            raise ctx.error(f"routes[{index}].name", f"duplicate route name {route.name!r} "
                                                    f"(also routes[{seen[route.name]}].name)")
        seen[route.name] = index
        routes.append(route)
    return tuple(routes)
