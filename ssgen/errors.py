"""The one hierarchy of errors ssgen raises; the CLI maps each to an exit code.

Modules that touch the outside world (files, network, SQLite) convert foreign
exceptions into these at their edge with ``raise X(...) from exc``.
"""

from __future__ import annotations


class SsgenError(Exception):
    """Base of every error ssgen reports to a user. ``exit_code`` is what the CLI returns."""

    exit_code = 1


class ConfigError(SsgenError):
    """``ssgen.toml`` or the command line is wrong: names the key and what to do."""

    exit_code = 2


class SourceError(SsgenError):
    """A content source failed: bad NDJSON line, unreadable export, HTTP/API error."""


class SnapshotDamaged(SourceError):
    """A lazily resumed source snapshot's record was found damaged at a fill, after the
    open: the snapshot is removed and the build done again from the files."""


class HintRefuted(SourceError):
    """A serve round's reload took a webhook's document as the file's one change and the
    proof of the rest failed (``ssgen.sources.ndjson.proof``): built again from the file
    read whole, before any page of the round is written."""


class GroqError(SsgenError):
    """Base of GROQ engine errors."""


class GroqSyntaxError(GroqError):
    """A query does not parse or fails validation; carries the position of the problem."""

    exit_code = 2

    def __init__(self, message: str, query: str, offset: int) -> None:
        self.message = message
        self.query = query
        self.offset = max(0, min(offset, len(query)))
        before = query[: self.offset]
        self.line = before.count("\n") + 1
        self.column = self.offset - (before.rfind("\n") + 1) + 1
        super().__init__(f"{message} at line {self.line}, column {self.column}")

    def render(self) -> str:
        """The message, the offending query line and a caret under the problem."""
        lines = self.query.split("\n")
        text = lines[self.line - 1] if self.line - 1 < len(lines) else ""
        caret = " " * (self.column - 1) + "^"
        summary = str(self).replace("\n", "\\n")  # keep the caret on the line below
        return f"GROQ syntax error: {summary}\n  {text}\n  {caret}"


class GroqEvaluationError(GroqError):
    """A query failed while running (e.g. a missing ``$param``)."""


class RenderError(SsgenError):
    """A page failed to render; carries the template file and line when known."""

    def __init__(self, message: str, template: str | None = None, line: int | None = None) -> None:
        self.template = template
        self.line = line
        where = f"{template}: " if template else ""
        if template and line:
            where = f"{template}:{line}: "
        super().__init__(f"{where}{message}")


class OutputError(SsgenError):
    """Writing the site failed, or a page path would escape the output folder."""


class ManifestError(SsgenError):
    """The build manifest is unreadable; callers fall back to a full rebuild."""


class WebhookError(SsgenError):
    """A revalidation request was rejected; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        self.status = status
        super().__init__(message)


class DeployError(SsgenError):
    """Uploading to object storage or purging a CDN failed."""
