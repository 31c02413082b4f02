"""``ssgen build`` and ``ssgen revalidate`` themselves, without typer: load the site, build,
print, and the exit code.

The typer commands (``ssgen.cli.build``) and the console entry point's plain path
(``ssgen.cli.entry``) both run ``build_site`` and ``revalidate_site``, so a command behaves
the same whichever way its options were read. ``exit_process`` ends the process the way
every command does.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from ssgen import fastimport, fastre
from ssgen.cli.summary import (
    Options,
    err_console,
    escape,
    report_build,
    report_error,
    report_interrupted,
)
from ssgen.errors import SsgenError
from ssgen.fastclass import save_compiled

if TYPE_CHECKING:
    from ssgen.config.load import Config
    from ssgen.links import LinkReport


def build_site(options: Options, *, full: bool = False, jobs: int | None = None,
               drafts: bool = False, changes: Path | None = None,
               base_url: str | None = None, check: bool = False, external: bool = False,
               show_links: Callable[[Options, LinkReport], None] | None = None) -> int:
    """Build the ``--site`` folder; print failures and the summary; the exit code.
    ``check``: then check the output's links (``--external``: off-site ones too), shown
    by ``show_links``; a broken one exits 1."""
    from ssgen.build import damage_ahead
    from ssgen.build.ahead import remember
    from ssgen.config.load import load_config
    from ssgen.sources import early

    reporter = options.reporter()
    try:
        config = load_config(options.site, base_url=base_url)
        # The other cores parse the Markdown files and check the output while this one
        # imports the build. The output's child is forked first: early may start a thread.
        if not full:
            damage_ahead.begin(config, jobs)
        early.begin(config, jobs)
        from ssgen.build.pipeline import build

        resume_gc(freeze=True)

        links = None
        if check:
            from ssgen.build.linkcheck import link_options

            links = link_options(config, external=external or None)
        report = build(config, full=full, jobs=jobs, drafts=drafts, reporter=reporter,
                       release=False, check=links,
                       remember=base_url is None and not full)
        remember(config)
    except SsgenError as exc:
        return report_error(exc)
    except KeyboardInterrupt:
        return report_interrupted()
    finally:
        early.discard()
        damage_ahead.discard()
    if report.links is not None and show_links is not None:
        show_links(options, report.links)
    code = report_build(options, report, changes)
    if code == 0 and report.links is not None and not report.links.ok:
        return 1
    return code


def revalidate_site(options: Options, *, tags: tuple[str, ...] = (),
                    paths: tuple[str, ...] = (), docs: tuple[str, ...] = (),
                    changes: Path | None = None) -> int:
    """Rebuild only what ``tags``, ``paths`` and ``docs`` (document ids) reach (at least
    one given); print failures and the summary; the exit code."""
    from ssgen.build import damage_ahead
    from ssgen.config.load import load_config
    from ssgen.sources import early

    try:
        config = load_config(options.site)
        damage_ahead.begin(config, None)  # the output checked on the other core meanwhile
        early.read_ahead(config)  # and the input files read on a thread (after the fork)
        from ssgen.build.change import Change, DocChange
        from ssgen.build.inspect import document_types
        from ssgen.build.pipeline import build

        resume_gc(freeze=True)
        types = document_types(config, list(docs))
        change = Change(documents=tuple(DocChange(d, types.get(d)) for d in docs),
                        tags=frozenset(tags), paths=frozenset(paths), reasons=("revalidate",))
        _warn_unreached(config, paths, tags)
        report = build(config, change=change, reporter=options.reporter(), release=False)
    except SsgenError as exc:
        return report_error(exc)
    except KeyboardInterrupt:
        return report_interrupted()
    finally:
        damage_ahead.discard()
        early.discard()
    return report_build(options, report, changes)


def _warn_unreached(config: Config, paths: tuple[str, ...], tags: tuple[str, ...]) -> None:
    """Say which --path / --tag matches no page of the last build (a typo does nothing)."""
    from ssgen.build.inspect import inspect_page, inspect_tag

    def known(page: str) -> bool:
        try:
            inspect_page(config, page)
        except SsgenError:
            return False
        return True

    for page in paths:
        if not known(page):
            err_console().print(
                f"[yellow]warning:[/yellow] no page {escape(page)} in the last build "
                "(see `ssgen inspect --tag route:<name>` for a route's pages)",
                highlight=False, soft_wrap=True,
            )
    for name in tags:
        with contextlib.suppress(SsgenError):
            if not inspect_tag(config, name).get("pages"):
                err_console().print(f"[yellow]warning:[/yellow] no page has the tag "
                                    f"{escape(name)}", highlight=False, soft_wrap=True)


# Whether ``pause_gc`` turned the cyclic collector off (it is on again after ``resume_gc``).
_GC_PAUSED: list[bool] = []


def pause_gc(*, was_enabled: bool | None = None) -> None:
    """No cyclic collections while the command's modules import: they only allocate,
    and the collector's passes over the new objects cost ~6 ms of a build's start.
    ``was_enabled``: whether it was on before the caller turned it off itself."""
    if was_enabled if was_enabled is not None else gc.isenabled():
        gc.disable()
        _GC_PAUSED.append(True)


def resume_gc(*, freeze: bool = False) -> None:
    """The collector back on, if ``pause_gc`` turned it off. ``freeze``: what the start
    allocated (modules, configuration, the 16k entries of a Markdown site's parse cache)
    is moved out of its reach first (``gc.freeze``; the build unfreezes it when done):
    else the first collections walk all of it, ~40-70 ms of a one-file edit at 16k files."""
    if _GC_PAUSED:
        _GC_PAUSED.clear()
        if freeze:
            gc.freeze()
        gc.enable()


# Set by a stopped ``ssgen serve`` (``leave_heap_for_exit``).
_HEAP_LEFT: list[bool] = []


def leave_heap_for_exit() -> None:
    """Have ``exit_process`` end the process with ``os._exit``, without freeing its heap:
    a stopped server's kept source is gigabytes at 100,000 posts, and its teardown took
    half of a 10,000-post server's stop (docs/serve.md)."""
    _HEAP_LEFT.append(True)


def exit_process(code: str | int | None) -> NoReturn:
    """``sys.exit(code)``; when a build left its dataset for the process's exit, or a
    server its kept source (``leave_heap_for_exit``),
    ``os._exit`` without freeing it (0.25 s at 20k documents): the output and the
    manifest are closed already; only the streams need flushing. The compiled
    dataclass ``__init__``s, regular expressions and module code are kept for the next
    process first (``fastclass``, ``fastre``, ``fastimport``)."""
    save_compiled()
    fastre.save_compiled()
    fastimport.save_compiled()
    deferred = sys.modules.get("ssgen.sources.snapshot.background")
    if deferred is not None:  # a snapshot re-save left for the exit (``later``)
        deferred.run_deferred()
    pipeline = sys.modules.get("ssgen.build.pipeline")
    if not _HEAP_LEFT and (pipeline is None or not pipeline.left_for_exit()):
        sys.exit(code)
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code or 0)
