"""Test-wide settings: hypothesis runs derandomized in CI so a run is reproducible.

Locally the property tests explore new examples on every run (and keep failures in
.hypothesis/); in CI (CI=true) each run checks the same generated cases, so a red CI
points at a change, not at luck. Either way no property test has a per-example deadline:
the machine is shared and timing is not what they check.

CLI commands run in-process leave their build's data for a process exit that never
comes (``ssgen.build.pipeline.left_for_exit``); each test frees it.

The many tests that build a copy of the default site share one image variant cache
(``SSGEN_IMAGE_CACHE``), so its ~200 variants are rendered once per run, not per copy;
tests of the image stage itself use their site's own cache.

``SSGEN_SOAK=N`` multiplies every property test's ``max_examples`` by N (a long soak run
by hand; CI never sets it). The crash property has its own ``SSGEN_LONG``.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from ssgen.build.pipeline import release_left

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    scale = int(os.environ.get("SSGEN_SOAK") or 1)
    if scale <= 1:
        return
    for item in items:
        test = getattr(item, "obj", None)
        chosen = getattr(test, "_hypothesis_internal_use_settings", None)
        if chosen is not None:
            test._hypothesis_internal_use_settings = settings(  # type: ignore[union-attr]
                chosen, max_examples=chosen.max_examples * scale)


@pytest.fixture(scope="session", autouse=True)
def _shared_image_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    folder = tmp_path_factory.mktemp("image-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSGEN_IMAGE_CACHE", str(folder))
        yield


@pytest.fixture(autouse=True)
def _free_builds_left_for_exit() -> Iterator[None]:
    yield
    release_left()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A PostgreSQL cluster for the whole session (tests/pgkit.py)."""
    from pgkit import PgServer

    server = PgServer().start()
    try:
        yield server
    finally:
        from ssgen.manifest.pg import close_pools

        close_pools()
        server.stop()


@pytest.fixture
def pg_url(pg_server: Any) -> str:
    """The URL of a fresh database on the session's PostgreSQL server."""
    return str(pg_server.new_database())


def pytest_collection_finish(session: pytest.Session) -> None:
    # The collected modules, strategies and parameters live for the whole run: frozen
    # out of the collector's sight until the first in-process build unfreezes the heap
    # at its end (the GROQ tests before it: conformance 3.7x less CPU in one run).
    # Freezing before every test instead (tried) kept each test's cycles until a
    # periodic collection of the whole heap (5-12 s each): the suite took 22 min, not 18.
    gc.collect()
    gc.freeze()
