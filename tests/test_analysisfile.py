"""What earlier processes' renderers worked out of the templates (``ssgen.build.analysisfile``,
``.ssgen/templates.analysis``) and compiled (``ssgen.build.templatecode``,
``.ssgen/templates.code``): a new process takes them instead of analysing and compiling
the templates again, and never an answer or code of another template text, code or
configuration.

The site's one route has no neighbours until its template is edited to read ``next``: a
new process that kept the old answer ("reads no neighbour") would render that template
without them (an undefined ``next``), which a clean full build does not.
"""

from __future__ import annotations

import io
import marshal
import pickle
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jinja2
from sitekit import forget_process, mutant

from ssgen.build import analysisfile, templatecode
from ssgen.build.pipeline import build
from ssgen.build.report import BuildReport
from ssgen.config.load import load_config
from ssgen.render.environment import renderer

TOML = """
[site]
title = "Analysis"
base_url = "https://example.com"

[source]
type = "local"
files = []
markdown_dir = "content"

[[routes]]
name = "page"
path = "/{slug}/"
template = "page.html"
query = '*[_type == "page"] | order(title asc){title, "slug": slug.current}'
"""
PLAIN = "{{ page.title }}\n"
WITH_NEXT = "{{ page.title }}|{% if next %}{{ next.title }}{% endif %}\n"


def make_site(root: Path) -> Path:
    (root / "content").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "ssgen.toml").write_text(TOML)
    (root / "templates" / "page.html").write_text(PLAIN)
    for name in ("a", "b", "c"):
        (root / "content" / f"{name}.md").write_text(f"---\ntitle: {name.upper()}\n---\nx\n")
    return root


def new_process(root: Path) -> BuildReport:
    forget_process()
    return build(load_config(root), jobs=1)


def public(root: Path) -> dict[str, bytes]:
    out = root / "public"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def full_build(root: Path, scratch: Path) -> dict[str, bytes]:
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    for part in ("content", "templates"):
        shutil.copytree(root / part, scratch / part)
    shutil.copy(root / "ssgen.toml", scratch / "ssgen.toml")
    forget_process()
    assert build(load_config(scratch), full=True, jobs=1).ok
    return public(scratch)


@contextmanager
def counted() -> Iterator[dict[str, int]]:
    """How many templates this process analysed (parsed for their names and reads)."""
    calls = {"refs": 0, "reads": 0}
    real_refs, real_reads = renderer.named_templates, renderer.variables_read

    def refs(*args: Any) -> Any:
        calls["refs"] += 1
        return real_refs(*args)

    def reads(*args: Any) -> Any:
        calls["reads"] += 1
        return real_reads(*args)

    with mutant(renderer, "named_templates", refs), mutant(renderer, "variables_read", reads):
        yield calls


def edit_then_build(root: Path, template: str | None = None) -> BuildReport:
    (root / "content" / "b.md").write_text("---\ntitle: Bee\n---\ny\n")
    if template is not None:
        (root / "templates" / "page.html").write_text(template)
    return new_process(root)


