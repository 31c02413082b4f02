"""The build that finds nothing to do: the input files' digest, the templates and the
earlier failures all as the last build recorded them, so the site is not even loaded.

Also owns the input files' sizes recorded beside that digest (``input_sizes``,
``SIZES_KEY``): a file added, removed or resized since (``resized``) means bytes that
differ, so the digest cannot be the recorded one and a new process loads its source
without waiting for it (the SHA-256 of a 670 MB dataset at 100,000 posts: ~0.6 s CPU
after the read, on the other core while the snapshot decodes).
"""

from __future__ import annotations

import hashlib

from ssgen.build.collect import NOT_FOUND_PATH, NOT_FOUND_TEMPLATE
from ssgen.build.plan import AllPaths, RenderPlan
from ssgen.build.report import BuildReport
from ssgen.build.scope import changed_templates
from ssgen.manifest.store import Manifest
from ssgen.render.environment import Renderer
from ssgen.sources import Source
from ssgen.sources.inputs import Listed, ReadInputs, snapshot_wanted

# The manifest's meta key of the input files' names and sizes the recorded digest is of.
SIZES_KEY = "input_sizes"
# Its key of the digest of the input files the last complete build was of.
INPUTS_KEY = "inputs"


def forget_inputs(manifest: Manifest) -> None:
    """The recorded inputs' digest cleared, in the transactions that change what the
    records say (the journal of the pages about to be written, the record stage): until
    the build's end records its own, no build finds the site untouched. A build killed
    in between, whose inputs were then put back as the last complete build had them,
    left records (and files) of other inputs that the old digest would have vouched
    for."""
    manifest.set_meta(INPUTS_KEY, "")


def fingerprint(source: Source) -> str | None:
    fingerprint = getattr(source, "fingerprint", None)
    return str(fingerprint()) if fingerprint is not None else None


def input_sizes(read: ReadInputs | Listed) -> str:
    """A digest of the input files' names and sizes as ``read`` took them, for a site
    whose build resumes a snapshot (NDJSON or an export); "" for a Markdown-only site
    (its new processes decode no snapshot: nothing to start early, and ~16,000 stamps
    to go through)."""
    if read.inputs is None or read.stamps is None or not snapshot_wanted(read.inputs):
        return ""
    digest = hashlib.blake2b(digest_size=16)
    for item, stamp in zip(read.inputs, read.stamps, strict=True):
        digest.update(f"{item.display}\0{stamp[1]}\0".encode())
    return digest.hexdigest()


def resized(manifest: Manifest, read: ReadInputs | Listed) -> bool:
    """Whether ``read``'s files (or those listed for a read, as stat'ed before it) are not
    the ones the recorded digest is of by their names and sizes alone: then this build is
    no build with nothing to do, whatever the digest says. False whenever either side is
    unknown (the digest then decides)."""
    recorded = manifest.get_meta(SIZES_KEY)
    if not recorded:
        return False
    sizes = input_sizes(read)
    return bool(sizes) and sizes != recorded


def untouched(manifest: Manifest, renderer: Renderer, inputs: str) -> bool:
    """True when no input file, template or earlier failure can make this build differ.

    The input files are compared by a digest of their bytes (read, not parsed), so an unchanged
    site is not even loaded; any doubt falls through to the full incremental path.
    """
    return (
        manifest.get_meta(INPUTS_KEY) == inputs
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
