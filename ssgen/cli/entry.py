"""The console entry point (``ssgen``, ``python -m ssgen``).

A plain ``ssgen build`` or ``ssgen revalidate`` (see ``ssgen.cli.argv.plain_command``) runs
without importing typer, click and pydantic: about 0.15 s less CPU at start, a third of a
1,000-page build. Everything else, ``--help`` and every mistake included, goes through the
typer app.
"""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING, NoReturn

from ssgen import fastimport, fastre

if TYPE_CHECKING:
    from ssgen.cli.argv import PlainBuild, PlainRevalidate


def run() -> None:
    """Run the command line on ``sys.argv`` and exit (see ``exit_process``)."""
    enabled = gc.isenabled()
    gc.disable()  # until the command's modules are imported (``resume_gc``)
    fastimport.install()  # before the command's modules import
    fastre.install()  # before any module compiles its patterns
    from ssgen.cli.argv import PlainBuild, hoist_global_options, plain_command

    args = hoist_global_options(sys.argv[1:])
    request = plain_command(args)
    if isinstance(request, PlainBuild):
        # Edits of Markdown files that keep their pages: only those pages, nothing else
        # loaded (``ssgen.build.quick``; None: the ordinary build below).
        if not (request.full or request.drafts or request.base_url is not None
                or request.check):
            _quick(request)
        # The stats of the inputs and the output (and a cold build's parse) begin on the
        # other core while the configuration's and the build's modules import
        # (``ssgen.build.ahead``).
        from ssgen.build.ahead import start

        start(request.site, request.jobs, full=request.full)
    from ssgen.cli.plain import exit_process, pause_gc, resume_gc

    pause_gc(was_enabled=enabled)
    code: str | int | None = 0
    try:
        if request is None:
            from ssgen.cli.app import app

            resume_gc()
            app(args=args)
        else:
            code = run_plain(request)
    except SystemExit as exc:
        code = exc.code
    finally:
        resume_gc()  # if the command stopped before its build started
    exit_process(code)


def _quick(request: PlainBuild) -> None:
    """Exit with the quick build's code when it took the build (``build.quick``)."""
    from ssgen.build.quick import attempt

    try:
        quick = attempt(request.site, request.jobs)
    except KeyboardInterrupt:
        from ssgen.cli.summary import report_interrupted

        _exit_quick(report_interrupted())
    if quick is not None:
        from ssgen.cli.summary import Options, report_build

        _exit_quick(report_build(Options(site=request.site, verbosity=request.verbosity),
                                 quick, request.changes))


def _exit_quick(code: int) -> NoReturn:
    """End a quick build's process: what ``exit_process`` keeps for the next process
    kept, the streams flushed, and no freeing of what it loaded (``os._exit``)."""
    import contextlib
    import os

    from ssgen.fastclass import save_compiled

    save_compiled()
    fastre.save_compiled()
    fastimport.save_compiled()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def run_plain(request: PlainBuild | PlainRevalidate) -> int:
    """Run a command ``plain_command`` read, as its typer command would; its exit code."""
    from ssgen.cli.argv import PlainRevalidate
    from ssgen.cli.plain import build_site, revalidate_site
    from ssgen.cli.summary import Options, print_links

    options = Options(site=request.site, verbosity=request.verbosity)
    if isinstance(request, PlainRevalidate):
        return revalidate_site(options, tags=request.tags, paths=request.paths,
                               docs=request.docs, changes=request.changes)
    return build_site(options, full=request.full, jobs=request.jobs, drafts=request.drafts,
                      changes=request.changes, base_url=request.base_url, check=request.check,
                      external=request.external, show_links=print_links)
