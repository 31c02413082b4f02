"""A template saved between a build's read of the templates and its render, then undone
before the next build (A -> B -> A): the build compiles the texts it read (and hashed),
so the next incremental build still equals a clean full build."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sitekit import author, forget_process, make_site, mutant, output_files, post

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.errors import RenderError
from ssgen.render.environment import Renderer
from ssgen.render.environment.setup import ReadTexts

EDITED = ('{% extends "base.html" %}{% block content %}<h2>{{ page.title }}</h2>'
          "{% endblock %}")
SAVED_MEANWHILE = ('{% extends "base.html" %}{% block content %}<h3>B {{ page.title }}</h3>'
                   "{% endblock %}")


def _saving_after_read(path: Path, text: str) -> Callable[[Renderer], None]:
    """``Renderer._drop_stale`` that saves ``text`` to ``path`` once, right after the
    renderer has read the templates (as an editor's save landing there would)."""
    original = Renderer._drop_stale
    pending = [text]

    def drop_stale(self: Renderer) -> None:
        original(self)
        if pending:
            path.write_text(pending.pop(), encoding="utf-8")
    return drop_stale


def _full_build(site: Path, scratch: Path) -> dict[str, bytes]:
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(site, scratch, ignore=shutil.ignore_patterns("public", ".ssgen"))
    forget_process()
    assert build(load_config(scratch), full=True, jobs=1).ok
    return output_files(scratch)


def _edit_saved_and_undone(tmp_path: Path, posts: int, jobs: int, new_process: bool) -> None:
    site = make_site(tmp_path, [author("a1", "Ada"), *(post(n) for n in range(posts))])
    forget_process()
    assert build(load_config(site), full=True, jobs=jobs).ok
    template = site / "templates" / "post.html"
    template.write_text(EDITED, encoding="utf-8")  # A: the edit the next build reads
    with mutant(Renderer, "_drop_stale", _saving_after_read(template, SAVED_MEANWHILE)):
        report = build(load_config(site), jobs=jobs)
    assert report.ok, report.failures
    assert template.read_text(encoding="utf-8") == SAVED_MEANWHILE  # B landed mid-build
    template.write_text(EDITED, encoding="utf-8")  # and is undone: A again
    if new_process:
        forget_process()
    assert build(load_config(site), jobs=jobs).ok
    built = output_files(site)
    assert b"<h2>Post 1</h2>" in built["blog/post-1/index.html"]
    assert built == _full_build(site, tmp_path / "clean")


@pytest.mark.parametrize("new_process", [False, True], ids=["same-process", "new-process"])
def test_template_saved_after_the_read_and_undone(tmp_path: Path, new_process: bool) -> None:
    _edit_saved_and_undone(tmp_path, 3, 1, new_process)


def test_template_saved_after_the_read_and_undone_render_workers(tmp_path: Path) -> None:
    # Enough pages for the forked render workers, whose renderer is not the shared one.
    _edit_saved_and_undone(tmp_path, 240, 2, True)


def test_a_template_deleted_after_the_read_renders_as_read(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (site / "templates" / "a.html").write_text("A {% include 'b.html' %}", encoding="utf-8")
    (site / "templates" / "b.html").write_text("b", encoding="utf-8")
    renderer = Renderer.shared(load_config(site))
    assert isinstance(renderer.env.loader, ReadTexts)
    (site / "templates" / "b.html").unlink()
    (site / "templates" / "late.html").write_text("late", encoding="utf-8")
    assert renderer.render("a.html", {}) == "A b"  # as read
    assert renderer.render("late.html", {}) == "late"  # not read then: from the file
    again = Renderer.shared(load_config(site))  # the next build reads again
    assert again.template_source("b.html") is None
    with pytest.raises(RenderError, match=r"b\.html"):
        again.render("a.html", {})
