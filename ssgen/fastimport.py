"""``install``: the code of the modules a command imports, read from one file per machine.

Each module imported from its folder costs the standard finder (the folder's stat, a
look for a package of that name, the spec) and the source loader (the source's stat,
the ``.pyc``'s open, read and checks) ~70 us before its code is unmarshalled: ~15 ms CPU
of the ~220 submodules a cold ``ssgen build`` imports (ssgen's own, Jinja2's, markdown-it's,
the standard library's packages), ~4% of a 1,000-file build's critical path, and as much
of every other command's start. ``__pycache__/fastimport-code.<cache tag>.bin`` beside
this module holds what other processes imported: for each module of a package loaded
from a ``.py`` file, the package's folder and that folder's mtime, the source's path,
mtime and size, and the code (marshalled).

``install`` (called by the command line's entry point before its modules import) puts a
finder first on ``sys.meta_path`` that serves a module from the file only where the
standard finder would find that same source: a submodule whose package's ``__path__`` is
the one folder recorded, that folder's mtime the recorded one (a file added, removed or
renamed there, which could make the standard finder choose a package, an extension module
or nothing, changes it; checked once a folder a process), the source's mtime (ns) and size
the recorded ones. Anything else goes on to the standard finders. A module served has the
spec, ``__file__``, ``__cached__`` and loader (a ``SourceFileLoader``: sources for
tracebacks) the standard finder gives it; only its code comes from the file. Top-level
modules are left alone: an earlier ``sys.path`` entry (the current folder) may shadow them.

``save_compiled`` (called by the command line on its way out, beside ``fastre``'s) writes
the file again when this process imported such a module from its folder: the folder's
mtime is taken around the standard finder's own look for the module, so an entry is
recorded only for the source that finder picks in that state of the folder. The file is
a magic line (the interpreter's bytecode magic number and optimization level), the
index's length, the index (``marshal``: each module's entry and where its code lies),
then the modules' code; it is mapped, and a module's code unmarshalled from the mapping
when it is imported (reading and copying all of it cost ~6 ms a start). It is replaced
whole, as a ``.pyc`` is, and like a ``.pyc`` not checksummed (a BLAKE2b digest of its
~3 MB costs ~18 ms here, more than the file saves). Not writable, or
``PYTHONDONTWRITEBYTECODE``: nothing is written, and imports go on as before.
"""

from __future__ import annotations

import contextlib
import marshal
import mmap
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder, SourceFileLoader
from importlib.util import MAGIC_NUMBER, cache_from_source
from types import CodeType, ModuleType

CACHE_FILE = os.path.join(os.path.dirname(__file__), "__pycache__",
                          f"fastimport-code.{sys.implementation.cache_tag}.bin")
_MAGIC = b"ssgen-fastimport-2\n" + MAGIC_NUMBER + bytes([sys.flags.optimize & 0xFF])
_MOST_KEPT = 400  # modules kept in the file beyond this process's own
# name -> (folder, folder mtime_ns, source, source mtime_ns, source size, marshalled code)
_Entry = tuple[str, int, str, int, int, bytes | memoryview]
_KEPT: dict[str, _Entry] = {}
_FOLDERS: dict[str, bool] = {}  # folder -> its mtime is the recorded one (once a process)
_INSTALLED: list[type[_Finder]] = []
_SAVED: set[str] = set()  # written to the file by this process


class _Loader(SourceFileLoader):
    """The standard source loader, with the code the file holds for its module."""

    def get_code(self, fullname: str) -> CodeType | None:
        entry = _KEPT.get(fullname)
        if entry is not None and entry[2] == self.path:
            with contextlib.suppress(EOFError, ValueError, TypeError):
                code = marshal.loads(entry[5])
                if type(code) is CodeType:
                    return code
        return super().get_code(fullname)


