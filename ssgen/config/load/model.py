"""The configuration's shape: the frozen dataclasses ``load_config`` returns.

Owns ``Config`` (the whole effective configuration of one site, with the paths derived
from the site folder) and one dataclass a table of ``ssgen.toml`` that has no module of its
own (``[site]``, ``[[routes]]``, ``[markdown]``, ``[feed]``, ``[sitemap]``). No parsing here.
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssgen.config.check import CheckConfig
from ssgen.config.images import ImagesConfig
from ssgen.config.redirects import RedirectRule
from ssgen.config.search import SearchConfig
from ssgen.config.source import SourceConfig
from ssgen.config.toml import CONFIG_FILE
from ssgen.fastclass import dataclass

if TYPE_CHECKING:
    from ssgen.config.deploy import DeployConfig
    from ssgen.groq.nodes import Query


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
    paginate_by: str | None = None  # with placeholders: the array of each page's object split
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
