"""A Jinja2 failure as a user reads it: the message, the template line, a likely fix.

Owns the text of a `RenderError` (`message`), the innermost template frame of a
traceback (`innermost_template_frame`) and the "did you mean" hint (`did_you_mean`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import TracebackType

import jinja2

from ssgen.errors import RenderError, SsgenError

UNKNOWN_FILTER = re.compile(r"No (?:filter|test) named '([^']+)'")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean x?)`` for the closest of ``known`` to ``name``; "" when none is."""
    import difflib  # here: only a failing render reads it

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def innermost_template_frame(tb: TracebackType | None) -> tuple[str, int] | None:
    """(file, line) of the innermost frame Jinja2 rewrote to point into a template."""
    found = None
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def message(exc: BaseException) -> str:
    """What went wrong, in the words a `RenderError` gives."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"template syntax error: {exc.message}"
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined: {exc.message}"
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"template not found: {exc.name}"
    if isinstance(exc, RenderError):
        return str(exc)
    if isinstance(exc, SsgenError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
