"""``.ssgen/templates.analysis``: what earlier processes' renderers worked out of the templates.

Owns the file. Each build asks of a route's template chain which templates it names,
which context variables it reads and which ``data.<name>`` globals
(``Renderer.template_chain``, ``Renderer.reads_any``, ``Renderer.globals_used``):
Jinja2 parses each template and runs its code generator over it (~2 ms for a one-line
template, a new process after a one-file edit of a 16k-file site). The answers depend on
the template's text (each is kept with its source's digest and used only for that text:
``Renderer.adopt``), ssgen's code, Jinja2's version and the configuration, so the file is
kept under the fragments' key (``ssgen.build.fragfile.store_key``), which covers all of
them, and checksummed. Anything else (missing, damaged, another key, another shape) is
ignored: the templates are analysed again, as without the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ssgen.build.sealed import read_sealed, write_sealed
from ssgen.render.environment import Analysis

MAGIC = b"ssgen-template-analysis-1\n"
FILE = "templates.analysis"
_KINDS = ("refs", "reads", "fields")


def load(path: Path, key: bytes) -> Analysis | None:
    """The analysis saved under ``key``; None when there is none to trust."""
    analysis: Analysis | None = read_sealed(path, MAGIC, key, _well_formed)
    return analysis


def save(path: Path, key: bytes, analysis: Analysis) -> None:
    """Replace the file with ``analysis`` under ``key``."""
    write_sealed(path, MAGIC, key, analysis, "template analysis")


def _well_formed(analysis: Any) -> bool:
    return type(analysis) is dict and set(analysis) <= set(_KINDS) and all(
        type(known) is dict and all(_answer(name, answer) for name, answer in known.items())
        for known in analysis.values())


def _answer(name: Any, answer: Any) -> bool:
    if type(name) is not str or type(answer) is not tuple or len(answer) != 2:
        return False
    digest, found = answer
    return type(digest) is str and (found is None or (
        type(found) is frozenset and all(type(item) is str for item in found)))


__all__ = ["FILE", "MAGIC", "load", "save"]
