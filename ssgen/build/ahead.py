"""A new ``ssgen build``'s stats started before its configuration is loaded.

Owns ``start(site, jobs)``, ``remember(config)`` and the plan file ``.ssgen/ahead.plan``.
After a one-file edit of a 16k-file Markdown site, a new process stats every input file
(``ssgen.sources.early``) and every owned output file (``ssgen.build.damage_ahead``) in
forked children, ~80 ms CPU between them, while it imports its modules on one core. Begun
once the configuration is loaded they had ~45 ms of imports to hide behind, and this
process stat'ed half of the inputs itself. ``start``, called by the console entry point
before it imports the configuration's modules, reads the plan the last build of the site
left (its inputs' ``Layout`` and its output folder), loads the parse cache, lists the
inputs and forks the children then. It decides nothing: ``early.begin`` and
``damage_ahead.begin`` keep what it started only when the loaded configuration has the
same layout and output folder, and stop it otherwise; the children's work is the one the
build would have begun itself, only earlier (the output's under the early build lock). A
missing plan (a site's first build, a cold ``build --full``) starts the inputs' children
from a first look at ``ssgen.toml`` instead (``ssgen.config.preread``), which
``early.begin`` checks as it checks a plan; an unreadable plan starts nothing.
``remember`` writes the plan after a build when it differs from the one read.
"""

from __future__ import annotations

import contextlib
import marshal
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ssgen.build import damage_ahead
from ssgen.config.preread import read_source
from ssgen.errors import SsgenError
from ssgen.memos import site_memo
from ssgen.sources import early
from ssgen.sources.inputs import Layout, layout

if TYPE_CHECKING:
    from ssgen.config.load import Config

PLAN = "ahead.plan"
_MAGIC = b"ssgen ahead plan 1\n"
_READ: dict[str, bytes] = site_memo()  # site folder -> the plan's bytes as ``start`` read them


def start(site: Path, jobs: int | None, *, full: bool = False) -> None:
    """Start the children the last build's plan for the site folder ``site`` names (with
    no plan there, a site's first build: its inputs' from a first look at its
    ``ssgen.toml``); ``full``: the inputs' alone (a full build checks no output)."""
    folder = Path(site).absolute()  # as ``load_config`` makes ``Config.site_dir``
    try:
        with open(folder / ".ssgen" / PLAN, "rb") as handle:
            data = handle.read()
    except OSError:
        _guessed(folder, jobs)
        return
    _READ[str(folder)] = data
    plan = _plan(data)
    if plan is None or plan[0].site_dir != str(folder):
        return
    inputs, output_dir = plan
    try:
        if not full:
            damage_ahead.start(folder, Path(output_dir), jobs)
        early.start(inputs, jobs)
    except (SsgenError, OSError):  # the build meets it again, and says so
        early.discard()
        damage_ahead.discard()


def _guessed(folder: Path, jobs: int | None) -> None:
    """``early.start`` for the inputs ``ssgen.toml``'s ``[source]`` seems to name
    (``ssgen.config.preread``: a guess, which ``early.begin`` checks)."""
    guess = read_source(folder)
    if guess is None:
        return
    try:
        early.start(Layout(str(folder), *guess), jobs)
    except (SsgenError, OSError):
        early.discard()


def remember(config: Config) -> None:
    """Keep ``config``'s plan for the next process (written only when it changed);
    none for shared state or a remote source, which ``start`` would not serve."""
    path = config.state_dir / PLAN
    if config.state_url is not None or config.source.type != "local":
        if _READ.pop(str(config.site_dir), None) is not None:
            with contextlib.suppress(OSError):
                path.unlink()
        return
    data = _MAGIC + marshal.dumps((tuple(layout(config)), str(config.output_dir)))
    if _READ.get(str(config.site_dir)) == data or not config.state_dir.is_dir():
        return
    temp = path.with_name(f"{PLAN}.{os.getpid()}.tmp")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    except OSError:  # a plan not kept only starts nothing ahead
        with contextlib.suppress(OSError):
            temp.unlink()
        return
    _READ[str(config.site_dir)] = data


def _plan(data: bytes) -> tuple[Layout, str] | None:
    """The plan in ``data`` (None: not one this version wrote)."""
    if not data.startswith(_MAGIC):
        return None
    try:
        found = marshal.loads(data[len(_MAGIC):])
        inputs, output_dir = found
        site = Layout(*inputs)
    except (ValueError, EOFError, TypeError):
        return None
    files = site.files
    if not (all(type(value) is str for value in (*site[:2], *site[3:], output_dir))
            and (files is None or (type(files) is tuple
                 and all(type(name) is str for name in files)))):
        return None
    return site, output_dir
