"""``ssgen.toml`` -> frozen dataclasses: the one place the site configuration is read.

Owns loading, validating (every mistake is a ``ConfigError`` naming ``file:line`` when
known, the key path, and what to do), environment overrides of ``[source]``, parsing
every GROQ string once (the parsed ``Query`` objects live on the config) and
``Config.hash``, a stable fingerprint of the effective configuration (never the token).
The reference for users is docs/configuration.md; this module implements exactly it.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ssgen.config.check import CheckConfig, parse_check
from ssgen.config.deploy import DeployConfig, parse_deploy
from ssgen.config.images import ImagesConfig, parse_images
from ssgen.config.params import check_params, item_fields
from ssgen.config.redirects import ROUTE_OPTIONS, RedirectRule, check_route_options, parse_redirects
from ssgen.config.search import SearchConfig, parse_search
from ssgen.config.source import SourceConfig as SourceConfig
from ssgen.config.source import parse_source
from ssgen.config.toml import (
    BOOL,
    CONFIG_FILE,
    IDENT,
    INT,
    REQUIRED,
    STR,
    STRS,
    TABLE,
    TomlContext,
    describe,
    placeholders,
    read_toml,
    take,
)
from ssgen.errors import ConfigError, GroqSyntaxError

if TYPE_CHECKING:
    from ssgen.groq.nodes import Query

_ROUTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

@dataclass(frozen=True)
class SiteConfig:
    """``[site]``: passed to templates as ``site``; ``params`` is free-form."""

    title: str = ""
    base_url: str = ""
    output: str = "public"
    language: str = "en"
    description: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteConfig:
    """One ``[[routes]]`` entry with its GROQ parsed once (``query_ast`` / ``each_ast``)."""

    name: str
    path: str
    template: str
    query: str | None = None
    each: str | None = None
    tags: tuple[str, ...] = ()
    revalidate: int | None = None
    paginate: int | None = None
    redirects: bool = True  # path history and redirects for its pages (docs/redirects.md)
    gone: str | None = None  # where its unpublished documents' paths redirect (else 410)
    placeholders: tuple[str, ...] = ()
    query_ast: Query | None = field(default=None, compare=False, repr=False)
    each_ast: Query | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class MarkdownConfig:
    """``[markdown]``: markdown-it options (hashable, so renderers can cache on it)."""

    anchors: bool = True
    highlight: bool = True
    tables: bool = True
    footnotes: bool = True
    typographer: bool = False
    linkify: bool = False
    html: bool = False


@dataclass(frozen=True)
class FeedConfig:
    """``[feed]``: an Atom feed of one route's pages."""

    route: str
    path: str = "/feed.xml"
    title: str = ""
    title_field: str = "title"
    date_field: str = "publishedAt"
    summary_field: str = "excerpt"
    limit: int = 20


@dataclass(frozen=True)
class SitemapConfig:
    """``[sitemap]``: ``lastmod_field`` (dotted, in the page's data; ``_updatedAt`` when
    missing) and ``max_urls`` per sitemap file (1 to 50,000; more URLs make an index)."""

    enabled: bool = True
    lastmod_field: str = "_updatedAt"
    max_urls: int = 50_000


