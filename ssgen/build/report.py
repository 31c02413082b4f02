"""What a build reports: counts, the files it touched, and each page that failed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PageFailure:
    """A page that failed to render or write; its last good file is kept."""

    path: str
    route: str
    message: str


@dataclass
class BuildReport:
    """What a build did. ``new``/``changed``/``deleted`` are output files (relpaths)."""

    rendered: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failures: list[PageFailure] = field(default_factory=list)
    full: bool = True
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every page built."""
        return not self.failures

    def summary(self) -> str:
        """The one-line summary printed after a build."""
        kind = "full" if self.full else "incremental"
        errors = len(self.failures)
        return (
            f"{kind} build: {self.rendered} rendered, {self.written} written, "
            f"{self.unchanged} unchanged, {self.removed} removed, "
            f"{errors} error{'s' if errors != 1 else ''} in {self.seconds:.2f}s"
        )

    def changes(self) -> dict[str, list[str]]:
        """New, changed and deleted files, as ``--changes`` writes them."""
        return {
            "new": sorted(self.new),
            "changed": sorted(self.changed),
            "deleted": sorted(self.deleted),
        }
