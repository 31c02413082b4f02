"""What a link check found: ``BrokenLink`` (file, attribute, link, why, and the template
line when the link is written literally in one of the page's templates) and
``LinkReport`` (files checked, broken links, full or incremental, time taken)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import field
from pathlib import Path
from typing import Any

from ssgen.fastclass import dataclass


@dataclass(frozen=True)
class BrokenLink:
    """A link in output file ``page`` that does not resolve. ``external``: an off-site URL
    (checked only with ``--external``); ``where``: ``templates/x.html:12`` when known."""

    page: str
    attr: str
    link: str
    reason: str
    external: bool = False
    where: str | None = None

    def stored(self) -> list[Any]:
        """The JSON row the manifest keeps."""
        return [self.attr, self.link, self.reason, self.external]

    @classmethod
    def from_stored(cls, page: str, row: list[Any]) -> BrokenLink:
        """A broken link from its manifest row."""
        return cls(page, str(row[0]), str(row[1]), str(row[2]), bool(row[3]))

    def line(self) -> str:
        """One line for the terminal: ``page: href "link": reason (template:line)``."""
        where = f" ({self.where})" if self.where else ""
        return f"{self.page}: {self.attr} {self.link!r}: {self.reason}{where}"


@dataclass
class LinkReport:
    """The outcome of a check: ``checked`` HTML files parsed this time (``total``: files
    the site has), ``broken`` links of the whole site, ``external`` URLs looked up."""

    checked: int = 0
    total: int = 0
    full: bool = True
    broken: list[BrokenLink] = field(default_factory=list)
    external: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no link is broken."""
        return not self.broken

    def summary(self) -> str:
        """The one-line summary printed after a check."""
        kind = "full" if self.full else "incremental"
        text = (f"{kind} link check: {self.checked} of {self.total} HTML files checked, "
                f"{len(self.broken)} broken link{'' if len(self.broken) == 1 else 's'}")
        if self.external:
            text += f", {self.external} external URLs looked up"
        return f"{text} in {self.seconds:.2f}s"


def template_line(templates_dir: Path, templates: Iterable[str], link: str) -> str | None:
    """``templates/<name>:<line>`` of the first of ``templates`` that holds ``link``
    literally (a link built by an expression, or from content, has none)."""
    for name in templates:
        try:
            text = (templates_dir / name).read_text(encoding="utf-8")
        except (OSError, UnicodeError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if link in line:
                return f"templates/{name}:{number}"
    return None


__all__ = ["BrokenLink", "LinkReport", "template_line"]
