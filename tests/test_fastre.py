"""ssgen.fastre makes the patterns the standard library makes, compiled in this process or
read back from the file another process saved: the same pattern, flags, groups and group
names, and the same matches; a damaged or foreign file is ignored; the command line's
entry point installs it."""

from __future__ import annotations

import hashlib
import marshal
import re
import subprocess
import sys
import uuid
from re import _compiler  # type: ignore[attr-defined]
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen import fastre

STDLIB = _compiler.compile
pytestmark = pytest.mark.skipif(not fastre._SUPPORTED, reason="fastre: Python 3.11-3.12 only")

# (pattern, flags, subjects): inline flags, named and numbered groups, bytes, lookarounds,
# backreferences, Unicode classes, VERBOSE, and patterns that differ only in their flags.
CASES: list[tuple[str | bytes, int, list[Any]]] = [
    (r"(?i)abc", 0, ["ABC", "xabcx", "ab"]),
    (r"abc", re.IGNORECASE, ["ABC", "abc"]),
    (r"abc", 0, ["ABC", "abc"]),
    (r"(?P<year>\d{4})-(?P<month>\d\d)(?:-(\d\d))?", 0, ["2026-12-05", "x2026-12", "no"]),
    (r"^\s*(?P<key>[A-Za-z_][\w-]*)\s*:\s*(?P<value>.*?)\s*$", re.MULTILINE,
     ["title: Hello\n slug : x \n", "nope"]),
    (r"""\{\{ \s* (\w+) \s* \}\}  # a placeholder""", re.VERBOSE, ["a {{ x }} b", "{{}}"]),
    (r"(\w+)\s+\1", 0, ["the the end", "a b"]),
    (r"(?<=@)\w+(?!\.)", 0, ["me@host.com", "@abc"]),
    (r"[^\W\d_]+", re.UNICODE, ["héllo wörld 42", "___"]),
    (r"[\u00c0-\u024f]+|é", 0, ["ÀÉÎ café", "abc"]),
    (rb"(?P<tag><\w+>)[^<]*", 0, [b"<p>text</p>", b"none"]),
    (rb"\d+", re.ASCII, [b"a12b345", b"x"]),
    (r".+", re.DOTALL, ["a\nb", ""]),
    (r"(a)|(b)", 0, ["b", "a", "c"]),
]


def same(made: Any, expected: Any, subjects: list[Any]) -> None:
    """``made`` behaves as the standard library's ``expected`` on ``subjects``."""
    assert type(made) is type(expected)
    assert (made.pattern, made.flags, made.groups, dict(made.groupindex)) == \
        (expected.pattern, expected.flags, expected.groups, dict(expected.groupindex))
    for subject in subjects:
        for method in ("match", "search", "fullmatch"):
            got, want = getattr(made, method)(subject), getattr(expected, method)(subject)
            assert (got and (got.span(), got.groups(), got.groupdict(), got.lastgroup)) == \
                (want and (want.span(), want.groups(), want.groupdict(), want.lastgroup))
        assert made.findall(subject) == expected.findall(subject)
        assert made.split(subject) == expected.split(subject)


