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

import compileall
import gc
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Before ssgen is imported: any read of an unfilled snapshot shell raises (``ssgen.shells``),
# in this process and the commands it starts (snapshots are resumed lazily unless
# ``SSGEN_LAZY_SNAPSHOT=0``).
os.environ.setdefault("SSGEN_STRICT_SHELLS", "1")

from ssgen.build.pipeline import release_left
from ssgen.memos import forget_sites
from ssgen.sources import codestamp

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


@pytest.fixture(scope="session", autouse=True)
def _code_digest_kept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """ssgen's code digest recorded once for the run, as beside the code where bytecode
    is written (``codestamp._beside``; the environment here sets PYTHONDONTWRITEBYTECODE):
    else each build of a new site hashes all of ssgen's files again (~30 ms). The record
    is still checked against every file's stamps before it is taken."""
    record = tmp_path_factory.mktemp("code-digest") / "code-digest.bin"
    real = codestamp._beside

    def beside(root: Path) -> list[Path]:
        return real(root) or ([record] if root == codestamp.CODE else [])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(codestamp, "_beside", beside)
        yield


@pytest.fixture(autouse=True)
def _free_builds_left_for_exit() -> Iterator[None]:
    yield
    release_left()
    # A plain command's snapshot save deferred to its exit (``run_deferred``) holds the
    # whole source: in this process the exit never comes (a 2,500-post site: 0.5 GB).
    background = sys.modules.get("ssgen.sources.snapshot.background")
    if background is not None:
        background._DEFERRED.clear()


_SHARED_SCOPES = frozenset({"class", "module", "package"})


@pytest.fixture(scope="module", autouse=True)
def _forget_sites_after_module() -> Iterator[None]:
    yield
    forget_sites()


@pytest.fixture(autouse=True)
def _forget_sites(request: pytest.FixtureRequest) -> Iterator[None]:
    """What each test's builds memoised of their sites, let go after it (``ssgen.memos``):
    otherwise every earlier test's sites stay alive, and each full collection of every
    later build walks them (the pytest process reached ~1 GB). A test that shares a
    module-scoped fixture (a served site, a kept worker) keeps them to its module's end:
    that fixture's site may still be built from another thread."""
    yield
    used = request.node._fixtureinfo.name2fixturedefs
    if not any(d.scope in _SHARED_SCOPES for name, defs in used.items()
               if name != "_forget_sites_after_module" for d in defs):
        forget_sites()


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
def pg_url(pg_server: Any) -> Iterator[str]:
    """The URL of a fresh database on the session's PostgreSQL server.

    Its pool is closed after the test: each database has its own pool, and pools kept
    to the session's end would run the server out of connections.
    """
    from ssgen.manifest.pg import close_pools

    try:
        yield str(pg_server.new_database())
    finally:
        close_pools()


# Where the tests' files go unless SSGEN_TEST_TMPFS=0 or TMPDIR is set: in memory, when
# there is room.
MEMORY_TEMP, MEMORY_TEMP_FREE = Path("/dev/shm"), 4 << 30


def pytest_configure(config: pytest.Config) -> None:
    # The commands the tests run as new processes import ssgen from its bytecode, not
    # by compiling each module again (~300 ms a process in a fresh checkout, where the
    # environment's PYTHONDONTWRITEBYTECODE leaves none): compiled once here.
    compileall.compile_dir(codestamp.CODE, quiet=1)
    _temp_in_memory()


def _temp_in_memory() -> None:
    """The tests' sites (``tmp_path``, ``tempfile``, the commands' children) on tmpfs:
    each build's manifest commits and atomic writes sync, and on a disk shared with
    other work (a 100k-post benchmark) those syncs, not the tests, set the suite's
    time. The builds do the same writes either way; only their durability differs,
    which no test can observe without a power cut. Off with ``SSGEN_TEST_TMPFS=0``, a
    ``TMPDIR`` of one's own, or less than 4 GiB free in /dev/shm (a container's
    64 MiB one). tmpfs lists a folder in creation order, ext4 by a hash of the names:
    output that depends on listing order differs there (the search bundle did), so
    running the suite on both is worth it."""
    if os.environ.get("SSGEN_TEST_TMPFS", "1") == "0" or os.environ.get("TMPDIR") \
            or not MEMORY_TEMP.is_dir():
        return
    free = os.statvfs(MEMORY_TEMP)
    if free.f_bavail * free.f_frsize < MEMORY_TEMP_FREE:
        return
    folder = MEMORY_TEMP / f"ssgen-tests-{os.getuid()}"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o711)  # passable: the PostgreSQL cluster's folder is the postgres user's
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = None  # chosen again, from TMPDIR


def pytest_collection_finish(session: pytest.Session) -> None:
    # The collected modules, strategies and parameters live for the whole run: frozen
    # out of the collector's sight until the first in-process build unfreezes the heap
    # at its end (the GROQ tests before it: conformance 3.7x less CPU in one run).
    # Freezing before every test instead (tried) kept each test's cycles until a
    # periodic collection of the whole heap (5-12 s each): the suite took 22 min, not 18.
    gc.collect()
    gc.freeze()
