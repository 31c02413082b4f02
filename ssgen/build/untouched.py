"""The build that finds nothing to do: the input files' digest, the templates and the
earlier failures all as the last build recorded them, so the site is not even loaded."""

from __future__ import annotations

from ssgen.build.collect import NOT_FOUND_PATH, NOT_FOUND_TEMPLATE
from ssgen.build.plan import AllPaths, RenderPlan
from ssgen.build.report import BuildReport
from ssgen.build.scope import changed_templates
from ssgen.manifest.store import Manifest
from ssgen.render.environment import Renderer
from ssgen.sources import Source


def fingerprint(source: Source) -> str | None:
    fingerprint = getattr(source, "fingerprint", None)
    return str(fingerprint()) if fingerprint is not None else None


def untouched(manifest: Manifest, renderer: Renderer, inputs: str) -> bool:
    """True when no input file, template or earlier failure can make this build differ.

    The input files are compared by a digest of their bytes (read, not parsed), so an unchanged
    site is not even loaded; any doubt falls through to the full incremental path.
    """
    return (
        manifest.get_meta("inputs") == inputs
        and not manifest.failures()
        and not changed_templates(manifest, renderer)
        and not special_templates_changed(manifest, renderer)
    )


def special_templates_changed(manifest: Manifest, renderer: Renderer) -> bool:
    """Was ``templates/404.html`` added or removed since its page was last recorded?"""
    built = bool(manifest.files_at([NOT_FOUND_PATH.lstrip("/")]))
    return built != (renderer.template_source(NOT_FOUND_TEMPLATE) is not None)


def nothing_changed(manifest: Manifest) -> tuple[BuildReport, RenderPlan]:
    """The report and (empty) plan of a build that found nothing to do."""
    paths = AllPaths(manifest.page_paths())
    plan = RenderPlan(pages={}, all_paths=paths)
    return BuildReport(unchanged=len(paths)), plan
