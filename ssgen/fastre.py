"""``install``: regular expressions compiled once per machine, not once per process.

``re.compile`` parses a pattern and turns it into the regex engine's code (a list of
ints) afresh in every process; ``re``'s own cache lives only as long as the process. A
plain ``ssgen build`` compiles ~100 patterns at start (Jinja2's lexer and identifier
pattern, TOML, front matter, GROQ's lexer, the Markdown port, the standard library's):
~11 ms of CPU, ~5% of a one-file edit of a 16,000-file Markdown site. The engine's code
is a pure function of the pattern, its flags and the interpreter, so it is kept across
processes: ``__pycache__/fastre-codes.<cache tag>.bin`` beside this module maps each
(pattern, flags) to the arguments of ``_sre.compile`` (the last step of
``re._compiler.compile``), with the interpreter's bytecode magic number and a checksum
(anything else is ignored). ``install`` (called by the command line's entry point before
its modules import) puts ``compiled`` in place of ``re._compiler.compile``: a pattern the
file holds is made by ``_sre.compile`` from them (which validates the code as for any
pattern); any other is compiled as the standard library does and noted, and
``save_compiled`` (called by the command line on its way out, beside ``fastclass``'s)
writes the file again when this process compiled a pattern it did not hold. Debug-flag
patterns and parsed (non-string) patterns go to the standard library's function; a
pattern's parse warnings come from the process that compiled it (as with ``re``'s own
cache within a process). Only
Python 3.11 and 3.12, whose ``_compiler.compile`` this mirrors; elsewhere ``install``
does nothing. Not writable, or ``PYTHONDONTWRITEBYTECODE``: patterns compile as before.
"""

from __future__ import annotations

import os
import sys
from importlib.util import MAGIC_NUMBER
from re import _compiler, _parser  # type: ignore[attr-defined]
from typing import Any

from ssgen import keptfile

CACHE_FILE = os.path.join(os.path.dirname(__file__), "__pycache__",
                          f"fastre-codes.{sys.implementation.cache_tag}.bin")
_CACHE_MAGIC = b"ssgen-fastre-codes-1\n" + MAGIC_NUMBER
_SUPPORTED = sys.version_info[:2] in ((3, 11), (3, 12))
_MOST_KEPT = 500  # patterns kept in the file beyond this process's own: dropped past this
# (pattern, flags) -> (flags, code, groups, groupindex, indexgroup): ``_sre.compile``'s
# arguments after the pattern. The file's, then this process's.
_Key = tuple[str | bytes, int]
_Args = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]
_CODES: dict[_Key, _Args] = {}
_USED: set[_Key] = set()  # the patterns this process asked for
_NEW: set[_Key] = set()  # the patterns this process compiled (not in the file)
_ORIGINAL: list[Any] = []  # ``re._compiler.compile`` as found, once installed


def install() -> None:
    """Read the file and put ``compiled`` in place of ``re._compiler.compile`` (once)."""
    if _ORIGINAL or not _SUPPORTED:
        return
    _CODES.update(_read_codes(CACHE_FILE))
    _ORIGINAL.append(_compiler.compile)
    _compiler.compile = compiled


def uninstall() -> None:
    """The standard library's function back (tests)."""
    if _ORIGINAL:
        _compiler.compile = _ORIGINAL.pop()


def compiled(p: Any, flags: int = 0) -> Any:
    """``re._compiler.compile(p, flags)``: from the kept arguments when held."""
    if type(p) not in (str, bytes) or type(flags) is not int or flags & _compiler.SRE_FLAG_DEBUG:
        return (_ORIGINAL[0] if _ORIGINAL else _compiler.compile)(p, flags)
    key = (p, flags)
    args = _CODES.get(key)
    if args is None:
        parsed = _parser.parse(p, flags)
        # Plain ints: the opcodes are an int subclass, which marshal does not write.
        code = [int(word) for word in _compiler._code(parsed, flags)]
        groupindex = parsed.state.groupdict
        names: list[str | None] = [None] * parsed.state.groups
        for name, index in groupindex.items():
            names[index] = name
        args = (flags | parsed.state.flags, code, parsed.state.groups - 1, groupindex,
                tuple(names))
        _CODES[key] = args
        _NEW.add(key)
    _USED.add(key)
    made_flags, code, groups, groupindex, indexgroup = args
    return _compiler._sre.compile(p, made_flags, code, groups, groupindex, indexgroup)


def _read_codes(path: str) -> dict[_Key, _Args]:
    """The file's patterns and arguments (empty: none, or not one this interpreter wrote)."""
    found = keptfile.read(path, _CACHE_MAGIC)
    if type(found) is not dict or not all(_well_formed(key, args)
                                          for key, args in found.items()):
        return {}
    return found


def _well_formed(key: object, args: object) -> bool:
    """Whether a file's entry has the types ``compiled`` passes on (the code's words are
    checked by ``_sre.compile``, as for any pattern: the checksum vouches for the rest)."""
    return (type(key) is tuple and len(key) == 2 and type(key[0]) in (str, bytes)
            and type(key[1]) is int and type(args) is tuple and len(args) == 5
            and type(args[0]) is int and type(args[1]) is list and type(args[2]) is int
            and type(args[3]) is dict and type(args[4]) is tuple)


def save_compiled() -> None:
    """Write the file again when this process compiled patterns it did not hold (those
    of this process first; the others while there are not too many)."""
    if not _NEW or sys.dont_write_bytecode:
        return
    # Copies: another thread (serve's) may compile a pattern meanwhile.
    kept = keptfile.chosen(dict(_CODES), set(_USED), _MOST_KEPT)
    if keptfile.write(CACHE_FILE, _CACHE_MAGIC, kept):
        _NEW.clear()
