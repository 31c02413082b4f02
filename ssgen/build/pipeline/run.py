"""What every stage of one build uses (``Run``): the site's config, the reporter, the
stage timer, the render worker count and the build's clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ssgen.build.progress import Reporter
from ssgen.build.report import StageTimer
from ssgen.config.load import Config


@dataclass
class Run:
    """What every stage of one build uses."""

    config: Config
    reporter: Reporter
    timer: StageTimer
    jobs: int | None
    now: datetime
