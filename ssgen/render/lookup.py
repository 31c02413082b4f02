"""Attribute lookup in templates: ``post.title`` on the plain dicts a query returns.

Owns ``SiteEnvironment``, the Jinja2 environment class the renderer uses. Jinja's
``Environment.getattr`` tries ``getattr(obj, name)`` first and falls back to
``obj[name]``; for a document (a ``dict``) the first try always fails, and raising and
catching that ``AttributeError`` is most of the lookup's cost (~0.7 us against ~0.07 us
for the item). For an exact ``dict`` and a name that is not one of ``dict``'s own
attributes, ``getattr`` cannot succeed (dict instances have no ``__dict__``), so going
straight to the item gives the same value or the same undefined, only sooner. Anything
else (a subclass, ``post.items``, another type) takes Jinja's own path.
"""

from __future__ import annotations

from typing import Any

import jinja2

_DICT_ATTRIBUTES = frozenset(dir(dict))


class SiteEnvironment(jinja2.Environment):
    """A Jinja2 environment whose ``x.name`` on a plain dict reads the item directly."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``obj.attribute`` as Jinja defines it (the attribute, else the item)."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


__all__ = ["SiteEnvironment"]
