"""The build: one code path for full, incremental and serve rebuilds.

Owns the stages of the data path, one module each: ``scope`` (what a change reaches),
``collect`` (route queries -> page specs), ``plan`` (which pages to render), ``workers``
(render processes), ``output`` (atomic files), ``record`` (the manifest after the files),
``extras`` (static copy, sitemap, feed), and the ``Change`` and ``BuildReport`` values.
Exposes ``build``. May import render, manifest, sources, routes, config, groq, errors.
"""

from ssgen.build.pipeline import build, left_for_exit, release_left

__all__ = ["build", "left_for_exit", "release_left"]
