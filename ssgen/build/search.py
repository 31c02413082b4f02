"""The site's static search index (``[search] enabled``): Pagefind's bundle in public/pagefind/.

Owns finding the Pagefind binary (the ``pagefind[bin]`` package from PyPI, or
``PAGEFIND_BINARY_PATH``), running it on the output folder and handing back the bundle's
files, which ``write_extras`` writes and records as "generated" files: the write journal,
``find_damage``, ``--changes`` and ``ssgen deploy`` cover them like the sitemap.

Pagefind cannot update an index: neither its CLI nor its Python API loads an existing
index or removes a page from one (Pagefind issue #71), so a build that changed any HTML
file indexes the whole output folder again. What keeps that rare is ``index_key``: a
digest of every owned HTML file's recorded hash (plus the options and Pagefind's
version), stored in the manifest with the bundle; a build whose key is unchanged keeps
the bundle as it is without running Pagefind. The files are written only where their
bytes changed: Pagefind names fragments and index chunks by their content, so after one
edit a deploy uploads a handful of files, not the bundle. Pagefind's output is a pure
function of the HTML it reads and of the order its folder lists them, so it reads a tree
of links to the pages made afresh in sorted order (``link_pages``), not the output folder
that builds rewrote in part: an incremental build's bundle equals a clean full build's
byte for byte on every file system (the tests check it on tmpfs).

``ssgen serve`` does not index inside its rebuilds (``DEFERRED``): a Pagefind run takes
seconds at 10k pages and would hold every webhook's pages back. Its background indexer
(``ssgen.serve.indexer``) runs ``index_off_lock`` after rounds settle, outside the build
lock, and hands the bundle to the next round to write (``SearchMode(ready=...)``): search
results trail the pages by one Pagefind run, never the other way round.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from functools import lru_cache
from pathlib import Path

from ssgen.config.load import Config
from ssgen.config.search import BUNDLE_DIR
from ssgen.errors import ConfigError, OutputError
from ssgen.fastclass import dataclass
from ssgen.manifest.store import Manifest

SEARCH_KEY = "search_index"
SCRATCH = "pagefind-scratch"
OFF_LOCK_SCRATCH = "pagefind-background"
INSTALL_HINT = ("pip install 'ssgen[search]' (or pip install 'pagefind[bin]'), or set "
                "PAGEFIND_BINARY_PATH to a pagefind executable")
_NO_HTML = "did not contain any html files"
_DISCARDED = ".discarded-"  # a scratch folder renamed for its deletion on a thread


@dataclass
class SearchIndex:
    """The bundle's files by output relpath (``None``: the recorded bundle is current),
    and the key to store with them."""

    key: str
    files: dict[str, bytes] | None
    warning: str = ""


def pagefind_binary() -> Path:
    """The Pagefind executable; a ConfigError naming the fix when there is none."""
    named = os.environ.get("PAGEFIND_BINARY_PATH")
    if named:
        if not os.access(named, os.X_OK) or not Path(named).is_file():
            raise ConfigError(f"[search] enabled = true: PAGEFIND_BINARY_PATH={named} is not "
                              f"an executable file; unset it and {INSTALL_HINT}")
        return Path(named)
    found: Path | None
    try:
        from pagefind.service import get_executable
    except ImportError:
        which = shutil.which("pagefind_extended") or shutil.which("pagefind")
        found = Path(which) if which else None
    else:
        found = get_executable()
    if found is None or not found.is_file():
        raise ConfigError(f"[search] enabled = true needs Pagefind, which is not installed: "
                          f"{INSTALL_HINT}")
    return found


@lru_cache(maxsize=4)
def pagefind_version(binary: Path) -> str:
    """``pagefind 1.5.2``: part of the key, so an upgrade re-indexes."""
    import subprocess  # here: ~2 ms of every build's start otherwise

    try:
        done = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                              timeout=60, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(f"[search]: cannot run Pagefind ({binary}): {exc}; "
                          f"{INSTALL_HINT}") from exc
    return done.stdout.strip()


@dataclass(frozen=True)
class SearchMode:
    """How a build treats the bundle: ``run`` Pagefind when the HTML changed (False: keep
    the bundle as recorded, for a background indexer), or write a ``ready`` one."""

    run: bool = True
    ready: SearchIndex | None = None


INLINE = SearchMode()
DEFERRED = SearchMode(run=False)


def index_key(config: Config, manifest: Manifest, binary: Path) -> str:
    """A digest of what the index is made from: the owned HTML files as recorded."""
    digest = hashlib.sha256(repr((config.search, pagefind_version(binary))).encode())
    prefix = f"{BUNDLE_DIR}/"
    for rel, file_hash, *_ in sorted(manifest.file_rows()):
        if rel.endswith((".html", ".htm")) and not rel.startswith(prefix):
            digest.update(f"{rel}\0{file_hash}\n".encode())
    return digest.hexdigest()


def forget_index(manifest: Manifest) -> None:
    """Make the next build index again (a full build, or bundle files damaged)."""
    manifest.set_meta(SEARCH_KEY, "")


def search_index(config: Config, manifest: Manifest) -> SearchIndex:
    """The bundle to write for the output folder as it is now (pages and static files
    written), or ``files=None`` when the recorded one was made from the same HTML."""
    binary = pagefind_binary()
    key = index_key(config, manifest, binary)
    if manifest.get_meta(SEARCH_KEY) == key:
        return SearchIndex(key, None)
    return _index(binary, config, key, config.state_dir / SCRATCH)


def index_off_lock(config: Config, manifest: Manifest) -> SearchIndex | None:
    """A bundle for the output as it is now, indexed without the build lock at a lower CPU
    priority, or None when the recorded one is current. Rounds may write pages meanwhile:
    each page is replaced whole, and the key was taken before Pagefind read them, so a
    bundle that missed an edit is recorded under a key that no longer matches and the
    next run indexes again."""
    binary = pagefind_binary()
    key = index_key(config, manifest, binary)
    if manifest.get_meta(SEARCH_KEY) == key:
        return None
    return _index(binary, config, key, config.state_dir / OFF_LOCK_SCRATCH, nice=True)


def _index(binary: Path, config: Config, key: str, scratch: Path, *,
           nice: bool = False) -> SearchIndex:
    # In .ssgen/, not the system's temp folder: a build killed while Pagefind runs leaves
    # its files where the next index run clears them.
    _clear(scratch)
    try:
        (scratch / "cwd").mkdir(parents=True)
        link_pages(config.output_dir, scratch / "site")
        said = run_pagefind(binary, config, scratch / "bundle", cwd=scratch / "cwd",
                            site=scratch / "site", nice=nice)
        if _NO_HTML in said:
            return SearchIndex(key, {}, "[search]: Pagefind found no page to index "
                                        f"(no search bundle written): {_first_lines(said)}")
        warning = f"[search]: Pagefind: {_first_lines(said)}" if said else ""
        return SearchIndex(key, read_bundle(scratch / "bundle"), warning)
    except OSError as exc:
        raise OutputError(f"[search]: cannot use {scratch}: {exc}") from exc
    finally:
        _discard(scratch)


def _clear(scratch: Path) -> None:
    """Remove what earlier runs left: ``scratch`` itself (a run killed inside Pagefind),
    and on a thread the folders discarded by runs that exited before their deletion
    ended."""
    shutil.rmtree(scratch, ignore_errors=True)
    for left in scratch.parent.glob(f"{scratch.name}{_DISCARDED}*"):
        _delete_later(left)


def _discard(scratch: Path) -> None:
    """Delete ``scratch`` on a thread, renamed first so that the next run's scratch is
    never the folder being deleted: its tree of links (a folder per page) takes seconds
    to delete at 10,000 pages, longer than making it on a busy disk, and the build need
    not wait for it. What a process that exits meanwhile leaves, ``_clear`` finds."""
    gone = scratch.with_name(f"{scratch.name}{_DISCARDED}{os.getpid()}-{time.monotonic_ns()}")
    try:
        scratch.rename(gone)
    except OSError:
        shutil.rmtree(scratch, ignore_errors=True)
        return
    _delete_later(gone)


def _delete_later(folder: Path) -> None:
    threading.Thread(target=shutil.rmtree, args=(folder,), kwargs={"ignore_errors": True},
                     name="pagefind-scratch-delete", daemon=True).start()


def _first_lines(text: str, count: int = 3) -> str:
    return " ".join(line.strip() for line in text.splitlines()[:count])


def link_pages(output_dir: Path, site: Path) -> None:
    """A copy of the output folder's HTML files at ``site``, hard links where the file
    system allows, made in sorted order. Pagefind's bundle depends on the order its folder
    lists files (tmpfs lists them in creation order, ext4 by a hash of the name), so an
    output folder that one build wrote in one order and later builds rewrote in part would
    index differently from a clean build's: a tree made afresh in sorted order lists the
    same way for the same files. A page replaced meanwhile (serve's rounds) is linked
    either old or new, whole; a page removed meanwhile is left out."""
    bundle_dir = output_dir / BUNDLE_DIR
    for folder, dirs, names in os.walk(output_dir):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if here / d != bundle_dir)
        target = site / here.relative_to(output_dir)
        target.mkdir(parents=True, exist_ok=True)
        for name in sorted(names):
            if name.endswith(".html"):
                _link(here / name, target / name)


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except FileNotFoundError:
        return
    except OSError:  # another file system, or links not allowed: a copy reads the same
        try:
            shutil.copyfile(source, target)
        except FileNotFoundError:
            return


def run_pagefind(binary: Path, config: Config, bundle: Path, *, cwd: Path,
                 site: Path | None = None, nice: bool = False) -> str:
    """Index ``site`` (``config.output_dir`` by default) into ``bundle``; returns
    Pagefind's warnings (such as pages skipped for having no ``<html>`` element), with its
    "nothing to index" error. ``cwd`` is an empty folder: Pagefind reads a pagefind.yml
    (or .toml, .json) from its working folder, which must not change the bundle."""
    command = [str(binary), "--site", str(site or config.output_dir), "--output-path",
               str(bundle), "--quiet"]
    if nice and (nice_path := shutil.which("nice")):
        command = [nice_path, "-n", "10", *command]  # webhooks' rounds come first
    for selector in config.search.exclude_selectors:
        command += ["--exclude-selectors", selector]
    if config.search.language:
        command += ["--force-language", config.search.language]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAGEFIND_")}
    import subprocess

    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=3600)
    except (OSError, subprocess.SubprocessError) as exc:
        raise OutputError(f"[search]: Pagefind failed to run: {exc}") from exc
    said = (done.stderr + done.stdout).strip()
    if done.returncode == 0 or _NO_HTML in said:
        return said
    raise OutputError(f"[search]: Pagefind exited with status {done.returncode}: "
                      f"{said[-2000:] or 'no message'}")


def read_bundle(bundle: Path) -> dict[str, bytes]:
    """Every file Pagefind wrote, by its relpath under the output folder."""
    files: dict[str, bytes] = {}
    for path in sorted(bundle.rglob("*")):
        if path.is_file():
            files[f"{BUNDLE_DIR}/{path.relative_to(bundle).as_posix()}"] = path.read_bytes()
    return files


def prepare_search(config: Config, manifest: Manifest, *, full: bool,
                   damaged: set[str]) -> None:
    """At the start of a build: index again after a full build (whose files were not
    checked) or damage to the bundle found by ``find_damage``."""
    bundle = f"{BUNDLE_DIR}/"
    if config.search.enabled and (full or any(rel.startswith(bundle) for rel in damaged)):
        forget_index(manifest)
