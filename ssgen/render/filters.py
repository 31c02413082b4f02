"""The Jinja2 filters templates use: markdown, portable_text, image_url, responsive_image,
date, absolute_url, slugify, safe_url.

Owns the adaptation of the pure content renderers (``ssgen.render.markdown``,
``ssgen.render.portabletext``, ``ssgen.render.images`` (CDN URLs; local variants and
``responsive_image`` for the local image pipeline), ``ssgen.render.text``) to templates:
HTML results come back as ``Markup`` (never escaped twice), config values (Markdown
options, Sanity project, base URL) are bound once, and Portable Text custom types/marks
are rendered by user macros.
No ``now`` global is provided: output depends only on data and templates.

Portable Text macros: a template ``portable_text.html`` (if present) whose macros are
named ``type_<name>`` (custom block/inline types: ``(value)``), ``mark_<name>``
(decorators and annotations: ``(mark_def, children, mark_type)``), ``style_<name>``
(block styles: ``(block, children)``), ``item_<name>`` (list items: ``(block, children)``)
and ``list_<name>`` (list containers: ``(list, items)``) handles those nodes; a filter
call may add or override them with ``components=`` (a dict with those prefixed keys, or
``{"types": {...}, "marks": {...}, "block_styles": {...}, "list_items": {...},
"lists": {...}}``). A macro may declare fewer parameters than listed; it gets the first
ones. HTML arguments (``children``) arrive as Markup, so they are not escaped again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import jinja2
import orjson
from markupsafe import Markup

if TYPE_CHECKING:
    from ssgen.config.load import Config

PT_TEMPLATE = "portable_text.html"
PT_KINDS = {
    "type_": "types",
    "mark_": "marks",
    "style_": "block_styles",
    "item_": "list_items",
    "list_": "lists",
}


def install_filters(env: jinja2.Environment, config: Config) -> None:
    """Register every ssgen filter on ``env``, bound to ``config``."""
    image_url = _image_url_filter(config)
    env.filters.update(
        {
            "markdown": _markdown_filter(config),
            "portable_text": _portable_text_filter(),
            "image_url": image_url,
            "responsive_image": _responsive_image_filter(config, image_url),
            "date": date_filter,
            "absolute_url": _absolute_url_filter(config.site.base_url),
            "slugify": slugify_filter,
            "safe_url": safe_url_filter,
        }
    )
    env.globals["url"] = UrlHelper(config.site.base_url)


def preload(config: Config) -> None:
    """Import the filters' libraries and build the Markdown parser now.

    Called once before render workers fork, so they inherit all of it instead of each
    paying for it on its first page (the imports stay lazy for the other commands).
    """
    from ssgen.render.markdown import render_markdown
    from ssgen.render.portabletext.html import to_html

    render_markdown("", config.markdown)
    to_html([])


def _markdown_filter(config: Config) -> Callable[[Any], Markup]:
    options = config.markdown

    def markdown(text: Any) -> Markup:
        from ssgen.render.markdown import render_markdown

        if text is None:
            return Markup("")
        return Markup(render_markdown(str(text), options))

    return markdown


def _portable_text_filter() -> Callable[..., Markup]:
    macros = _ConventionMacros()

    @jinja2.pass_environment
    def portable_text(
        env: jinja2.Environment,
        blocks: Any,
        components: Mapping[str, Any] | None = None,
    ) -> Markup:
        from ssgen.render.portabletext.html import to_html

        if blocks is None:
            return Markup("")
        handlers = macros.tables(env)
        for kind, table in _split_components(components or {}).items():
            handlers.setdefault(kind, {}).update(table)
        return Markup(
            to_html(
                blocks,
                types=handlers.get("types"),
                marks=handlers.get("marks"),
                block_styles=handlers.get("block_styles"),
                list_items=handlers.get("list_items"),
                lists=handlers.get("lists"),
            )
        )

    return portable_text


class _ConventionMacros:
    """The handler tables from templates/portable_text.html, rebuilt only when it changes."""

    def __init__(self) -> None:
        self._template: jinja2.Template | None = None
        self._tables: dict[str, dict[str, Callable[..., str]]] = {}
        self._loaded = False

    def tables(self, env: jinja2.Environment) -> dict[str, dict[str, Callable[..., str]]]:
        """A fresh copy of the tables (callers add their own ``components``)."""
        # Always: a renderer without auto-reload drops its compiled templates when their
        # text changes, and the template object, looked up in the cache, tells.
        self._refresh(env)
        return {kind: dict(table) for kind, table in self._tables.items()}

    def _refresh(self, env: jinja2.Environment) -> None:
        try:
            template: jinja2.Template | None = env.get_template(PT_TEMPLATE)
        except jinja2.TemplateNotFound:
            template = None
        if template is not self._template or not self._loaded:
            self._tables = {}
            if template is not None:
                module = template.module
                names = {n: getattr(module, n) for n in dir(module) if not n.startswith("__")}
                self._tables = _split_components(names)
            self._template = template
            self._loaded = True


def _split_components(components: Mapping[str, Any]) -> dict[str, dict[str, Callable[..., str]]]:
    """Sort macros into to_html's handler tables by prefix or by nested table name."""
    tables: dict[str, dict[str, Callable[..., str]]] = {}
    for key, value in components.items():
        if key in PT_KINDS.values() and isinstance(value, Mapping):
            for name, macro in value.items():
                tables.setdefault(key, {})[name] = _as_handler(macro)
            continue
        for prefix, kind in PT_KINDS.items():
            if key.startswith(prefix) and callable(value):
                tables.setdefault(kind, {})[key[len(prefix) :]] = _as_handler(value)
    return tables


