"""What every stage of one build uses (``Run``): the site's config, the reporter, the
stage timer, the render worker count, the build's clock and the pages generation the
build's plan started from."""

from __future__ import annotations

from datetime import datetime

from ssgen.build.progress import Reporter
from ssgen.build.report import StageTimer
from ssgen.config.load import Config
from ssgen.fastclass import dataclass

_BUILDS: dict[str, int] = {}  # per output folder: how many builds this process began


def next_build(config: Config) -> int:
    """The number of a build of ``config``'s site that plans its pages now, among this
    process's (a build skipped whole on unchanged inputs plans none and takes none)."""
    where = str(config.output_dir)
    number = _BUILDS[where] = _BUILDS.get(where, 0) + 1
    return number


@dataclass
class Run:
    """What every stage of one build uses."""

    config: Config
    reporter: Reporter
    timer: StageTimer
    jobs: int | None
    now: datetime
    since: str | None = None  # the manifest's pages generation when planning began
    serial: int = 0  # this build's number among the site's that planned pages (next_build)
    sizes: str = ""  # the input files' names and sizes its fingerprint is of (untouched)
    # What a build with ``release=False`` leaves for the process's exit (``left_for_exit``).
    left: list[object] | None = None
