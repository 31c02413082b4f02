"""``ssgen.memos``: after ``forget_sites`` nothing a build of a site made is reachable from
ssgen's module-level containers (a memo keyed by site that is not registered keeps the
site alive in a long-lived process: the test suite reached ~1 GB), and a build after it
equals a clean build, as a new process's would."""

from __future__ import annotations

import gc
import sys
import types
from pathlib import Path
from typing import Any

from sitekit import CardSite, mutant, output_files, retitle

from ssgen import memos
from ssgen.build.memo import kept
from ssgen.build.pipeline import build, release_left
from ssgen.config.load import load_config
from ssgen.sources import open_source

# Counters per path, not memos: a call's number is compared with one taken earlier, so
# they only ever grow (an int per site folder; nothing of the site is kept).
_COUNTERS = {("ssgen.build.lastmod", "_CALLS"), ("ssgen.build.pipeline.run", "_BUILDS")}
_SKIPPED = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type,
            types.MethodType, types.CodeType)


def _reachable_strings(containing: str) -> list[str]:
    """The strings naming ``containing`` reachable from a container (dict, list, set) at
    the top of an ssgen module, not through modules, functions or classes (whose own
    globals and attributes are the world)."""
    seen: set[int] = set()
    stack: list[Any] = [value for name, module in list(sys.modules.items())
                        if name == "ssgen" or name.startswith("ssgen.")
                        for var, value in vars(module).items()
                        if isinstance(value, dict | list | set) and (name, var) not in _COUNTERS]
    found: list[str] = []
    while stack:
        value = stack.pop()
        if id(value) in seen or isinstance(value, _SKIPPED):
            continue
        seen.add(id(value))
        if isinstance(value, str):
            if containing in value:
                found.append(value)
            continue
        if isinstance(value, dict):  # a dict of str keys does not show its keys to gc
            stack.extend(value)
        stack.extend(gc.get_referents(value))
    return found


def _build_twice(root: Path, kept_source: bool) -> None:
    site = CardSite()
    site.write(root)
    config = load_config(root)
    source = open_source(config, kept=True) if kept_source else None
    assert build(config, jobs=1, source=source).ok
    retitle(1, "Again")(site)
    site.write(root)
    if source is not None:
        source.reload()
    assert build(config if kept_source else load_config(root), jobs=1, source=source).ok


def test_forgotten_sites_are_not_reachable_from_ssgens_modules(tmp_path: Path) -> None:
    memos.forget_sites()
    _build_twice(tmp_path / "plain", kept_source=False)
    _build_twice(tmp_path / "kept", kept_source=True)
    release_left()
    assert _reachable_strings(str(tmp_path)), "the builds were not remembered at all"
    memos.forget_sites()
    assert _reachable_strings(str(tmp_path)) == []


def test_mutant_memo_not_registered_is_caught(tmp_path: Path) -> None:
    with mutant(kept, "_KEPT", {}):  # a plain dict: forget_sites does not see it
        memos.forget_sites()
        _build_twice(tmp_path / "kept", kept_source=True)
        release_left()
        memos.forget_sites()
        assert _reachable_strings(str(tmp_path))


def test_a_build_after_forgetting_equals_a_clean_build(tmp_path: Path) -> None:
    root = tmp_path / "site"
    _build_twice(root, kept_source=True)
    memos.forget_sites()
    site = CardSite()
    retitle(1, "Again")(site)
    retitle(2, "Other")(site)
    site.write(root)
    assert build(load_config(root), jobs=1).ok
    clean = tmp_path / "clean"
    site.write(clean)
    assert build(load_config(clean), full=True, jobs=1).ok
    assert output_files(root) == output_files(clean)