def _as_handler(macro: Callable[..., Any]) -> Callable[..., str]:
    """Wrap a macro as a to_html handler: HTML strings passed in stay unescaped (Markup),
    and a macro declaring fewer parameters than the handler gets receives the first ones."""
    limit = None
    if isinstance(macro, jinja2.runtime.Macro) and not macro.catch_varargs:
        limit = len(macro.arguments)

    def handler(*args: Any) -> str:
        passed = [Markup(a) if isinstance(a, str) else a for a in args[:limit]]
        return str(macro(*passed))

    return handler


_URL_MEMO_SIZE = 8192


def _image_url_filter(config: Config) -> Callable[..., str]:
    project_id = config.source.project_id
    dataset = config.source.dataset
    local = config.images.local
    # A list page shows the same images as the post pages (and again after each edit):
    # CDN URLs and local variants are a pure function of the image value and the
    # options, so they are memoised by the value's JSON (bounded; an unencodable value is
    # computed every time). A local variant is still recorded for each page using it.
    memo: dict[tuple[Any, ...], Any] = {}

    def memoised(source: Any, width: int | None = None, height: int | None = None,
                 fit: str | None = None, auto: str | None = None, **options: Any) -> str:
        try:
            key = (orjson.dumps(source, option=orjson.OPT_SORT_KEYS), width, height, fit,
                   auto, *sorted(options.items()))
            found: Any = memo.get(key)
        except (TypeError, orjson.JSONEncodeError):
            return image_url(source, width, height, fit, auto, **options)
        if found is None:
            found = _variant(source, width, height, fit, auto, options) if local \
                else image_url(source, width, height, fit, auto, **options)
            if len(memo) >= _URL_MEMO_SIZE:
                memo.clear()
            memo[key] = found
        if local:
            from ssgen.render.images.variants import use_variant
            from ssgen.render.text import site_url

            return site_url(use_variant(found), config.site.base_url)
        return str(found)

    def image_url(
        source: Any,
        width: int | None = None,
        height: int | None = None,
        fit: str | None = None,
        auto: str | None = None,
        **options: Any,
    ) -> str:
        if local:
            from ssgen.render.images.variants import variant_url
            from ssgen.render.text import site_url

            path = variant_url(source, width=width, height=height, fit=fit, auto=auto,
                               **options)
            return site_url(path, config.site.base_url)  # under the base path, as url()
        if not project_id:
            return local_image_url(source)
        from ssgen.render.images.url import image_url as build_url

        return build_url(
            source,
            project_id=project_id,
            dataset=dataset,
            width=width,
            height=height,
            fit=fit,
            auto=auto,
            **options,
        )

    return memoised


def _variant(source: Any, width: int | None, height: int | None, fit: str | None,
             auto: str | None, options: dict[str, Any]) -> Any:
    from ssgen.render.images.variants import make_variant

    return make_variant(source, width=width, height=height, fit=fit, auto=auto, **options)


def _responsive_image_filter(config: Config,
                             image_url: Callable[..., str]) -> Callable[..., Markup]:
    """``responsive_image``: see ``ssgen.render.images.responsive``; local variants come in every
    configured format the installed Pillow writes, CDN images as ``auto=format``."""
    images = config.images

    def responsive_image(source: Any, width: int | None = None, height: int | None = None,
                         **options: Any) -> Markup:
        from ssgen.render.images.responsive import responsive_image as build

        if "class" in options:
            options["class_name"] = options.pop("class")
        if images.local:
            formats: tuple[str | None, ...] = _writable(images.formats)
        elif config.source.project_id:
            formats = (None,)
        else:  # no project: the asset document's own URL, one size
            formats, options = (None,), {**options, "widths": [width or 1]}
        return build(source, url_for=_sized(image_url, images.local or bool(
            config.source.project_id)), formats=formats, default_widths=images.widths,
            width=width, height=height, **options)

    return responsive_image


