"""ssgen's code digest through file stamps (``ssgen.sources.codestamp``): equal to hashing
the code whenever the recorded stamps are taken, and never the old digest once a file
changed, whatever its size and mtime say."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sitekit import mutant

from ssgen.sources import codestamp
from ssgen.sources.codestamp import code_digest, code_files, hash_code


def make_code(root: Path) -> Path:
    code = root / "pkg"
    (code / "sub").mkdir(parents=True)
    (code / "__pycache__").mkdir()
    (code / "a.py").write_text("A = 1\n")
    (code / "sub" / "b.py").write_text("B = 2\n")
    (code / "__pycache__" / "a.cpython.pyc").write_bytes(b"x")
    (code / "notes.txt").write_text("not code")
    return code


def old(path: Path) -> None:
    """Dates the file back, out of the racy window (its ctime stays now)."""
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))


@pytest.fixture(autouse=True)
def no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codestamp, "RACY_NS", -10**12)  # ctime is now: never racy here
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # whatever the environment says


def digest_of(code: Path, state: Path, extra: str = "v1") -> bytes:
    return code_digest(state, lambda: [extra], root=code)


def test_the_files_are_the_py_files_outside_pycache(tmp_path: Path) -> None:
    assert code_files(make_code(tmp_path)) == ["a.py", "sub/b.py"]


def test_the_files_are_those_os_walk_finds(tmp_path: Path) -> None:
    """The scandir listing keeps ``os.walk``'s rules: a folder named like a module is a
    folder, a linked folder is not entered, a linked or dangling ``.py`` is a file."""
    code = make_code(tmp_path)
    (code / "x.py").mkdir()
    (code / "x.py" / "c.py").write_text("C = 3\n")
    (code / "linked").symlink_to(code / "sub")
    (code / "l.py").symlink_to(code / "a.py")
    (code / "gone.py").symlink_to(code / "nowhere")
    walked = []
    for folder, dirs, files in os.walk(code):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = os.path.relpath(folder, code).replace(os.sep, "/")
        walked += [("" if rel == "." else rel + "/") + f for f in files if f.endswith(".py")]
    assert code_files(code) == sorted(walked) == [
        "a.py", "gone.py", "l.py", "sub/b.py", "x.py/c.py"]


def test_the_versions_are_importlib_metadata_s_without_importing_it() -> None:
    """The Jinja2 and MarkupSafe versions the digest takes are those
    ``importlib.metadata`` gives, read from the dist-info folders' names: a cold build
    that hashes the code (no ``.ssgen/``, ``PYTHONDONTWRITEBYTECODE``) does not import
    it (~20-45 ms)."""
    from importlib.metadata import version

    assert codestamp._versions() == (version("jinja2"), version("markupsafe"))
    probe = ("import sys; from ssgen.sources import codestamp; codestamp._versions(); "
             "print('importlib.metadata' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert out.stdout.strip() == "False"


def test_a_version_with_no_single_dist_info_folder_is_importlib_metadata_s(
        tmp_path: Path) -> None:
    from importlib.metadata import version

    package = tmp_path / "jinja2" / "__init__.py"
    package.parent.mkdir()
    package.write_text("")
    assert codestamp._version(str(package), "jinja2") == version("jinja2")
    for name in ("jinja2-1.0.dist-info", "jinja2-2.0.dist-info"):
        (tmp_path / name).mkdir()
    assert codestamp._version(str(package), "jinja2") == version("jinja2")
    (tmp_path / "jinja2-2.0.dist-info").rmdir()
    assert codestamp._version(str(package), "jinja2") == "1.0"


def test_the_recorded_digest_is_the_hashed_one_and_is_reused(tmp_path: Path) -> None:
    code, state = make_code(tmp_path), tmp_path / "state"
    state.mkdir()
    first = digest_of(code, state)
    assert first == hash_code(code, ["a.py", "sub/b.py"], ["v1"])
    assert (state / codestamp.FILE).exists()
    hashed: list[int] = []
    real = codestamp.hash_code
    with mutant(codestamp, "hash_code", lambda *a: hashed.append(1) or real(*a)):
        assert digest_of(code, state, extra="ignored: not hashed again") == first
    assert hashed == []


def change_code(code: Path, change: str) -> None:
    """One change to the code folder ``make_code`` made: an edit of ``a.py`` (also one of
    the same size with its old mtime put back), a file added, removed or renamed."""
    a = code / "a.py"
    if change == "edit":
        a.write_text("A = 10\n")
    elif change == "same-size-old-mtime":
        a.write_text("A = 9\n")
        old(a)
    elif change == "add":
        (code / "c.py").write_text("")
    elif change == "remove":
        (code / "sub" / "b.py").unlink()
    else:
        (code / "sub" / "b.py").rename(code / "sub" / "c.py")


@pytest.mark.parametrize("change", ["edit", "same-size-old-mtime", "add", "remove", "rename"])
def test_a_changed_file_is_hashed_again(tmp_path: Path, change: str) -> None:
    code, state = make_code(tmp_path), tmp_path / "state"
    state.mkdir()
    a = code / "a.py"
    old(a)
    digest_of(code, state)
    time.sleep(0.02)  # a later timestamp tick (the racy window is off here)
    change_code(code, change)
    names = code_files(code)
    assert digest_of(code, state) == hash_code(code, names, ["v1"])


def test_a_damaged_or_foreign_record_is_ignored(tmp_path: Path) -> None:
    code, state = make_code(tmp_path), tmp_path / "state"
    state.mkdir()
    right = digest_of(code, state)
    record = state / codestamp.FILE
    data = record.read_bytes()
    for damaged in (data[:-1], data[:-16] + bytes(16), b"", data.replace(b"code", b"cide")):
        record.write_bytes(damaged)
        assert digest_of(code, state) == right


def test_a_racy_stamp_is_not_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codestamp, "RACY_NS", 10**18)  # every file changed "just now"
    code, state = make_code(tmp_path), tmp_path / "state"
    state.mkdir()
    digest_of(code, state)
    assert not (state / codestamp.FILE).exists()


def test_mutant_stamps_without_ctime_is_caught(tmp_path: Path) -> None:
    def no_ctime(root: Path, names: list[str], watched: object) -> tuple[bytes, int]:
        stamps = [(name, os.stat(root / name)) for name in names]
        text = "".join(f"{name}\0{info.st_mtime_ns}\0{info.st_size}\n" for name, info in stamps)
        return hashlib.blake2b(text.encode(), digest_size=16).digest(), 0

    with mutant(codestamp, "_stamps", no_ctime), pytest.raises(AssertionError):
        test_a_changed_file_is_hashed_again(tmp_path, "same-size-old-mtime")


def beside(code: Path) -> Path:
    return code / "__pycache__" / f"code-digest.{sys.implementation.cache_tag}.bin"


def test_a_new_state_folder_takes_the_record_beside_the_code(tmp_path: Path) -> None:
    code, first, second = make_code(tmp_path), tmp_path / "one", tmp_path / "two"
    first.mkdir()
    right = digest_of(code, first)
    assert beside(code).exists()
    second.mkdir()  # another site's, or the same site's after ``rm -rf .ssgen``
    hashed: list[int] = []
    real = codestamp.hash_code
    with mutant(codestamp, "hash_code", lambda *a: hashed.append(1) or real(*a)):
        assert digest_of(code, second, extra="ignored: not hashed again") == right
    assert hashed == []


@pytest.mark.parametrize("change", ["edit", "same-size-old-mtime", "add", "remove"])
def test_the_record_beside_the_code_is_not_taken_after_a_change(tmp_path: Path,
                                                                 change: str) -> None:
    code = make_code(tmp_path)
    a = code / "a.py"
    old(a)
    (tmp_path / "one").mkdir()
    digest_of(code, tmp_path / "one")
    time.sleep(0.02)
    change_code(code, change)
    (tmp_path / "two").mkdir()
    assert digest_of(code, tmp_path / "two") == hash_code(code, code_files(code), ["v1"])


def test_no_record_beside_the_code_without_bytecode(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    code, state = make_code(tmp_path), tmp_path / "state"
    state.mkdir()
    digest_of(code, state)
    assert (state / codestamp.FILE).exists() and not beside(code).exists()


def test_mutant_record_beside_the_code_without_stamps_is_caught(tmp_path: Path) -> None:
    real = codestamp._recorded

    def stampless(path: Path) -> tuple[bytes, bytes] | None:
        found = real(path)
        if found is None or path.parent.name != "__pycache__":
            return found
        return codestamp._stamps(path.parent.parent, code_files(path.parent.parent), ())[0], \
            found[1]

    with mutant(codestamp, "_recorded", stampless), pytest.raises(AssertionError):
        test_the_record_beside_the_code_is_not_taken_after_a_change(tmp_path, "edit")
