"""The Jinja2 environment of a site: its loaders, autoescape, undefined and code generator.

Owns where templates come from (the site's ``templates/`` and the built-in templates
under the ``_ssgen/`` prefix) and how they compile (StrictUndefined, no per-process
size limit, the fragment-aware code generator, the loop splicer compiled loops call).
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from ssgen.render.fragments import FragmentCache, FragmentCodeGenerator
from ssgen.render.loops import splice

BUILTIN_PREFIX = "_ssgen"
BUILTIN_DIR = Path(__file__).parent.parent / "builtin_templates"
MISSING_HASH = "missing"


def make_environment(
    templates_dir: Path, auto_reload: bool, bytecode_cache_dir: Path | None
) -> jinja2.Environment:
    """A Jinja2 environment over ``templates_dir`` and the built-in templates."""
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(str(templates_dir)),
            jinja2.PrefixLoader({BUILTIN_PREFIX: jinja2.FileSystemLoader(str(BUILTIN_DIR))}),
        ]
    )
    cache = None
    if bytecode_cache_dir is not None:
        bytecode_cache_dir.mkdir(parents=True, exist_ok=True)
        cache = jinja2.FileSystemBytecodeCache(str(bytecode_cache_dir))
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=auto_reload,
        cache_size=-1,
        bytecode_cache=cache,
    )
    env.code_generator_class = FragmentCodeGenerator
    env.fragments = FragmentCache()  # type: ignore[attr-defined]  # off unless a Renderer turns it on
    env.loop_splice = splice  # type: ignore[attr-defined]  # compiled loops call it
    return env
