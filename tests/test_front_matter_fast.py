"""Front matter through libyaml's CSafeLoader gives what PyYAML's pure SafeLoader gives:
the same Python values for generated YAML text (tricky scalars, block and flow styles,
block scalars, anchors, merge keys, tags, comments), and the same errors."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ssgen.sources.frontmatter as frontmatter
import ssgen.sources.frontmatter.simple as frontmatter_simple
from ssgen.errors import SourceError
from ssgen.sources.frontmatter import split_front_matter
from ssgen.sources.frontmatter.simple import IMPLICIT, simple_mapping

ROOT = Path(__file__).resolve().parent.parent

SCALARS = [
    "yes", "No", "on", "OFF", "y", "n", "true", "False", "null", "~", "Null", "", "0", "-0",
    "007", "0o17", "017", "0x1F", "0b101", "1_000", "+12", "1e3", "1.5e-3", ".5", "5.",
    "1:30", "-1:30:00", "190:20:30.15", ".inf", "-.Inf", ".NaN", "nan", "2024-01-02",
    "2024-1-2", "2024-01-02T03:04:05Z", "2024-01-02 03:04:05.123+01:00", "2024-01-02t03:04:05",
    "12:30", "a: b", "'quoted'", "'it''s'", '"tab\\there"', '"\\u00e9\\x41\\N"', '"a\\\nb"',
    "café ✓", "plain text # comment", "#notcomment", "a#b", "@at", "`tick", "-dash", "? q",
    "[1, 2, {a: b}]", "{x: [y, z], 'k': \"v\"}", "[]", "{}", "!!str 12", "!!int '12'",
    "!!float 1", "!!bool yes", "!!null ''", "!!binary aGVsbG8=", "!!set {a, b}", "&a anchored",
    "'multi\n  line'", "plain\n  continued", "\"dq\n\n  para\"", "- 1", "0.1", "-.5", "+.inf",
]

BLOCKS = [
    "|\n  keep\n  lines\n", "|-\n  strip\n", "|+\n  keep\n\n", ">\n  folded\n  text\n\n  para\n",
    ">-\n  a\n   indented\n  b\n", "|2\n   two\n", "\n  - a\n  - [b, c]\n  - {d: e}\n",
    "\n  nested: {x: 1}\n  list:\n    - 1\n    - two\n", "\n  <<: {a: 1, b: 2}\n  c: 3\n",
    "\n- one\n- two\n", "!!omap\n  - a: 1\n  - b: 2\n", "!!pairs\n  - a: 1\n  - a: 2\n",
]


@st.composite
def front_matter(draw: st.DrawFn) -> str:
    """A YAML mapping as an author might write it, one key a line."""
    lines = []
    for number in range(draw(st.integers(1, 6))):
        key = draw(st.sampled_from([f"k{number}", f"'key {number}'", f'"k{number}"', f"{number}"]))
        value = draw(st.sampled_from(SCALARS) | st.sampled_from(BLOCKS))
        comment = draw(st.sampled_from(["", "  # note", " #x"]))
        if "\n" in value:
            lines.append(f"{key}: {value}")
        else:
            lines.append(f"{key}: {value}{comment}\n")
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["\n", "# comment\n", "alias: *a\n", "base: &b {z: 1}\nref: *b\n"])))
    return "".join(lines)


def _fast_split(text: str) -> tuple[dict[str, Any], str]:
    return split_front_matter(text, "posts/a.md")


def _pure_split(text: str) -> tuple[dict[str, Any], str]:
    saved = frontmatter._FAST_LOADER
    frontmatter._FAST_LOADER = yaml.SafeLoader
    try:
        return split_front_matter(text, "posts/a.md")
    finally:
        frontmatter._FAST_LOADER = saved


def _outcome(split: Any, text: str) -> str:
    """The values (as repr, so NaN equals NaN) or the error message."""
    try:
        return repr(split(text))
    except SourceError as exc:
        return f"error: {exc}"


def test_the_fast_loader_is_libyaml() -> None:
    assert frontmatter.fast_loader() is yaml.CSafeLoader


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=front_matter())
def test_generated_front_matter_loads_as_with_the_pure_loader(raw: str) -> None:
    text = f"---\n{raw}---\nbody\n"
    fast = _outcome(_fast_split, text)
    assert fast == _outcome(_pure_split, text)


@settings(max_examples=200, deadline=None)
@given(raw=st.text(alphabet=st.sampled_from(list(":-?[]{},#&*!|>'\"%@` \n\tab1.~")), max_size=40))
def test_arbitrary_text_loads_or_fails_as_with_the_pure_loader(raw: str) -> None:
    text = f"---\nk: {raw}\n---\nbody\n"
    assert _outcome(_fast_split, text) == _outcome(_pure_split, text)


@pytest.mark.parametrize(
    "file",
    sorted([*ROOT.glob("content/**/*.md"), *ROOT.glob("tests/fixtures/**/*.md")]),
    ids=lambda p: p.name,
)
def test_project_front_matter_loads_as_with_the_pure_loader(file: Path) -> None:
    text = file.read_text("utf-8")
    assert _outcome(_fast_split, text) == _outcome(_pure_split, text)


@pytest.mark.parametrize(
    "raw",
    ["k: !\n", "k: \t\n", "k: |#\n", "k: >-#\n  x\n", "k: [a?b]\n", "k: {a?: b}\n", "k: [\n  a?\n  ]\n"],
)
def test_where_libyaml_is_more_lenient_the_pure_loader_decides(raw: str) -> None:
    text = f"---\n{raw}---\nbody\n"
    fast_value = repr(yaml.load(raw, Loader=yaml.CSafeLoader))
    try:
        pure_value = repr(yaml.safe_load(raw))
    except yaml.YAMLError:
        pure_value = "error"
    assert fast_value != pure_value  # the case is real
    assert _outcome(_fast_split, text) == _outcome(_pure_split, text)


# --- plain key: value lines, read without PyYAML -----------------------------------------

_PIECES = st.sampled_from([
    "a", "Z", "1", "0", " ", "  ", ":", ": ", "#", " #", "-", "?", "!", "'", '"', ",", "[", "]",
    "{", "}", "|", ">", "%", "@", "`", "~", "&", "*", "\t", ".", "_", "é", "✓", "\u00a0",
    "\u2028", "\x85", "\ufeff", "\x7f", "yes", "No", "on", "OFF", "true", "False", "null",
    "Null", "NULL", "y", "n", "12", "1.5", "0x1F", "1_000", "2024-01-02", ".inf", "<<", "=",
])


@st.composite
def plain_lines(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        key = draw(st.lists(_PIECES, min_size=1, max_size=3).map("".join))
        value = draw(st.lists(_PIECES, min_size=1, max_size=6).map("".join))
        lines.append(f"{key}: {value}\n" + draw(st.sampled_from(["", "\n"])))
    return "".join(lines)


@settings(max_examples=400, deadline=None)
@given(raw=plain_lines())
def test_plain_lines_read_without_yaml_equal_the_pure_loader(raw: str) -> None:
    simple = simple_mapping(raw)
    if simple is not None:
        try:
            expected = repr(yaml.safe_load(raw))
        except yaml.YAMLError as exc:
            expected = f"error: {exc}"
        assert repr(simple) == expected


def test_typical_front_matter_is_read_without_yaml() -> None:
    raw = "title: Hello, world: part 2?\ndraft: false\nsummary: It's C# vs. C++!\nlayout: Null\n"
    assert simple_mapping(raw.replace(": part", " part")) == {
        "title": "Hello, world part 2?", "draft": False, "summary": "It's C# vs. C++!",
        "layout": None,
    }
    for raw in ["n: 12\n", "yes: x\n", "t: x #c\n", "d: 2024-01-02\n", " k: v\n", "k: 'q'\n",
                "k: a\u2028b\n", "k: [a]\n", "k: v \n", "k:\tv\n", "- a\n"]:
        assert simple_mapping(raw) is None, raw


def test_the_copied_resolvers_are_pyyamls() -> None:
    """For every character a plain key or value here can start with, the copied table
    lists what PyYAML's ``Resolver`` lists, in its order (a new PyYAML fails this)."""
    implicit = yaml.resolver.Resolver.yaml_implicit_resolvers
    for char in string.ascii_letters + string.digits:
        theirs = [(tag, pattern.pattern, pattern.flags)
                  for tag, pattern in implicit.get(char, []) + implicit.get(None, [])]
        ours = [(tag, pattern, flags | re.UNICODE) for tag, pattern, flags, first in IMPLICIT
                if char in first]
        assert ours == theirs, char
    assert dict(frontmatter_simple._BOOL_VALUES) == yaml.constructor.SafeConstructor.bool_values


def test_plain_front_matter_does_not_import_yaml() -> None:
    code = (
        "import sys\n"
        "from ssgen.sources.frontmatter import split_front_matter\n"
        "print(split_front_matter('---\\ntitle: a b\\ndraft: no\\n---\\nx\\n', 'a.md'))\n"
        "assert 'yaml' not in sys.modules, 'yaml imported'\n"
        "split_front_matter('---\\nn: 12\\n---\\nx\\n', 'a.md')\n"
        "assert 'yaml' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "({'title': 'a b', 'draft': False}, 'x\\n')"
