"""``SanityError`` (a ``SourceError``: the query, HTTP status, Sanity's error type and
whether to retry) and the errors made of the API's error bodies: a ``queryParseError``
with a caret under the query, a 401/403 with the token hint, a body that is not JSON.
"""

from __future__ import annotations

import json

from ssgen.errors import GroqSyntaxError, SourceError


class SanityError(SourceError):
    """A Sanity API request failed; carries the query, HTTP status and Sanity error type."""

    def __init__(
        self,
        message: str,
        *,
        query: str | None = None,
        status: int | None = None,
        error_type: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.query = query
        self.retry_after = retry_after
        self.status = status
        self.error_type = error_type
        self.retryable = retryable
        super().__init__(message)


def error_from_body(status: int, content: bytes, query: str, tag: str) -> SanityError:
    """A SanityError from an API error response, with a caret for ``queryParseError``."""
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    where = f"Sanity API error {status} (tag {tag})"
    if isinstance(error, dict):
        etype = str(error.get("type") or "error")
        desc = str(error.get("description") or error.get("message") or "")
        start = error.get("start")
        if etype == "queryParseError" and isinstance(start, int):
            rendered = render_caret(desc, str(error.get("query") or query), start)
            return SanityError(f"{where}: {rendered}", query=query, status=status, error_type=etype)
        msg = f"{where}: {etype}: {desc}\n  query: {short_query(query)}"
        return SanityError(msg, query=query, status=status, error_type=etype)
    if isinstance(body, dict) and (error or body.get("message")):
        etype = str(error or "error")
        msg = f"{where}: {etype}: {body.get('message', '')}\n  query: {short_query(query)}"
        if status in (401, 403):
            msg += "\n  (check SANITY_API_TOKEN: it is missing, expired or lacks access)"
        return SanityError(msg, query=query, status=status, error_type=etype)
    text = content[:200].decode("utf-8", "replace")
    return SanityError(f"{where}: {text!r}\n  query: {short_query(query)}", query=query,
                       status=status)


def render_caret(message: str, query: str, offset: int, width: int = 100) -> str:
    """``GroqSyntaxError.render()``, with a long query line cut to a window around the caret."""
    error = GroqSyntaxError(message, query, offset)
    line = query.split("\n")[error.line - 1] if query else ""
    if len(line) <= width:
        return error.render()
    start = max(0, min(error.column - 1 - width // 2, len(line) - width))
    shown = ("…" if start else "") + line[start : start + width]
    shown += "…" if start + width < len(line) else ""
    caret = " " * (error.column - 1 - start + (1 if start else 0)) + "^"
    return f"GROQ syntax error: {error}\n  {shown}\n  {caret}"


def short_query(query: str, limit: int = 300) -> str:
    """``query`` on one line, cut to ``limit`` characters (for error messages)."""
    flat = " ".join(query.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


__all__ = ["SanityError", "error_from_body", "render_caret", "short_query"]