def _sized(image_url: Callable[..., str], sized: bool) -> Callable[..., str]:
    """``image_url``, or (no project, no local pipeline) the asset URL whatever the size."""
    if sized:
        return image_url
    return lambda source, **_: local_image_url(source)


def _writable(formats: tuple[str, ...]) -> tuple[str, ...]:
    from ssgen.render.images.pillow import avif_supported

    usable = tuple(f for f in formats if f != "avif" or avif_supported())
    return usable or ("webp",)


def local_image_url(source: Any) -> str:
    """The URL of an image on a site without a Sanity project: the asset document's ``url``.

    Accepts a URL string, an asset document, or an image object whose ``asset`` was
    dereferenced in the query (``asset->``).
    """
    url = source if isinstance(source, str) else None
    if isinstance(source, Mapping):
        asset = source.get("asset")
        if isinstance(source.get("url"), str):
            url = source["url"]
        elif isinstance(asset, Mapping) and isinstance(asset.get("url"), str):
            url = asset["url"]
    if url is not None:
        if not url_is_safe(url):
            raise ValueError(f"image_url: unsafe image URL {url!r}: use http(s) or a "
                             "relative URL")
        return str(url)
    raise ValueError(
        "image_url: no Sanity project_id is configured and the image has no asset url; "
        "dereference the asset in the query (`image{..., asset->}`) or set "
        "[source] project_id"
    )


def date_filter(value: Any, fmt: str | None = None) -> str:
    """Format an ISO date/datetime string (or date object) with strftime ``fmt``."""
    from ssgen.render.text import format_date

    return format_date(value) if fmt is None else format_date(value, fmt)


def _absolute_url_filter(base_url: str) -> Callable[[Any], str]:
    def absolute_url(path: Any) -> str:
        from ssgen.render.text import absolute_url as join

        return join(str(path), base_url)

    return absolute_url


class UrlHelper:
    """``url("/style.css")`` in templates: a site path as a link under the base path of
    ``[site] base_url`` (``/sub/style.css``); ``url(path, absolute=True)`` the full URL."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def __call__(self, path: Any, absolute: bool = False) -> str:
        from ssgen.render.text import absolute_url, site_url

        if absolute:
            return absolute_url(str(path), self.base_url)
        return site_url(str(path), self.base_url)


class PageUrl(str):
    """A page's ``url`` variable: prints as its absolute URL (``{{ url }}``) and, called,
    is the ``url()`` helper (``{{ url('/style.css') }}``), which the variable would
    otherwise hide."""

    helper: UrlHelper

    def __new__(cls, value: str, helper: UrlHelper) -> PageUrl:
        made = super().__new__(cls, value)
        made.helper = helper
        return made

    def __call__(self, path: Any, absolute: bool = False) -> str:
        return self.helper(path, absolute)


def with_url_helper(context: Mapping[str, Any], helper: UrlHelper) -> Mapping[str, Any]:
    """``context`` with its ``url`` string made callable as the ``url()`` helper."""
    page_url = context.get("url")
    if type(page_url) is not str:
        return context
    return {**context, "url": PageUrl(page_url, helper)}


def safe_url_filter(value: Any) -> str:
    """``value`` as a link target when its scheme is safe, else ``"#"`` (None/undefined: "").

    Safe means the Portable Text link renderer's rule (``uri_looks_safe`` in
    ``ssgen.render.portabletext.html``: http, https, mailto, tel, relative and fragment
    URLs), so a CMS ``href`` such as ``javascript:alert(1)`` never reaches an ``<a href>``.
    Autoescaping still applies.
    """
    if value is None or isinstance(value, jinja2.Undefined):
        return ""
    text = str(value)
    return text if url_is_safe(text) else "#"


def url_is_safe(url: str) -> bool:
    """The one scheme rule for CMS URLs (links in Portable Text, ``safe_url``, local images)."""
    from ssgen.render.portabletext.html import uri_looks_safe

    return uri_looks_safe(url)


def slugify_filter(value: Any) -> str:
    """A URL slug of ``value``."""
    from ssgen.render.text import slugify

    return slugify(str(value))


__all__ = ["PageUrl", "UrlHelper", "date_filter", "install_filters", "local_image_url",
           "safe_url_filter", "slugify_filter", "url_is_safe", "with_url_helper"]
