"""The build: one code path for full, incremental and serve rebuilds.

Owns the stages of the data path, one module each: ``scope`` (what a change reaches),
``collect`` (route queries -> page specs), ``plan`` (which pages to render), ``workers``
(render processes), ``output`` (atomic files), ``record`` (the manifest after the files),
``extras`` (static copy, sitemap, feed), ``images`` (the local image variants pages use:
rendered on workers, cached, swept), and the ``Change`` and ``BuildReport`` values.
Exposes ``build``. May import render, manifest, sources, routes, config, groq, errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ssgen.build.pipeline import build, left_for_exit, release_left

__all__ = ["build", "left_for_exit", "release_left"]


def __getattr__(name: str) -> Any:
    # Lazy: importing one stage (``ssgen.build.progress``) must not load the whole pipeline.
    if name in __all__:
        from ssgen.build import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'ssgen.build' has no attribute {name!r}")
