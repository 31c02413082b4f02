"""A cold build's staging folder: pages written where no reader looks, then swapped in whole.

When a full build starts with no output folder at all (a first build, CI without a cache),
its pages go into ``.ssgen-tmp-<pid>-<name>`` beside where the output folder belongs,
written in place (no temp file and rename a page: no reader can see this folder), and
the folder is renamed to the output's name when the render ends. A reader sees no
output folder, then the whole rendered site at once: never half a page.

A build killed before the swap leaves the staging folder behind: the next build deletes
it (``sweep_staging``; named for its writer's pid, so never a live build's). Its rows
committed meanwhile (``ssgen.build.record.EarlyRecord``) name files that are not in the
output: the next build finds them missing (a first build's manifest is unfinished, so
that build is full; else the damage check re-renders them), as after any outside
deletion.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ssgen.build.output.fileops import problem, walk_files
from ssgen.build.output.temps import TEMP_PREFIX, writer_alive
from ssgen.build.output.writer import Output
from ssgen.errors import OutputError


def staging_name(output_dir: Path, pid: int) -> str:
    """The staging folder's name for ``output_dir`` and the writer ``pid``."""
    return f"{TEMP_PREFIX}{pid}-{output_dir.name}"


@contextmanager
def staged(output_dir: Path, *, on: bool) -> Iterator[Path | None]:
    """The folder to write the pages into, swapped in as ``output_dir`` on leaving: a
    staging folder when ``on`` and there is no output folder yet, else None (write to
    ``output_dir`` as usual). Left with an error too: the files written are whole, as
    the pages written into the output folder by a build that fails are."""
    if not on or os.path.lexists(output_dir):
        yield None
        return
    owner = os.getpid()
    folder = output_dir.parent / staging_name(output_dir, owner)
    try:
        output_dir.parent.mkdir(parents=True, exist_ok=True)
        sweep_staging(output_dir)
        if folder.exists():  # this process's own, from a build that raised past its swap
            shutil.rmtree(folder)
        folder.mkdir()
    except OSError as exc:
        raise OutputError(f"cannot create {folder}: {problem(exc)}") from exc
    try:
        yield folder
    finally:
        if os.getpid() == owner:  # never a forked worker leaving through here
            _swap_in(folder, output_dir)


def _swap_in(folder: Path, output_dir: Path) -> None:
    try:
        os.rename(folder, output_dir)  # atomic: no output folder (or an empty one) before
        return
    except OSError:
        pass
    # Something made the output folder meanwhile: the files move in one by one,
    # each atomically, through the checks of every output write.
    out = Output(output_dir)
    for rel, source in walk_files(folder):
        out.copy_file(source, rel)
    shutil.rmtree(folder, ignore_errors=True)


def sweep_staging(output_dir: Path) -> list[str]:
    """Delete the staging folders that killed builds left beside ``output_dir``; their
    names."""
    prefix, suffix = TEMP_PREFIX, f"-{output_dir.name}"
    try:
        with os.scandir(output_dir.parent) as entries:
            found = [entry.name for entry in entries
                     if entry.name.startswith(prefix) and entry.name.endswith(suffix)
                     and entry.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    dead = [name for name in found if not writer_alive(name)]
    for name in dead:
        shutil.rmtree(output_dir.parent / name, ignore_errors=True)
    return dead


__all__ = ["staged", "staging_name", "sweep_staging"]
