"""The ``portable_text`` filter: Portable Text as HTML through ``ssgen.render.portabletext``,
its custom types, marks, styles and lists rendered by the site's macros.

Owns the macro convention: a template ``portable_text.html`` (if present) whose macros are
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
from typing import Any

import jinja2
from markupsafe import Markup

PT_TEMPLATE = "portable_text.html"
PT_KINDS = {
    "type_": "types",
    "mark_": "marks",
    "style_": "block_styles",
    "item_": "list_items",
    "list_": "lists",
}


def portable_text_filter() -> Callable[..., Markup]:
    """``portable_text(blocks, components=None)``, with the macros of ``portable_text.html``."""
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


__all__ = ["PT_KINDS", "PT_TEMPLATE", "portable_text_filter"]
