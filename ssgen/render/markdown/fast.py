"""The compiled Markdown path: markdown-it-pyrs (Rust) for the documents it renders exactly.

Owns ``fast_render(text, options) -> str | None``. markdown-it-py with its plugins stays the
reference renderer (``ssgen.render.markdown``); this module answers only for a document
that a cheap, conservative scan finds free of everything where the Rust port's output
differs or that it lacks, and
returns ``None`` (render with the reference) for every other one:

- options it does not take over: ``typographer``, ``linkify``, ``html``;
- features of the reference that the port lacks or renders differently: heading anchors
  (any possible heading), footnotes (``[^``), Pygments code (a fence with an info string);
- the port's known differences from markdown-it-py (tests/test_markdown_fast.py shows each
  one): characters other than ASCII printables, tab, newline and non-ASCII letters, digits
  and marks (Unicode whitespace and punctuation classes differ, and Python's ``strip``
  removes more than the port does); code spans of only spaces; a fence left open at the
  end of a document with no final newline; runs of three tildes; and an input on which the
  port panics. An empty block quote is rendered ``<blockquote>\\n</blockquote>`` by the
  port: with raw HTML off that text can only come from one, so it is rewritten.

The equality is proved in tests on the CommonMark spec examples, the project's fixtures and
a generated corpus; anything the scan lets through must render byte-identically.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from typing import Any, Protocol

from markdown_it_pyrs import MarkdownIt as RustMarkdownIt

# The commonmark preset without raw HTML, plus markdown-it-py's default strikethrough.
# (Any: the stub types the names as one Literal, which a list of str does not meet.)
_RULES: list[Any] = [
    "blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph",
    "reference", "autolink", "backticks", "emphasis", "entity", "escape", "image", "link",
    "newline", "strikethrough",
]

# Patterns that start with a literal (the line's "\n") are searched at C speed; the
# text is searched as "\n" + text + "\n" so its first and last lines count too.
_MARKER = r"(?:[-+*]|\d{1,9}[.)])"
_QUOTE_OR_EMPTY_ITEM = re.compile(
    rf"\n[ \t]*(?:{_MARKER}[ \t]+)*>"  # a block quote (its lazy lines differ)
    rf"|\n[ \t]*{_MARKER}[ \t]*(?=\n)"  # an empty list item
)
_LINE_START_MARKS = re.compile(rb"[>\-+*.)]")
_HEADING_MARKS = re.compile(rb"[#=\-]")
_LIST_ITEM = re.compile(rf"\n[ \t]*{_MARKER}[ \t\n]")
_PROSE = (string.ascii_letters + " \n").encode()
_CONTROL = bytes([*range(0x09), *range(0x0B, 0x20), 0x7F])  # carriage returns included
_SPACES_SPAN = re.compile(r"`[ \n]+`")  # a code span of spaces only
_INFO_FENCE = re.compile(r"```[ \t]*\S")  # a fence that may name a language
_FENCE_LINE = re.compile(r" {0,3}`{3,}[^`]*")
_ATX = re.compile(r"#(?:[ \t\n]|\Z)")
_SETEXT = re.compile(r"(?:^|[ \t>])(?:=+|-+)[ \t]*$", re.MULTILINE)


class _Options(Protocol):
    @property
    def anchors(self) -> bool: ...
    @property
    def footnotes(self) -> bool: ...
    @property
    def highlight(self) -> bool: ...
    @property
    def tables(self) -> bool: ...
    @property
    def typographer(self) -> bool: ...
    @property
    def linkify(self) -> bool: ...
    @property
    def html(self) -> bool: ...


def fast_render(text: str, options: _Options) -> str | None:
    """``text`` rendered by the compiled port, or None when the reference must render it."""
    if options.typographer or options.linkify or options.html:
        return None
    if _needs_reference(text, options.anchors, options.highlight, options.tables):
        return None
    return _port_render(text, options.tables)


def _needs_reference(text: str, anchors: bool, highlight: bool, tables: bool) -> bool:
    """True when ``text`` may hold a feature or a case where the port differs.

    Most prose is letters and spaces: each check runs only when the characters it needs
    are among what is left once those are dropped (``marks``, a C-speed pass).
    """
    if not text.isascii() and not _letters_only(text):
        return True
    marks = text.encode().translate(None, _PROSE)
    if not marks:
        return False
    if len(marks.translate(None, _CONTROL)) != len(marks):
        return True
    if (b"~" in marks and "~~~" in text) or (b"^" in marks and ("[^" in text or "^[" in text)):
        return True
    if _LINE_START_MARKS.search(marks) and _QUOTE_OR_EMPTY_ITEM.search(f"\n{text}\n"):
        return True
    if b"`" in marks and _backtick_trouble(text, highlight):
        return True
    if b"!" in marks and "![" in text and _alt_trouble(text):
        return True
    # The port pairs emphasis delimiters differently when '*' and '_' runs mix, and
    # around runs of three (markdown-it's later "multiple of 3" bookkeeping).
    if (b"*" in marks and (b"_" in marks or "***" in text)) or (b"_" in marks and "___" in text):
        return True
    if anchors and _HEADING_MARKS.search(marks) and _maybe_heading(text):
        return True
    return tables and b"-" in marks and _maybe_table(text)


def _backtick_trouble(text: str, highlight: bool) -> bool:
    if _SPACES_SPAN.search(text) or _unpaired_backticks(text):
        return True
    if "```" not in text:
        return False
    # A fence left open at the end, one in a tight list item after its text (the port
    # puts a newline between), or one naming a language for Pygments.
    return (
        not text.endswith("\n")
        or _LIST_ITEM.search(f"\n{text}") is not None
        or (highlight and _INFO_FENCE.search(text) is not None)
    )


def _alt_trouble(text: str) -> bool:
    # An image's alt text in the port keeps only plain text: escapes, entities,
    # autolinks and hard breaks inside it are dropped.
    return "\\" in text or "&" in text or "<" in text or "  \n" in text


def _maybe_heading(text: str) -> bool:
    """An ATX heading or a possible setext underline (any line ending in a run of = or -,
    trailing blanks allowed, after a blank, a ``>`` or nothing)."""
    if "#" in text and _ATX.search(text):
        return True
    lines = f"{text}\n"
    ends = "-\n" in lines or "=\n" in lines or " \n" in lines or "\t\n" in lines
    return ends and _SETEXT.search(text) is not None


def _port_render(text: str, tables: bool) -> str | None:
    """The port's HTML, or None if it panicked (pyo3's ``PanicException`` is a
    ``BaseException``; the panic message still reaches stderr, hence the scan before)."""
    try:
        html: str = _engine(tables).render(text)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        return None
    return html


def _unpaired_backticks(text: str) -> bool:
    """True when a line has a backtick run that opens no code span on that line.

    The port panics on an unclosed run after a ``[`` (``[`a``). This scans as
    markdown-it's backtick rule does (outside a span a backslash escapes, inside it does
    not; a run closes at the next run of the same length), one line at a time, which
    can only find more unpaired runs than the real inline content has, never fewer.
    A line that opens or closes a backtick fence holds no inline content and is skipped.
    """
    for line in text.split("\n"):
        if _FENCE_LINE.fullmatch(line):  # a fence's opening or closing line: not inline
            continue
        start = line.find("`")
        while start != -1:
            if _escaped(line, start):
                start = line.find("`", start + 1)
                continue
            length = len(line) - start - len(line[start:].lstrip("`"))
            closer = re.compile(f"(?<!`){'`' * length}(?!`)").search(line, start + length)
            if closer is None:
                return True
            start = line.find("`", closer.end())
    return False


def _escaped(line: str, at: int) -> bool:
    backslashes = at - len(line[:at].rstrip("\\"))
    return backslashes % 2 == 1


def _maybe_table(text: str) -> bool:
    # A delimiter row needs a hyphen and a pipe, or (in the port, one column) a colon.
    return "-" in text and ("|" in text or ":-" in text or "-:" in text)


def _letters_only(text: str) -> bool:
    """True when every non-ASCII character is a letter, digit or mark (never whitespace,
    punctuation or a symbol, the classes where the two renderers disagree)."""
    return all(unicodedata.category(c)[0] in "LNM" for c in set(text) if ord(c) > 127)


@functools.lru_cache(maxsize=2)
def _engine(tables: bool) -> RustMarkdownIt:
    engine = RustMarkdownIt("zero")
    engine.enable_many([*_RULES, "table"] if tables else _RULES)
    return engine