@pytest.fixture
def fresh(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An empty cache in a file of its own (this process holding nothing)."""
    path = tmp_path / "fastre-codes.bin"
    monkeypatch.setattr(fastre, "CACHE_FILE", str(path))
    _as_new_process(monkeypatch)
    monkeypatch.setattr(fastre.sys, "dont_write_bytecode", False)
    monkeypatch.setattr(fastre, "_ORIGINAL", [STDLIB])
    return path


def _as_new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastre, "_CODES", {})
    monkeypatch.setattr(fastre, "_USED", set())
    monkeypatch.setattr(fastre, "_NEW", set())


def test_compiled_in_process_and_read_back_equal_the_standard_library(
        fresh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for pattern, flags, subjects in CASES:
        same(fastre.compiled(pattern, int(flags)), STDLIB(pattern, int(flags)), subjects)
    assert len(fastre._NEW) == len(CASES)
    fastre.save_compiled()
    assert fresh.exists() and not fastre._NEW
    _as_new_process(monkeypatch)
    fastre._CODES.update(fastre._read_codes(str(fresh)))
    assert len(fastre._CODES) == len(CASES)
    for pattern, flags, subjects in CASES:
        same(fastre.compiled(pattern, int(flags)), STDLIB(pattern, int(flags)), subjects)
    assert not fastre._NEW  # every one from the file
    fastre.save_compiled()  # nothing new: not written
    assert fastre._read_codes(str(fresh)).keys() == fastre._CODES.keys()


@settings(max_examples=150, deadline=None)
@given(st.from_regex(r"[a-c.|*+?()\[\]^$\\dws{}0-9,:-]{0,12}", fullmatch=True),
       st.sampled_from([0, re.IGNORECASE, re.MULTILINE | re.DOTALL, re.VERBOSE]),
       st.lists(st.text("abc-1 \n", max_size=8), max_size=3))
def test_any_pattern_equals_the_standard_library_compiled_and_kept(
        pattern: str, flags: int, subjects: list[str]) -> None:
    try:
        expected = STDLIB(pattern, int(flags))
    except (re.error, OverflowError, RecursionError) as exc:
        with pytest.raises(type(exc)):
            fastre.compiled(pattern, int(flags))
        return
    codes, used, new = dict(fastre._CODES), set(fastre._USED), set(fastre._NEW)
    try:
        fastre._CODES.clear()
        same(fastre.compiled(pattern, int(flags)), expected, subjects)  # compiled here
        same(fastre.compiled(pattern, int(flags)), expected, subjects)  # from the kept arguments
    finally:
        fastre._CODES.clear()
        fastre._CODES.update(codes)
        fastre._USED.clear()
        fastre._USED.update(used)
        fastre._NEW.clear()
        fastre._NEW.update(new)


def test_a_damaged_or_foreign_file_is_ignored(fresh: Any) -> None:
    fastre.compiled(r"(?P<a>x)y", 0)
    fastre.save_compiled()
    good = fresh.read_bytes()
    assert len(fastre._read_codes(str(fresh))) == 1
    head = len(fastre._CACHE_MAGIC)
    for damaged in (good[:-1], good[:-1] + bytes([good[-1] ^ 1]), b"x" + good[1:],
                    good[:head - 1] + b"\0" + good[head:], b""):
        fresh.write_bytes(damaged)
        assert fastre._read_codes(str(fresh)) == {}
    body = marshal.dumps([("x", 0), (0, [1], 0, {}, ())])
    digest = hashlib.blake2b(body, digest_size=16).digest()
    fresh.write_bytes(fastre._CACHE_MAGIC + digest + body)  # checksummed, not a dict
    assert fastre._read_codes(str(fresh)) == {}
    body = marshal.dumps({("x", 0): (0, [1], 0, {})})  # an entry of four
    digest = hashlib.blake2b(body, digest_size=16).digest()
    fresh.write_bytes(fastre._CACHE_MAGIC + digest + body)
    assert fastre._read_codes(str(fresh)) == {}
    fresh.unlink()
    assert fastre._read_codes(str(fresh)) == {}


def test_debug_and_parsed_patterns_go_to_the_standard_library(
        fresh: Any, capsys: pytest.CaptureFixture[str]) -> None:
    made = fastre.compiled("ab+", re.DEBUG)
    assert "LITERAL" in capsys.readouterr().out and made.match("abb")
    parsed = re._parser.parse("a(b)", 0)  # type: ignore[attr-defined]
    assert fastre.compiled(parsed, 0).groups == 1
    assert not fastre._NEW


def test_not_written_without_bytecode(fresh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fastre.compiled("x+", 0)
    monkeypatch.setattr(fastre.sys, "dont_write_bytecode", True)
    fastre.save_compiled()
    assert not fresh.exists()


def test_installed_by_the_entry_point_and_saved_at_exit(tmp_path: Any) -> None:
    """A new process running the command line compiles through ``compiled`` and leaves
    its patterns for the next one."""
    marker = f"fastre-{uuid.uuid4().hex}"
    script = (
        "import re, sys\n"
        "from ssgen import fastre\n"
        f"fastre.CACHE_FILE = {str(tmp_path / 'codes.bin')!r}\n"
        "from ssgen.cli import entry\n"
        "sys.argv = ['ssgen', '--version']\n"
        "try:\n    entry.run()\nexcept SystemExit:\n    pass\n"
        "print(re._compiler.compile is fastre.compiled)\n"
        f"re.compile({marker!r})\n"
        f"print(({marker!r}, 0) in fastre._NEW)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin"}).stdout
    assert out.splitlines()[-2:] == ["True", "True"]
    assert fastre._read_codes(str(tmp_path / "codes.bin"))  # saved by exit_process