def test_a_new_process_takes_the_analysis_and_analyses_no_template(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    with counted() as calls:
        assert new_process(root).ok
    assert calls == {"refs": 1, "reads": 1}
    assert analysisfile.load(root / ".ssgen" / analysisfile.FILE, b"other key") is None
    with counted() as calls:
        assert edit_then_build(root).ok
    assert calls == {"refs": 0, "reads": 0}
    assert public(root) == full_build(root, tmp_path / "scratch")


def test_an_edited_template_is_analysed_again(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    assert new_process(root).ok
    with counted() as calls:
        report = edit_then_build(root, WITH_NEXT)
    assert report.ok and calls["reads"] >= 1
    assert public(root) == full_build(root, tmp_path / "scratch")
    assert b"A|Bee" in public(root)["a/index.html"]


def test_mutant_answers_taken_by_name_under_any_key_are_caught(tmp_path: Path) -> None:
    """Two guards keep an answer of an older template text out: the file's key (which
    covers every template's text) and each answer's source digest. Either alone keeps
    the output right; both gone is caught."""
    real_load = analysisfile.load

    def any_key(path: Path, key: bytes) -> Any:  # loaded under the key it was saved with
        stored = marshal.loads(path.read_bytes()[len(analysisfile.MAGIC) + 16:])
        return real_load(path, stored[0])

    def by_name(self: renderer.Renderer, analysis: renderer.Analysis) -> None:
        for kind, mine in (("refs", self._refs), ("reads", self._reads)):
            for name, (_, answer) in analysis.get(kind, {}).items():
                source = self.template_source(name) or ""
                mine[name] = (renderer.hashlib.sha256(source.encode()).hexdigest(), answer)

    for guards_gone in ([any_key], [by_name], [any_key, by_name]):
        root = make_site(tmp_path / f"site{len(guards_gone)}{guards_gone[0].__name__}")
        assert new_process(root).ok
        with mutant(analysisfile, "load", any_key if any_key in guards_gone else real_load), \
                mutant(renderer.Renderer, "adopt", by_name if by_name in guards_gone
                       else renderer.Renderer.adopt):
            report = edit_then_build(root, WITH_NEXT)
        expected = full_build(root, tmp_path / "scratch")
        right = report.ok and public(root) == expected
        assert right == (len(guards_gone) == 1), guards_gone


def test_a_damaged_or_foreign_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / analysisfile.FILE
    good: renderer.Analysis = {"refs": {"page.html": ("ab", frozenset({"x.html"}))},
                               "reads": {"page.html": ("ab", None)}}
    analysisfile.save(path, b"key", good)
    assert analysisfile.load(path, b"key") == good
    assert analysisfile.load(path, b"another") is None
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x20
    path.write_bytes(bytes(data))
    assert analysisfile.load(path, b"key") is None
    for odd in ({"refs": {"page.html": ("ab", frozenset({1}))}}, {"other": {}},
                {"reads": {"page.html": ("ab",)}}, ["refs"], {"refs": {3: ("ab", None)}}):
        analysisfile.save(path, b"key", odd)  # type: ignore[arg-type]
        assert analysisfile.load(path, b"key") is None, odd
    path.unlink()
    assert analysisfile.load(path, b"key") is None


# The globals' site: ``[data] titles`` lists the pages' titles; a page's template that
# reads ``data.titles`` renders again when any title changes (``globals_used``).
GLOBAL_TOML = TOML + """
[data]
titles = '*[_type == "page"] | order(title asc).title'
"""
READS_TITLES = "{{ page.title }}|{{ data.titles | join(',') }}\n"


def make_global_site(root: Path) -> Path:
    make_site(root)
    (root / "ssgen.toml").write_text(GLOBAL_TOML)
    return root


def retitle(root: Path, name: str, title: str) -> BuildReport:
    (root / "content" / f"{name}.md").write_text(f"---\ntitle: {title}\n---\nx\n")
    return new_process(root)


@contextmanager
def fields_counted() -> Iterator[list[str]]:
    """The ``data`` reads this process worked out of template texts (``variable_fields``)."""
    calls: list[str] = []
    real = renderer.variable_fields

    def fields(ast: Any, variable: str) -> Any:
        calls.append(variable)
        return real(ast, variable)

    with mutant(renderer, "variable_fields", fields):
        yield calls


def test_a_new_process_takes_the_globals_a_template_reads(tmp_path: Path) -> None:
    """The first build works out which globals the template reads; a new process after a
    global changed takes the answer from the file; after the template's edit it is worked
    out again (once), and the page of the edited template renders again when a title it
    now lists changes."""
    root = make_global_site(tmp_path / "site")
    with fields_counted() as calls:
        assert new_process(root).ok
    assert calls == ["data"]
    with fields_counted() as calls:
        assert retitle(root, "b", "Bee").ok
    assert calls == []
    (root / "templates" / "page.html").write_text(READS_TITLES)
    assert new_process(root).ok
    for name, title, worked_out in (("c", "Cee", ["data"]), ("a", "Ay", [])):
        with fields_counted() as calls:
            assert retitle(root, name, title).ok
        assert calls == worked_out
    assert public(root) == full_build(root, tmp_path / "scratch")
    assert b"Cee|Ay,Bee,Cee" in public(root)["c/index.html"]


def test_mutant_globals_answers_taken_by_name_under_any_key_are_caught(tmp_path: Path) -> None:
    """As for the names and reads: a ``data`` answer of the older text (none read) kept
    for the edited template, under any key, leaves page ``a`` listing the old titles."""
    real_load = analysisfile.load

    def any_key(path: Path, key: bytes) -> Any:
        stored = marshal.loads(path.read_bytes()[len(analysisfile.MAGIC) + 16:])
        return real_load(path, stored[0])

    def by_name(self: renderer.Renderer, analysis: renderer.Analysis) -> None:
        for name, (_, answer) in analysis.get("fields", {}).items():
            source = self.template_source(name) or ""
            self._fields[name] = (renderer.hashlib.sha256(source.encode()).hexdigest(), answer)

    root = make_global_site(tmp_path / "site")
    assert new_process(root).ok  # the answer for the plain template saved
    with mutant(analysisfile, "load", any_key), mutant(renderer.Renderer, "adopt", by_name):
        (root / "templates" / "page.html").write_text(READS_TITLES)
        assert new_process(root).ok
        assert retitle(root, "c", "Cee").ok
    assert public(root) != full_build(root, tmp_path / "scratch")


@contextmanager
def compiled() -> Iterator[list[str]]:
    """The templates this process compiled (through Jinja2's loaders)."""
    names: list[str] = []
    real = jinja2.Environment.compile

    def compile_(self: jinja2.Environment, source: Any, name: Any = None,
                 *args: Any, **kwargs: Any) -> Any:
        names.append(name)
        return real(self, source, name, *args, **kwargs)

    with mutant(jinja2.Environment, "compile", compile_):
        yield names


def test_a_new_process_takes_the_compiled_templates(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    with compiled() as names:
        assert new_process(root).ok
    assert "page.html" in names
    with compiled() as names:
        assert edit_then_build(root).ok
    assert "page.html" not in names
    with compiled() as names:
        assert edit_then_build(root, WITH_NEXT).ok  # an edited template is compiled again
    assert "page.html" in names
    assert public(root) == full_build(root, tmp_path / "scratch")


def test_mutant_code_taken_under_any_key_and_any_source_is_caught(tmp_path: Path) -> None:
    """Two guards keep code compiled from an older template text out: the file's key
    (every template's text) and Jinja2's check of each entry's source checksum. Either
    alone keeps the output right; both gone is caught."""
    real_load, real_fill = templatecode.load, templatecode.PersistedCode.load_bytecode

    def any_key(path: Path, key: bytes) -> Any:  # loaded under the key it was saved with
        stored = marshal.loads(path.read_bytes()[len(templatecode.MAGIC) + 16:])
        return real_load(path, stored[0])

    def any_source(self: templatecode.PersistedCode, bucket: Any) -> None:
        data = self.entries.get(bucket.key)
        if data is not None:  # Jinja2's magic and source checksum skipped
            stream = io.BytesIO(data[len(jinja2.bccache.bc_magic):])
            pickle.load(stream)
            bucket.code = marshal.load(stream)

    for gone in (("key",), ("source",), ("key", "source")):
        root = make_site(tmp_path / f"code-{'-'.join(gone)}")
        assert new_process(root).ok
        with mutant(templatecode, "load", any_key if "key" in gone else real_load), \
                mutant(templatecode.PersistedCode, "load_bytecode",
                       any_source if "source" in gone else real_fill):
            report = edit_then_build(root, "{{ page.title }}!\n")
        right = report.ok and public(root) == full_build(root, tmp_path / "scratch")
        assert right == (len(gone) == 1), gone


def test_a_damaged_or_foreign_code_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / templatecode.FILE
    templatecode.save(path, b"key", {"k": b"code"})
    assert templatecode.load(path, b"key") == {"k": b"code"}
    assert templatecode.load(path, b"another") is None
    data = bytearray(path.read_bytes())
    data[-2] ^= 0x20
    path.write_bytes(bytes(data))
    assert templatecode.load(path, b"key") is None
    for odd in ({"k": "text"}, {1: b"code"}, [b"code"]):
        templatecode.save(path, b"key", odd)  # type: ignore[arg-type]
        assert templatecode.load(path, b"key") is None, odd
