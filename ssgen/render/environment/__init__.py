"""The Jinja2 rendering layer: `Renderer`, one Jinja2 environment per site.

``renderer`` owns `Renderer` (rendering, template texts and hashes, the dependency graph
used for ``template:<file>`` tags, the process's shared renderer); ``setup`` builds the
Jinja2 environment (the site's ``templates/`` plus the built-in templates under the
``_ssgen/`` prefix); ``analysis`` reads a template's AST (the templates it names, the
variables and ``data`` fields it reads); ``failures`` turns a Jinja2 failure into a
`RenderError`'s message and place. Imports point one way: renderer > analysis | failures
| setup (a contract in pyproject.toml).
"""

from __future__ import annotations

from ssgen.render.environment.renderer import _SHARED, Analysis, Renderer
from ssgen.render.environment.setup import BUILTIN_DIR, BUILTIN_PREFIX, MISSING_HASH

__all__ = ["BUILTIN_DIR", "BUILTIN_PREFIX", "MISSING_HASH", "_SHARED", "Analysis", "Renderer"]