class _Finder:
    """First on ``sys.meta_path``: a module the file holds, while it is what the standard
    finder would find (see the module's docstring); None sends the others on."""

    @staticmethod
    def find_spec(name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        entry = _KEPT.get(name)
        if entry is None or path is None or len(path) != 1:
            return None
        folder, folder_mtime, source, mtime, size, _ = entry
        if path[0] != folder or not _unchanged(folder, folder_mtime):
            return None
        try:
            info = os.stat(source)
        except OSError:
            return None
        if info.st_mtime_ns != mtime or info.st_size != size:
            return None
        package = os.path.basename(source) == "__init__.py"
        spec = ModuleSpec(name, _Loader(name, source), origin=source, is_package=package)
        spec.has_location = True
        spec.cached = cache_from_source(source)
        if package:
            spec.submodule_search_locations = [os.path.dirname(source)]
        return spec


def _unchanged(folder: str, mtime: int) -> bool:
    same = _FOLDERS.get(folder)
    if same is None:
        try:
            same = os.stat(folder).st_mtime_ns == mtime
        except OSError:
            same = False
        _FOLDERS[folder] = same
    return same


def install() -> None:
    """Read the file and put the finder first on ``sys.meta_path`` (once)."""
    if _INSTALLED:
        return
    _KEPT.update(_read(CACHE_FILE))
    _INSTALLED.append(_Finder)
    sys.meta_path.insert(0, _Finder)


def uninstall() -> None:
    """The finder off ``sys.meta_path`` and the file's entries forgotten (tests)."""
    if _INSTALLED:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(_INSTALLED.pop())
    _KEPT.clear()
    _FOLDERS.clear()


def _read(path: str) -> dict[str, _Entry]:
    """The file's entries (empty: none, or not one this interpreter wrote whole), their
    code left in the file's mapping until a module is imported (no copy of the ~3 MB)."""
    try:
        with open(path, "rb") as handle:
            data = memoryview(mmap.mmap(handle.fileno(), 0, prot=mmap.PROT_READ))
    except (OSError, ValueError):  # missing, or empty (no mapping of 0 bytes)
        return {}
    head = len(_MAGIC) + 8
    if len(data) < head or data[:len(_MAGIC)] != _MAGIC:
        return {}
    size = int.from_bytes(data[len(_MAGIC):head], "little")
    try:
        index = marshal.loads(data[head:head + size])
    except (EOFError, ValueError, TypeError):
        return {}
    codes = head + size
    if type(index) is not dict or not all(_well_formed(name, entry, len(data) - codes)
                                          for name, entry in index.items()):
        return {}
    return {name: (*entry[:5], data[codes + entry[5]:codes + entry[5] + entry[6]])
            for name, entry in index.items()}


def _well_formed(name: object, entry: object, room: int) -> bool:
    return (type(name) is str and type(entry) is tuple and len(entry) == 7
            and [type(part) for part in entry] == [str, int, str, int, int, int, int]
            and entry[5] >= 0 and entry[6] > 0 and entry[5] + entry[6] <= room)


def _current(name: str, module: ModuleType) -> bool:
    """Whether the file's entry for ``name`` holds ``module``'s source as it is now
    (served from it, or imported before ``install`` from a source the entry matches)."""
    entry = _KEPT.get(name)
    spec = getattr(module, "__spec__", None)
    if entry is None or spec is None or spec.origin != entry[2]:
        return False
    if isinstance(spec.loader, _Loader):
        return True
    try:
        info = os.stat(entry[2])
    except OSError:
        return False
    return _unchanged(entry[0], entry[1]) and (info.st_mtime_ns, info.st_size) == entry[3:5]


def _recorded(name: str, module: ModuleType) -> _Entry | None:
    """The entry for a module this process imported from its folder, or None: not a
    package's module from a ``.py`` file, or its folder or source changed meanwhile."""
    spec = getattr(module, "__spec__", None)
    loader = getattr(spec, "loader", None)
    parent = sys.modules.get(name.rpartition(".")[0])
    path = getattr(parent, "__path__", None)
    if spec is None or type(loader) is not SourceFileLoader or not spec.origin \
            or not spec.origin.endswith(".py") or path is None or len(path) != 1:
        return None
    folder, source = path[0], spec.origin
    try:
        before, info = os.stat(folder).st_mtime_ns, os.stat(source)
        found = PathFinder.find_spec(name, [folder])  # what the standard finder picks now
        code = loader.get_code(name)
        if os.stat(folder).st_mtime_ns != before or os.stat(source) != info:
            return None
    except (OSError, ImportError, SyntaxError, ValueError):
        return None
    if found is None or found.origin != source or type(code) is not CodeType:
        return None
    return (folder, before, source, info.st_mtime_ns, info.st_size, marshal.dumps(code))


def save_compiled() -> None:
    """Write the file again when this process imported from their folders modules the
    file could hold (this process's modules first; the file's others while there are not
    too many)."""
    if not _INSTALLED or sys.dont_write_bytecode:
        return
    modules = [(name, module) for name, module in list(sys.modules.items())
               if "." in name and module is not None]
    used = {name for name, module in modules if _current(name, module)}
    new = {name: entry for name, module in modules if name not in used | _SAVED
           if (entry := _recorded(name, module)) is not None}
    if not new:
        return
    kept = {name: _KEPT[name] for name in used} | new
    for name, entry in _KEPT.items():
        if len(kept) >= len(used) + len(new) + _MOST_KEPT:
            break
        kept.setdefault(name, entry)
    if _write(CACHE_FILE, kept):
        _SAVED.update(new)


def _write(path: str, entries: dict[str, _Entry]) -> bool:
    index, codes, at = {}, [], 0
    for name, (*recorded, code) in entries.items():
        index[name] = (*recorded, at, len(code))
        codes.append(code)
        at += len(code)
    body = marshal.dumps(index)
    from ssgen import keptfile  # at exit: this module is imported before the finder is in

    return keptfile.replace(path, (_MAGIC + len(body).to_bytes(8, "little") + body, *codes))
