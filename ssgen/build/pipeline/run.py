"""What every stage of one build uses (``Run``): the site's config, the reporter, the
stage timer, the render worker count, the build's clock and the pages generation the
build's plan started from."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from ssgen.build.progress import Reporter
from ssgen.build.report import StageTimer
from ssgen.config.load import Config

BUILDS = itertools.count(1)


@dataclass
class Run:
    """What every stage of one build uses."""

    config: Config
    reporter: Reporter
    timer: StageTimer
    jobs: int | None
    now: datetime
    since: str | None = None  # the manifest's pages generation when planning began
    serial: int = field(default_factory=lambda: next(BUILDS))  # this process's builds, in order
