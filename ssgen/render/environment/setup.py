"""The Jinja2 environment of a site: its loaders, autoescape, undefined and code generator.

Owns where templates come from (the site's ``templates/`` and the built-in templates
under the ``_ssgen/`` prefix; ``ReadTexts``: the texts a renderer last read, when it
answers for them) and how they compile (StrictUndefined, no per-process
size limit, the fragment-aware code generator, the loop splicer compiled loops call).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jinja2

from ssgen.render.fragments import FragmentCache, FragmentCodeGenerator
from ssgen.render.loops import splice

BUILTIN_PREFIX = "_ssgen"
BUILTIN_DIR = Path(__file__).parent.parent / "builtin_templates"
MISSING_HASH = "missing"


# A template as read: its text and the file it came from (for a failure's place).
Read = tuple[str, str | None]


class ReadTexts(jinja2.BaseLoader):
    """The files' loader, except for the templates in ``texts`` (when set): those are
    served as read, so what compiles is what a renderer hashed and analysed, even if a
    file was saved since (``Renderer.shared``). None in ``texts``: no such template."""

    def __init__(self, files: jinja2.BaseLoader) -> None:
        self.files = files
        self.texts: dict[str, Read | None] | None = None

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        """The template's text, file and up-to-date check: as read, else from the files."""
        texts = self.texts
        if texts is None or template not in texts:
            return self.files.get_source(environment, template)
        read = texts[template]
        if read is None:
            raise jinja2.TemplateNotFound(template)
        # Current while the same read is served (checked only with auto_reload).
        return read[0], read[1], lambda: self.texts is texts

    def list_templates(self) -> list[str]:
        """Every template the files hold."""
        return self.files.list_templates()


def make_environment(
    templates_dir: Path, auto_reload: bool, bytecode_cache_dir: Path | None
) -> jinja2.Environment:
    """A Jinja2 environment over ``templates_dir`` and the built-in templates (through
    a ``ReadTexts`` serving nothing yet)."""
    loader = ReadTexts(jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(str(templates_dir)),
            jinja2.PrefixLoader({BUILTIN_PREFIX: jinja2.FileSystemLoader(str(BUILTIN_DIR))}),
        ]
    ))
    cache = None
    if bytecode_cache_dir is not None:
        bytecode_cache_dir.mkdir(parents=True, exist_ok=True)
        cache = jinja2.FileSystemBytecodeCache(str(bytecode_cache_dir))
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=auto_reload,
        cache_size=-1,
        bytecode_cache=cache,
    )
    env.code_generator_class = FragmentCodeGenerator
    env.fragments = FragmentCache()  # type: ignore[attr-defined]  # off unless a Renderer turns it on
    env.loop_splice = splice  # type: ignore[attr-defined]  # compiled loops call it
    return env
