"""ssgen.fastimport serves a module's code from the file another process saved only while
the standard finder would find that same source: the same spec, file and values; an
edited source, or a package added beside a module, is found as the standard finder finds
it; a damaged or foreign file is ignored; the command line's entry point installs it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from importlib.machinery import PathFinder, SourceFileLoader
from pathlib import Path

import pytest

from ssgen import fastimport

NAMES = ("fipkg", "fipkg.a", "fipkg.sub", "fipkg.sub.b", "fipkg.c")
OLD = 1_700_000_000_000_000_000  # an mtime no write during the test gives


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package ``fipkg`` (``a``, ``sub.b``) on ``sys.path``, the file in tmp_path,
    fastimport installed afresh; its folders dated in the past, so that an entry added
    during the test changes their mtime whatever the clock's granularity."""
    root = tmp_path / "lib"
    (root / "fipkg" / "sub").mkdir(parents=True)
    (root / "fipkg" / "__init__.py").write_text("")
    (root / "fipkg" / "a.py").write_text("VALUE = 1\n")
    (root / "fipkg" / "sub" / "__init__.py").write_text("")
    (root / "fipkg" / "sub" / "b.py").write_text("from fipkg.a import VALUE\nTWICE = 2 * VALUE\n")
    (root / "fipkg" / "c.py").write_text("def f():\n    return 1 / 0\n")
    monkeypatch.setattr(fastimport, "CACHE_FILE", str(tmp_path / "code.bin"))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.syspath_prepend(str(root))
    fastimport.uninstall()
    fastimport._SAVED.clear()
    yield root
    fastimport.uninstall()
    fastimport._SAVED.clear()
    for name in NAMES:
        sys.modules.pop(name, None)
    importlib.invalidate_caches()


def _import_all() -> dict[str, object]:
    for name in NAMES:
        sys.modules.pop(name, None)
    importlib.invalidate_caches()
    return {name: importlib.import_module(name) for name in NAMES}


def _date(root: Path) -> None:
    for folder in (root, root / "fipkg", root / "fipkg" / "sub"):
        os.utime(folder, ns=(OLD, OLD))


def _saved_and_reread(root: Path) -> None:
    """One process's imports saved, and the next process's start (the file read)."""
    fastimport.install()
    _import_all()
    _date(root)
    fastimport._FOLDERS.clear()
    for name in NAMES:  # as the standard finder left them: recorded at the exit
        sys.modules.pop(name, None)
    _import_all()
    fastimport.save_compiled()
    fastimport.uninstall()
    fastimport._SAVED.clear()
    fastimport.install()


def _loader(name: str) -> object:
    return sys.modules[name].__spec__.loader  # type: ignore[union-attr]


def test_a_saved_module_is_served_with_the_standard_spec(tree: Path) -> None:
    _saved_and_reread(tree)
    assert set(NAMES) - {"fipkg"} <= set(fastimport._KEPT)
    assert "fipkg" not in fastimport._KEPT  # top level: left to the standard finder
    modules = _import_all()
    for name in ("fipkg.a", "fipkg.sub", "fipkg.sub.b", "fipkg.c"):
        assert type(_loader(name)) is fastimport._Loader, name
        module = modules[name]
        standard = PathFinder.find_spec(name, sys.modules[name.rpartition(".")[0]].__path__)
        assert standard is not None
        spec = module.__spec__  # type: ignore[attr-defined]
        assert (spec.origin, spec.cached, spec.has_location, spec.submodule_search_locations,
                spec.parent) == (standard.origin, standard.cached, standard.has_location,
                                 standard.submodule_search_locations, standard.parent)
        assert module.__file__ == standard.origin  # type: ignore[attr-defined]
        assert isinstance(_loader(name), SourceFileLoader)
    assert modules["fipkg.sub.b"].TWICE == 2  # type: ignore[attr-defined]
    with pytest.raises(ZeroDivisionError) as failure:  # a traceback shows the source
        modules["fipkg.c"].f()  # type: ignore[attr-defined]
    assert "return 1 / 0" in str(failure.getrepr())


