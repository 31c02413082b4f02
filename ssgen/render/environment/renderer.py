"""`Renderer`: one site's Jinja2 environment and everything that renders through it.

Owns rendering (every Jinja2 failure becomes `RenderError(message, template, line)`),
template texts and hashes, the template dependency graph (`Renderer.template_chain`,
`Renderer.template_hash`) used for ``template:<file>`` tags, what a template chain reads
(`reads_any`, `globals_used`), and the process's shared renderer (`Renderer.shared`, for
serve). Filters live in ``ssgen.render.filters``; sitemap/feed/robots in
``ssgen.render.generated``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import jinja2
from jinja2 import nodes

from ssgen.errors import RenderError
from ssgen.memos import site_memo
from ssgen.render.environment.analysis import named_templates, variable_fields, variables_read
from ssgen.render.environment.failures import (
    UNKNOWN_FILTER,
    did_you_mean,
    innermost_template_frame,
    message,
)
from ssgen.render.environment.setup import (
    BUILTIN_DIR,
    BUILTIN_PREFIX,
    MISSING_HASH,
    Read,
    ReadTexts,
    make_environment,
)
from ssgen.render.filters import UrlHelper, install_filters, with_url_helper
from ssgen.render.fragments import FragmentCache
from ssgen.render.loops import render_bytes

if TYPE_CHECKING:
    from ssgen.config.load import Config

_SHARED: dict[tuple[str, str], Renderer] = site_memo()
_SHARED_MAX = 2  # serve's site, and one other (tests compare with a full build elsewhere)

_T = TypeVar("_T")
# Per kind ("refs": the templates a template names, "reads": the variables it reads,
# "fields": the ``data.<name>`` globals it reads),
# template name -> (digest of the source it was worked out of, the answer).
Analysis = dict[str, dict[str, tuple[str, frozenset[str] | None]]]


class Renderer:
    """The Jinja2 environment of one site and everything that renders through it."""

    def __init__(
        self,
        config: Config,
        *,
        auto_reload: bool = True,
        bytecode_cache_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.site_dir = Path(config.site_dir)
        self.templates_dir = Path(config.templates_dir)
        self.env = make_environment(self.templates_dir, auto_reload, bytecode_cache_dir)
        assert isinstance(self.env.loader, ReadTexts)
        # A shared renderer's templates as read at its last use (``shared``), served to
        # Jinja2 as well: one read of each file per build, and the hashes and chains a
        # build records are those of the texts it compiled, even when a file is saved
        # while the build runs (or saved and undone before the next).
        self._loader: ReadTexts = self.env.loader
        install_filters(self.env, config)
        # Whether [search] builds a Pagefind bundle: templates show a search box only then.
        self.env.globals["search_enabled"] = config.search.enabled
        self.fragments = FragmentCache()
        self.env.fragments = self.fragments  # type: ignore[attr-defined]
        self._refs: dict[str, tuple[str, frozenset[str] | None]] = {}
        self._reads: dict[str, tuple[str, frozenset[str] | None]] = {}
        self._fields: dict[str, tuple[str, frozenset[str] | None]] = {}  # ``data.<name>``s
        self._compiled_texts: dict[str, str | None] = {}
        # ``reads_any``'s answers for the texts ``_compiled_texts`` names (a new dict
        # whenever a template's text changed).
        self._reads_any: tuple[object, dict[tuple[str, frozenset[str]], bool]] = (None, {})

    @classmethod
    def shared(cls, config: Config) -> Renderer:
        """The process's auto-reloading renderer for this site and configuration.

        Serve rebuilds in one process again and again; compiling every template afresh
        for each rebuild would cost more than rendering the few pages a change touches.
        Compiled templates are dropped when any template's text changed (by content, not
        mtime: two saves within one timestamp tick must not leave a stale template). That
        check runs here, once per use, so Jinja2's own per-``get_template`` check (a stat
        per include per rendered card, ~12k a serve round at 10k posts) is off.
        """
        key = (str(config.site_dir), config.hash)
        renderer = _SHARED.pop(key, None)
        if renderer is None:
            while len(_SHARED) >= _SHARED_MAX:
                del _SHARED[next(iter(_SHARED))]  # the least recently used
            renderer = cls(config, auto_reload=False)
            renderer.fragments.enabled = True  # sound here: _drop_stale runs before each use
        _SHARED[key] = renderer
        renderer._drop_stale()
        return renderer

    def _drop_stale(self) -> None:
        read = {name: self._read(name) for name in self.list_templates()}
        texts = {name: None if got is None else got[0] for name, got in read.items()}
        if texts != self._compiled_texts:
            self.clear_cache()
            self._compiled_texts = texts
        self._loader.texts = read

    def unshared(self) -> Renderer:
        """A new renderer of this site (not the shared one: no fragment cache) that
        compiles and answers for the texts this one does (for render workers)."""
        other = Renderer(self.config, auto_reload=False)
        other._loader.texts = self._loader.texts
        return other

    def render(self, template: str, context: Mapping[str, Any]) -> str:
        """Render ``template`` (a name under templates/) with ``context``.

        Every failure (syntax, undefined variable, missing template, an exception in a
        filter) becomes a `RenderError` naming the template file and line.
        """
        return self._rendered(template, context, jinja2.Template.render)

    def render_bytes(self, template: str, context: Mapping[str, Any]) -> bytes:
        """``render(template, context).encode()``; spliced loops' output is put in as
        the bytes they keep (``ssgen.render.loops``)."""
        return self._rendered(template, context, render_bytes)

    def _rendered(self, template: str, context: Mapping[str, Any],
                  run: Callable[[jinja2.Template, Mapping[str, Any]], _T]) -> _T:
        try:
            url = self.env.globals["url"]
            assert isinstance(url, UrlHelper)
            return run(self.env.get_template(template), with_url_helper(context, url))
        except jinja2.TemplateSyntaxError as exc:
            text = message(exc) + self._hint(exc)
            where_name = self.display_name(exc.filename, exc.name)
            raise RenderError(text, where_name, exc.lineno) from exc
        except Exception as exc:  # any error raised while rendering is a page failure
            text = message(exc) + self._hint(exc)
            where = innermost_template_frame(exc.__traceback__)
            if where is None:
                raise RenderError(text, self.display_name(None, template)) from exc
            filename, line = where
            raise RenderError(text, self.display_name(filename, None), line) from exc

    def _hint(self, exc: BaseException) -> str:
        """What to do about a template mistake: the likely intended name, or how to guard."""
        if isinstance(exc, jinja2.TemplateNotFound):
            return did_you_mean(str(exc.name or ""), self.list_templates())
        if isinstance(exc, jinja2.TemplateSyntaxError):
            unknown = UNKNOWN_FILTER.search(exc.message or "")
            return did_you_mean(unknown.group(1), self.env.filters) if unknown else ""
        if isinstance(exc, jinja2.UndefinedError):
            return (
                " (check the spelling against the route's query; for an optional field use "
                "`{{ x | default('') }}` or `{% if x is defined %}`)"
            )
        return ""

    def render_string(self, source: str, context: Mapping[str, Any]) -> str:
        """Render a template given as text (for tests and `ssgen init` snippets)."""
        try:
            return self.env.from_string(source).render(context)
        except Exception as exc:
            where = innermost_template_frame(exc.__traceback__)
            line = getattr(exc, "lineno", None) or (where[1] if where else None)
            raise RenderError(message(exc), "<string>", line) from exc

    def display_name(self, filename: str | None, name: str | None) -> str:
        """A template's path as a user sees it: ``templates/post.html``, ``_ssgen/atom.xml``."""
        if filename:
            path = Path(filename)
            for root, prefix in ((self.templates_dir, None), (BUILTIN_DIR, BUILTIN_PREFIX)):
                try:
                    relative = path.resolve().relative_to(root.resolve()).as_posix()
                except ValueError:
                    continue
                return f"{prefix}/{relative}" if prefix else self._site_relative(relative)
            return filename
        if name and name.startswith(f"{BUILTIN_PREFIX}/"):
            return name
        return self._site_relative(name or "<unknown>")

    def _site_relative(self, name: str) -> str:
        try:
            base = self.templates_dir.resolve().relative_to(self.site_dir.resolve())
        except ValueError:
            return str(self.templates_dir / name)
        return (base / name).as_posix()

    def clear_cache(self) -> None:
        """Forget compiled templates and the dependency cache (after template edits)."""
        if self.env.cache is not None:
            self.env.cache.clear()
        self.fragments.clear()
        self._refs.clear()
        self._reads.clear()
        self._fields.clear()
        self._loader.texts = None

    def compile_all(self) -> int:
        """Compile every template now (serve's warming, so that no webhook's round pays
        for it); how many compiled. One that does not is left to the pages that use it,
        whose renders report it."""
        done = 0
        for name in self.list_templates():
            try:
                self.env.get_template(name)
            except (jinja2.TemplateError, UnicodeDecodeError, OSError):
                continue
            done += 1
        return done

    def list_templates(self) -> list[str]:
        """Every template name this environment can load, sorted."""
        return sorted(self.env.list_templates())

    def template_source(self, name: str) -> str | None:
        """The text of template ``name``, or None when it does not exist (for a shared
        renderer: as it was when the renderer was last taken, see ``shared``)."""
        texts = self._loader.texts
        if texts is not None and name in texts:
            read = texts[name]
            return None if read is None else read[0]
        return self.disk_source(name)

    def disk_source(self, name: str) -> str | None:
        """The text of template ``name`` as its file holds it now (None: no such file)."""
        read = self._read(name)
        return None if read is None else read[0]

    def _read(self, name: str) -> Read | None:
        try:
            source, filename, _ = self._loader.files.get_source(self.env, name)
        except jinja2.TemplateNotFound:
            return None
        return source, filename

    def template_hash(self, name: str) -> str:
        """sha256 of the template's source; ``"missing"`` for a template that does not exist."""
        source = self.template_source(name)
        if source is None:
            return MISSING_HASH
        return hashlib.sha256(source.encode("utf-8")).hexdigest()

    def template_chain(self, name: str) -> tuple[str, ...]:
        """``name`` plus everything it extends, includes or imports, transitively, sorted.

        A template using the ``portable_text`` filter depends on ``portable_text.html``
        (its macros). A dynamic name (``{% include some_var %}``) makes the chain every
        template, since any of them may be used. Referenced templates that do not exist
        are still listed, so creating one later invalidates the pages that would use it.
        """
        chain = {name}
        pending = [name]
        while pending:
            refs = self._direct_refs(pending.pop())
            if refs is None:
                return tuple(sorted(set(self.list_templates()) | chain))
            for ref in refs - chain:
                chain.add(ref)
                pending.append(ref)
        return tuple(sorted(chain))

    def fragment_templates(self) -> frozenset[str]:
        """The templates other templates include (with context) whose output the fragment
        cache keeps (render/fragments.py)."""
        targets: set[str] = set()
        for name in self.list_templates():
            source = self.template_source(name)
            try:
                ast = self.env.parse(source or "", name)
            except jinja2.TemplateSyntaxError:
                continue
            targets |= {node.template.value for node in ast.find_all(nodes.Include)
                        if node.with_context and isinstance(node.template, nodes.Const)
                        and isinstance(node.template.value, str)}
        return frozenset(name for name in targets if self.fragments.cacheable(self.env, name))

    def globals_used(self, name: str) -> frozenset[str] | None:
        """The ``data.<name>`` globals that ``name``'s template chain reads.

        None when ``data`` is used in a way that is not a constant attribute or item
        (``data[key]``, ``data | items``, passed to a macro): then assume every global.
        Each template's answer is kept by its source (``_by_source``) and carried to later
        processes (``analysis``): a build asks for every page's template up to three
        times, and each Jinja2 parse of the chain costs ~12 ms at the default site.
        """
        used: set[str] = set()
        for member in self.template_chain(name):
            found = self._by_source(self._fields, member, self._data_fields, frozenset())
            if found is None:
                return None
            used |= found
        return frozenset(used)

    def reads_any(self, name: str, variables: frozenset[str]) -> bool:
        """Whether ``name``'s template chain reads any of these context ``variables``
        (a chain that cannot be analysed counts as reading them). Answered once while
        the texts read stay the same (serve asks for every route each round: each
        answer hashes the chain's texts again, 3.8 ms a round at 30,000 posts)."""
        if self._loader.texts is None:  # read from disk at each ask
            return self._chain_reads_any(name, variables)
        if self._reads_any[0] is not self._compiled_texts:
            self._reads_any = (self._compiled_texts, {})
        known = self._reads_any[1]
        found = known.get((name, variables))
        if found is None:
            found = known[name, variables] = self._chain_reads_any(name, variables)
        return found

    def _chain_reads_any(self, name: str, variables: frozenset[str]) -> bool:
        try:
            chain = self.template_chain(name)
        except RenderError:
            return True
        for member in chain:
            reads = self._by_source(self._reads, member, self._variables_read, frozenset())
            if reads is None or not variables.isdisjoint(reads):
                return True
        return False

    def analysis(self) -> Analysis:
        """What this renderer worked out of its templates' sources so far, for a later
        process to ``adopt`` (``ssgen.build.analysisfile``)."""
        return {"refs": dict(self._refs), "reads": dict(self._reads),
                "fields": dict(self._fields)}

    def adopt(self, analysis: Analysis) -> None:
        """Take another process's ``analysis``: each answer is used only while its
        template's source has the digest it was worked out of (``_by_source``)."""
        for known, mine in ((analysis.get("refs", {}), self._refs),
                            (analysis.get("reads", {}), self._reads),
                            (analysis.get("fields", {}), self._fields)):
            for name, answer in known.items():
                mine.setdefault(name, answer)

    def _direct_refs(self, name: str) -> frozenset[str] | None:
        """Templates named in ``name``'s source; None when a name is dynamic."""
        return self._by_source(self._refs, name, self._named_templates, frozenset())

    def _by_source(self, cache: dict[str, tuple[str, _T]], name: str,
                   compute: Callable[[str, str], _T], missing: _T) -> _T:
        """``compute(source, name)`` for template ``name``, cached by its source text
        (``missing`` when the template does not exist)."""
        source = self.template_source(name)
        if source is None:
            return missing
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
        cached = cache.get(name)
        if cached is not None and cached[0] == digest:
            return cached[1]
        value = compute(source, name)
        cache[name] = (digest, value)
        return value

    def _named_templates(self, source: str, name: str) -> frozenset[str] | None:
        try:
            return named_templates(self.env, source, name)
        except jinja2.TemplateSyntaxError as exc:
            where = self.display_name(None, name)
            raise RenderError(message(exc), where, exc.lineno) from exc

    def _variables_read(self, source: str, name: str) -> frozenset[str] | None:
        return variables_read(self.env, source, name)

    def _data_fields(self, source: str, name: str) -> frozenset[str] | None:
        found = variable_fields(self.env.parse(source, name), "data")
        return None if found is None else frozenset(found)
