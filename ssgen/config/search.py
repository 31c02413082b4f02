"""The ``[search]`` table of ``ssgen.toml``: a static Pagefind search index of the site.

Owns ``SearchConfig`` and its validation. ``enabled``: build the index into
``public/pagefind/`` after every build that changed an HTML file. ``exclude_selectors``:
CSS selectors of elements Pagefind leaves out of the index (beyond
``data-pagefind-ignore``). ``language``: index the whole site as this one language (an
ISO 639-1 code such as ``"en"``) instead of reading each page's ``<html lang>``.
"""

from __future__ import annotations

import re
from typing import Any

from ssgen.config.toml import BOOL, STR, STRS, TomlContext, take
from ssgen.fastclass import dataclass

# The bundle's folder under the output folder; Pagefind's own default.
BUNDLE_DIR = "pagefind"
_SEARCH = {"enabled": (BOOL, False), "exclude_selectors": (STRS, ()), "language": (STR, None)}
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


@dataclass(frozen=True)
class SearchConfig:
    """``[search]``: off unless ``enabled``."""

    enabled: bool = False
    exclude_selectors: tuple[str, ...] = ()
    language: str | None = None


def parse_search(raw: dict[str, Any] | None, ctx: TomlContext) -> SearchConfig:
    """Validate ``[search]``; every mistake names its key and line."""
    values = take(dict(raw or {}), _SEARCH, "search", ctx)
    selectors = values["exclude_selectors"]
    for selector in selectors:
        if not selector.strip() or "\n" in selector:
            raise ctx.error("search.exclude_selectors",
                            f"{selector!r}: each entry must be one CSS selector, such as "
                            '".sidebar" or "nav"')
    language = values["language"]
    if language is not None and not _LANGUAGE.fullmatch(language):
        raise ctx.error("search.language", f"{language!r}: use an ISO 639-1 code such as "
                                           '"en" or "pt-br", or leave it out to read each '
                                           "page's <html lang>")
    return SearchConfig(values["enabled"], tuple(selectors), language)