def test_an_edited_source_is_read_again(tree: Path) -> None:
    _saved_and_reread(tree)
    (tree / "fipkg" / "a.py").write_text("VALUE = 21\n")
    modules = _import_all()
    assert modules["fipkg.a"].VALUE == 21  # type: ignore[attr-defined]
    assert type(_loader("fipkg.a")) is SourceFileLoader
    assert modules["fipkg.sub.b"].TWICE == 42  # type: ignore[attr-defined]
    assert type(_loader("fipkg.sub.b")) is fastimport._Loader


def test_an_edit_that_keeps_the_size_is_read_again(tree: Path) -> None:
    _saved_and_reread(tree)
    source = tree / "fipkg" / "a.py"
    source.write_text("VALUE = 7\n")  # the same size; a newer mtime
    assert os.stat(source).st_mtime_ns != fastimport._KEPT["fipkg.a"][3]
    _import_all()
    # Left to the standard loader (whose .pyc check, by whole seconds and size, is its own).
    assert type(_loader("fipkg.a")) is SourceFileLoader


def test_a_package_added_beside_a_module_is_found_as_the_standard_finder_finds_it(
        tree: Path) -> None:
    _saved_and_reread(tree)
    (tree / "fipkg" / "a").mkdir()
    (tree / "fipkg" / "a" / "__init__.py").write_text("VALUE = 3\n")
    modules = _import_all()
    assert modules["fipkg.a"].VALUE == 3  # type: ignore[attr-defined]
    assert modules["fipkg.a"].__file__.endswith(  # type: ignore[attr-defined]
        os.path.join("a", "__init__.py"))
    assert type(_loader("fipkg.sub.b")) is fastimport._Loader  # another folder: served
    assert modules["fipkg.sub.b"].TWICE == 6  # type: ignore[attr-defined]


def test_a_process_that_imported_nothing_new_does_not_write(tree: Path) -> None:
    _saved_and_reread(tree)
    _import_all()
    before = os.stat(fastimport.CACHE_FILE).st_mtime_ns
    os.utime(fastimport.CACHE_FILE, ns=(OLD, OLD))
    fastimport.save_compiled()
    assert os.stat(fastimport.CACHE_FILE).st_mtime_ns == OLD != before


def test_not_written_without_bytecode(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fastimport.install()
    _import_all()
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    fastimport.save_compiled()
    assert not os.path.exists(fastimport.CACHE_FILE)


@pytest.mark.parametrize("damage", ["truncated", "magic", "garbage", "shape"])
def test_a_damaged_or_foreign_file_is_ignored(tree: Path, damage: str) -> None:
    _saved_and_reread(tree)
    data = Path(fastimport.CACHE_FILE).read_bytes()
    if damage == "truncated":
        data = data[:-10]
    elif damage == "magic":
        data = b"x" + data[1:]
    elif damage == "garbage":
        head = len(fastimport._MAGIC) + 8
        data = data[:head] + bytes(len(data) - head)
    else:
        import marshal
        body = marshal.dumps({"fipkg.a": ("only", "three", 3)})  # not an index entry
        data = fastimport._MAGIC + len(body).to_bytes(8, "little") + body
    Path(fastimport.CACHE_FILE + ".new").write_bytes(data)  # replaced, as the writer does
    os.replace(fastimport.CACHE_FILE + ".new", fastimport.CACHE_FILE)
    assert fastimport._read(fastimport.CACHE_FILE) == {}


def test_installed_by_the_entry_point_and_served_to_the_next_process(tmp_path: Path) -> None:
    """A new process running the command line leaves the modules it imported for the next
    one, which takes them from the file."""
    script = (
        "import sys\n"
        "from ssgen import fastimport\n"
        f"fastimport.CACHE_FILE = {str(tmp_path / 'code.bin')!r}\n"
        "from ssgen.cli import entry\n"
        "sys.argv = ['ssgen', '--version']\n"
        "try:\n    entry.run()\nexcept SystemExit:\n    pass\n"
    )
    check = script.replace("try:", "import atexit\n"
                           "atexit.register(lambda: print(type(sys.modules['ssgen.cli.app']"
                           ".__spec__.loader).__name__))\ntry:")
    env = {"PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, capture_output=True)
    assert "ssgen.cli.app" in fastimport._read(str(tmp_path / "code.bin"))
    out = subprocess.run([sys.executable, "-c", check], check=True, env=env,
                         capture_output=True, text=True).stdout
    assert out.splitlines()[-1] == "_Loader"