@dataclass(frozen=True)
class Config:
    """The whole effective configuration of one site."""

    site_dir: Path
    site: SiteConfig
    source: SourceConfig
    data: dict[str, str]
    routes: tuple[RouteConfig, ...]
    markdown: MarkdownConfig
    feed: FeedConfig | None
    sitemap: SitemapConfig
    hash: str
    data_ast: dict[str, Query] = field(default_factory=dict, compare=False, repr=False)
    deploy: DeployConfig | None = None
    images: ImagesConfig = field(default_factory=ImagesConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    # [state] url / SSGEN_STATE_URL: a postgresql:// URL for shared state (None: SQLite
    # in .ssgen/). Not in the hash: moving the state does not change the pages.
    state_url: str | None = None
    check: CheckConfig = field(default_factory=CheckConfig)  # [check]: not in the hash either
    redirects: tuple[RedirectRule, ...] = ()  # [[redirects]]: not in the hash (no page reads it)

    @property
    def output_dir(self) -> Path:
        """Where the site is written."""
        return self.site_dir / self.site.output

    @property
    def templates_dir(self) -> Path:
        """``templates/`` of the site."""
        return self.site_dir / "templates"

    @property
    def static_dir(self) -> Path:
        """``static/`` of the site (copied through)."""
        return self.site_dir / "static"

    @property
    def config_file(self) -> Path:
        """The ``ssgen.toml`` this config was read from."""
        return self.site_dir / CONFIG_FILE

    @property
    def state_dir(self) -> Path:
        """``.ssgen/``: build state (manifest) kept between builds."""
        return self.site_dir / ".ssgen"

    @property
    def content_dir(self) -> Path:
        """``content/`` of the site (default home of datasets and Markdown)."""
        return self.site_dir / "content"

    def route(self, name: str) -> RouteConfig:
        """The route called ``name`` (KeyError if none)."""
        for route in self.routes:
            if route.name == name:
                return route
        raise KeyError(name)


# --- table schemas: key -> (expected type, default) -----------------------------------

_TOP: dict[str, tuple[str, Any]] = {
    "site": (TABLE, None), "source": (TABLE, None), "data": (TABLE, None),
    "routes": ("an array of tables ([[routes]])", None), "markdown": (TABLE, None),
    "feed": (TABLE, None), "sitemap": (TABLE, None), "deploy": (TABLE, None),
    "images": (TABLE, None),
    "state": (TABLE, None), "check": (TABLE, None), "search": (TABLE, None),
    "redirects": ("an array of tables ([[redirects]])", None),
}
_STATE = {"url": (STR, None)}
_SITE = {"title": (STR, ""), "base_url": (STR, ""), "output": (STR, "public"),
         "language": (STR, "en"), "description": (STR, ""), "params": (TABLE, None)}
_ROUTE = {"name": (STR, REQUIRED), "path": (STR, REQUIRED), "template": (STR, REQUIRED),
          "query": (STR, None), "each": (STR, None), "tags": (STRS, ()),
          "revalidate": (INT, None), "paginate": (INT, None), **ROUTE_OPTIONS}
_MARKDOWN = {name: (BOOL, value) for name, value in vars(MarkdownConfig()).items()}
_FEED = {"route": (STR, REQUIRED), "path": (STR, "/feed.xml"), "title": (STR, ""),
         "title_field": (STR, "title"), "date_field": (STR, "publishedAt"),
         "summary_field": (STR, "excerpt"), "limit": (INT, 20)}
_SITEMAP = {"enabled": (BOOL, True), "lastmod_field": (STR, "_updatedAt"),
            "max_urls": (INT, 50_000)}


def _parse_groq(text: str, key: str, ctx: TomlContext) -> Query:
    from ssgen.groq.parser import parse

    try:
        return parse(text)
    except GroqSyntaxError as exc:
        raise ctx.error(key, f"invalid GROQ query\n{exc.render()}") from exc


def _templates(templates_dir: Path) -> list[str]:
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
    close = difflib.get_close_matches(name, templates, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else " (create it, or fix the name)"
    raise ctx.error(key, f'"{name}" not found in templates/{hint}')


def _positive(value: int | None, key: str, ctx: TomlContext) -> None:
    if value is not None and value < 1:
        raise ctx.error(key, f"must be a positive integer, not {value}")


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
    _positive(values["revalidate"], f"{where}.revalidate", ctx)
    _positive(values["paginate"], f"{where}.paginate", ctx)
    _check_route_shape(values, names, where, ctx)
    check_route_options(values, where, ctx)
    # A route without a query is a page written entirely in its template: page = null.
    query_ast = _parse_groq(values["query"] or "null", f"{where}.query", ctx)
    each_ast = _parse_groq(values["each"], f"{where}.each", ctx) if values["each"] else None
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
        if names:
            raise ctx.error(f"{where}.paginate", "paginate only works on a path without "
                                                 f"placeholders, not {values['path']!r}")
        if values["each"] is not None:
            raise ctx.error(f"{where}.paginate", "paginate cannot be combined with each")
        if values["query"] is None:
            raise ctx.error(f"{where}.paginate", "paginate requires query (a list to split)")
    if names and values["query"] is None:
        raise ctx.error(f"{where}.path", f"placeholders {', '.join(names)} need a query "
                                         "(or each) that returns the items")


def _routes(raw: list[dict[str, Any]], templates: list[str],
            ctx: TomlContext) -> tuple[RouteConfig, ...]:
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


def _site(raw: dict[str, Any], site_dir: Path, ctx: TomlContext) -> SiteConfig:
    values = take(raw, _SITE, "site", ctx)
    base = values["base_url"]
    if base and not re.match(r"https?://[^/]", base):
        raise ctx.error("site.base_url", f"{base!r} must start with http:// or https://")
    values["base_url"] = base.rstrip("/")
    values["params"] = dict(values["params"] or {})
    _check_output(values["output"], site_dir, ctx)
    return SiteConfig(**values)


# Folders the build reads: the output may be neither inside one (each build would copy or
# read its own output) nor around one (each build would write over its sources).
_SOURCE_DIRS = ("templates", "content", "static", ".ssgen")


def _check_output(output: str, site_dir: Path, ctx: TomlContext) -> None:
    resolved = (site_dir / output).resolve()
    root = site_dir.resolve()
    if not output.strip() or root.is_relative_to(resolved):
        raise ctx.error("site.output", f"{output!r} cannot be the output folder: it would "
                                       "overwrite the site's own files; use e.g. 'public'")
    for name in _SOURCE_DIRS:
        source = root / name
        if resolved.is_relative_to(source):
            raise ctx.error("site.output", f"{output!r} is inside {name}/, which the build "
                                           "reads: each build would read its own output; "
                                           "use a folder outside it, e.g. 'public'")


def _check_sources_outside(site: SiteConfig, source: SourceConfig, site_dir: Path,
                           ctx: TomlContext) -> None:
    """No dataset file or Markdown folder the build reads may be inside the output
    folder, nor the output inside the Markdown folder."""
    output = (site_dir / site.output).resolve()
    markdown = (site_dir / source.markdown_dir).resolve()
    if source.markdown_dir and (markdown.is_relative_to(output)
                                or output.is_relative_to(markdown)):
        raise ctx.error("site.output", f"{site.output!r} and source.markdown_dir "
                                       f"{source.markdown_dir!r} overlap: the build would "
                                       "read its own output; keep them apart")
    for index, name in enumerate(source.files or ()):
        if (site_dir / name).resolve().is_relative_to(output):
            raise ctx.error(f"source.files[{index}]", f"{name!r} is inside the output folder "
                                                      f"{site.output!r}, which builds write "
                                                      "and clean: keep sources outside it")


def _data(raw: dict[str, Any], ctx: TomlContext) -> tuple[dict[str, str], dict[str, Query]]:
    data: dict[str, str] = {}
    asts: dict[str, Query] = {}
    for name, text in raw.items():
        key = f"data.{name}"
        if not re.fullmatch(IDENT, name):
            raise ctx.error(key, "names under [data] must be identifiers (letters, digits, _) "
                                 "so templates can write data.<name>")
        if not isinstance(text, str):
            raise ctx.error(key, f"must be a GROQ query string, not {describe(text)}")
        data[name] = text
        asts[name] = _parse_groq(text, key, ctx)
        check_params(asts[name], frozenset(), key, ctx)
    return data, asts


def _feed(raw: dict[str, Any] | None, routes: tuple[RouteConfig, ...],
          ctx: TomlContext) -> FeedConfig | None:
    if raw is None:
        return None
    values = take(raw, _FEED, "feed", ctx)
    names = [route.name for route in routes]
    if values["route"] not in names:
        close = difflib.get_close_matches(values["route"], names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ctx.error("feed.route", f"no route named {values['route']!r}{hint}")
    if not values["path"].startswith("/"):
        raise ctx.error("feed.path", f"{values['path']!r} must start with '/'")
    _positive(values["limit"], "feed.limit", ctx)
    return FeedConfig(**values)


def _fingerprint(parts: dict[str, Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, (SiteConfig, SourceConfig, RouteConfig, MarkdownConfig,
                              FeedConfig, SitemapConfig, ImagesConfig, SearchConfig)):
            skip = {"token", "query_ast", "each_ast"}
            return {k: plain(v) for k, v in vars(value).items() if k not in skip}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value

    canonical = json.dumps(plain(parts), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def load_config(
    site_dir: Path, env: Mapping[str, str] | None = None, *, base_url: str | None = None
) -> Config:
    """Read and validate ``site_dir/ssgen.toml``; ``env`` defaults to ``os.environ``.
    ``base_url`` overrides ``[site] base_url`` (``--base-url``, for preview builds)."""
    site_dir = Path(site_dir).absolute()
    raw, ctx = read_toml(site_dir)
    top = take(raw, _TOP, "", ctx)
    site = _site(top["site"] or {}, site_dir, ctx)
    if base_url is not None:
        if not re.match(r"https?://[^/]", base_url):
            raise ConfigError(f"--base-url {base_url!r} must start with http:// or https://")
        site = replace(site, base_url=base_url.rstrip("/"))
    source = parse_source(top["source"] or {}, os.environ if env is None else env, site_dir, ctx)
    _check_sources_outside(site, source, site_dir, ctx)
    data, data_ast = _data(top["data"] or {}, ctx)
    routes = _routes(top["routes"] or [], _templates(site_dir / "templates"), ctx)
    markdown = MarkdownConfig(**take(top["markdown"] or {}, _MARKDOWN, "markdown", ctx))
    feed = _feed(top["feed"], routes, ctx)
    sitemap = SitemapConfig(**take(top["sitemap"] or {}, _SITEMAP, "sitemap", ctx))
    if not 1 <= sitemap.max_urls <= 50_000:
        raise ctx.error("sitemap.max_urls", f"must be 1 to 50000, not {sitemap.max_urls}")
    deploy = parse_deploy(top["deploy"], ctx) if top["deploy"] is not None else None
    state_url = _state_url(top["state"] or {}, os.environ if env is None else env, ctx)
    images = parse_images(top["images"], source, site_dir, ctx)
    check = parse_check(top["check"], ctx)
    search = parse_search(top["search"], ctx)
    parts = {"site": site, "source": source, "data": data, "routes": routes,
             "markdown": markdown, "feed": feed, "sitemap": sitemap}
    if images != ImagesConfig():  # sites on the default CDN pipeline keep their fingerprint
        parts["images"] = images
    if search != SearchConfig():  # likewise for sites without search
        parts["search"] = search
    return Config(site_dir=site_dir, site=site, source=source, data=data, routes=routes,
                  markdown=markdown, feed=feed, sitemap=sitemap, hash=_fingerprint(parts),
                  data_ast=data_ast, deploy=deploy, images=images, search=search,
                  state_url=state_url, check=check,
                  redirects=parse_redirects(top["redirects"], ctx))


def _state_url(table: dict[str, Any], env: Mapping[str, str], ctx: Any) -> str | None:
    url = env.get("SSGEN_STATE_URL") or take(table, _STATE, "state", ctx)["url"]
    if url and not re.match(r"postgres(ql)?://", url):
        raise ConfigError(f"[state] url must be a postgresql:// URL, not {url.split(':')[0]!r}"
                          " (leave it out to keep the state in .ssgen/)")
    return url or None
