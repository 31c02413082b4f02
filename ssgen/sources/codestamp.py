"""A digest of ssgen's own code that a new process takes from the files' stamps, not their bytes.

Owns ``code_digest(state_dir, extra)`` (``ssgen_digest``: with the template engine's
versions, as the caches use it): the digest of every ``.py`` file of the ssgen
package (relative path and bytes) and of ``extra`` (package versions), as caches keyed by
"the code that made them" need it (``ssgen.build.fragfile``). Hashing ~270 files costs
~50-70 ms of every process; instead ``.ssgen/code.digest`` keeps the digest with a digest
of the files' stamps (path, mtime, size, inode, ctime, and the stamps of ``watched``
files, e.g. the ``__init__.py`` of the packages whose versions ``extra`` gives). When the
stamps are the recorded ones the recorded digest is used; otherwise the files are hashed
and the file rewritten. A stamp recorded while a file could still change within the
same timestamp tick (``RACY_NS``, git's "racily clean" rule) is not recorded, so a
same-size edit in that tick cannot hide behind it; ctime is in the stamp because no tool
sets it back. A missing, damaged or foreign file only costs hashing the code again.
The same record is also kept beside the code (``__pycache__/code-digest.<tag>.bin``,
as ``.pyc`` files are; not with ``PYTHONDONTWRITEBYTECODE``): a site's first build, with
no ``.ssgen/`` yet (every cold build: CI, ``build --full`` after ``rm -rf .ssgen``), then
skips the ~25 ms of hashing after its render that only the first process on this
install of ssgen pays.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ssgen.errors import SsgenError
from ssgen.sources.atomic import write_atomic

FILE = "code.digest"
MAGIC = b"ssgen-code-digest-1\n"
RACY_NS = 1_000_000_000
# The ssgen package's folder (this module's parent's parent).
CODE = Path(__file__).resolve().parent.parent


def ssgen_digest(state_dir: Path) -> bytes:
    """The digest of ssgen's code and of the Jinja2 and MarkupSafe versions (the key of
    what ssgen's code made: the fragments file, the source snapshot)."""
    import jinja2
    import markupsafe

    return code_digest(state_dir, _versions,
                       watched=(jinja2.__file__ or "", markupsafe.__file__ or ""))


def _versions() -> tuple[str, str]:
    import jinja2
    import markupsafe

    return _version(jinja2.__file__, "jinja2"), _version(markupsafe.__file__, "markupsafe")


def _version(init: str | None, name: str) -> str:
    """The installed version of the package ``name`` whose ``__init__.py`` is ``init``:
    from its ``name-VERSION.dist-info`` folder beside the package, as
    ``importlib.metadata`` finds it, without importing that (~20-45 ms with ``email``,
    ``zipfile`` and ``csv``: paid by every cold build that hashes the code, i.e. each one
    with no ``.ssgen/`` under ``PYTHONDONTWRITEBYTECODE``, as on CI runners); through
    ``importlib.metadata`` when no single such folder is there."""
    prefix = name + "-"
    with contextlib.suppress(OSError, TypeError):
        found = [entry for entry in os.listdir(os.path.dirname(os.path.dirname(init or "")))
                 if entry.lower().startswith(prefix) and entry.endswith(".dist-info")]
        if len(found) == 1:
            return found[0][len(prefix):-len(".dist-info")]
    from importlib.metadata import version

    return version(name)


def code_files(root: Path = CODE) -> list[str]:
    """The relative POSIX paths of the ``.py`` files under ``root``, sorted."""
    found: list[str] = []

    def walk(folder: str, prefix: str) -> None:
        # ``os.scandir`` itself, not ``os.walk``: half the CPU (~0.4 ms for ssgen's ~300
        # files), taken by every build that keys its caches with the code.
        with os.scandir(folder) as listing:
            entries = list(listing)
        for entry in entries:  # as ``os.walk`` sorts them: not into linked folders
            if not entry.is_dir():
                if entry.name.endswith(".py"):
                    found.append(prefix + entry.name)
            elif entry.name != "__pycache__" and not entry.is_symlink():
                walk(entry.path, prefix + entry.name + "/")

    walk(str(root), "")
    found.sort()
    return found


def code_digest(state_dir: Path, extra: Callable[[], Iterable[str]],
                watched: Iterable[str] = (), root: Path = CODE) -> bytes:
    """The digest of the code under ``root`` and of ``extra()`` (called only when the
    code is hashed), through ``state_dir/code.digest`` when the stamps allow."""
    names = code_files(root)
    stamps, newest = _stamps(root, names, watched)
    paths = [state_dir / FILE, *_beside(root)]
    for path in paths:
        recorded = _recorded(path)
        if recorded is not None and recorded[0] == stamps:
            return recorded[1]
    digest = hash_code(root, names, extra())
    if newest < time.time_ns() - RACY_NS:
        body = stamps + digest
        for path in paths:
            # Read-only: the next process hashes again.
            with contextlib.suppress(SsgenError, OSError):
                write_atomic(path, MAGIC + hashlib.blake2b(body, digest_size=16).digest() + body,
                             "code digest", durable=False)
    return digest


def _beside(root: Path) -> list[Path]:
    """The record kept beside the code, unless bytecode is not written there."""
    if sys.dont_write_bytecode:
        return []
    return [root / "__pycache__" / f"code-digest.{sys.implementation.cache_tag}.bin"]


def hash_code(root: Path, names: list[str], extra: Iterable[str]) -> bytes:
    """The digest of the files ``names`` under ``root`` (path and bytes) and ``extra``."""
    digest = hashlib.blake2b(digest_size=16)
    for part in extra:
        digest.update(part.encode() + b"\0")
    for name in names:
        digest.update(name.encode() + b"\0")
        digest.update((root / name).read_bytes())
    return digest.digest()


def _stamps(root: Path, names: list[str], watched: Iterable[str]) -> tuple[bytes, int]:
    """The digest of the files' stamps, and the newest mtime or ctime among them."""
    digest = hashlib.blake2b(digest_size=16)
    newest = 0
    base = str(root) + os.sep
    for name in [base + name for name in names] + list(watched):
        try:
            info = os.stat(name)
        except OSError:
            digest.update(f"{name}\0-\n".encode())
            continue
        newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
        digest.update(f"{name}\0{info.st_mtime_ns}\0{info.st_size}\0{info.st_ino}"
                      f"\0{info.st_ctime_ns}\n".encode())
    return digest.digest(), newest


def _recorded(path: Path) -> tuple[bytes, bytes] | None:
    """(stamps digest, code digest) from the file; None when missing or damaged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC)
    check, body = data[head:head + 16], data[head + 16:]
    if data[:head] != MAGIC or len(body) != 32 \
            or hashlib.blake2b(body, digest_size=16).digest() != check:
        return None
    return body[:16], body[16:]
