"""Rendered ``{% include %}`` fragments, kept across renders of one process (serve).

An author page that lists 20,000 post cards includes ``partials/_post_card.html`` 20,000
times; after one post changed, 19,999 of those renders give the bytes they gave last
time. ``FragmentCache`` remembers the output of an included template keyed by what it
reads: the template object (a recompiled or reloaded template is a new object), and for
each name it can read from the includer's context (globals too) that value's
identity when it is a container, or the value itself when it is a scalar. Identity is
sound because route data is never mutated once a query returned it (the maintained
queries hand back the very same item object while a document's item is unchanged, and a
new object when it changes); the entry holds a strong reference to every keyed object, so
an id is never reused while its entry lives. Filters and globals are pure functions of
their arguments and the configuration (no clock, no randomness), so they add nothing to
the key; the image variants a fragment records are replayed on a hit.

Templates whose output depends on more than their variables are never cached: ones with
``extends``, ``block``, ``include``, or an ``import`` with context. Other templates it
reads (imported macros, ``portable_text.html``) are covered because the shared renderer
drops compiled templates, and this cache with them, whenever any template's text changes
(``Renderer._drop_stale``). Entries whose keyed objects nobody else holds can never hit
again; ``sweep`` drops them.

The package: this module holds the cache and its code generator; ``store`` the outputs
kept across processes, keyed by value.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.utils import missing
from markupsafe import Markup

from ssgen.fastclass import dataclass
from ssgen.render.filters import PageUrl
from ssgen.render.fragments import store as fragment_store
from ssgen.render.images.variants import capture, replay

_SCALARS = (str, int, float, bool, type(None))
_CALLED = object()  # a variable the fragment only calls (``url(...)``): a pure helper
_MISSING = object()
_SWEEP_AT = 4096


@dataclass(frozen=True, slots=True)
class _Spec:
    """What a cacheable template reads: its free variables, and which are only called."""

    names: tuple[str, ...]
    called: frozenset[str]


class FragmentCache:
    """Included templates' output by (template, what it reads); see the module doc."""

    def __init__(self) -> None:
        self.enabled = False
        self.hits = 0
        self.misses = 0
        self._specs: dict[int, tuple[jinja2.Template, _Spec | None]] = {}
        self._entries: dict[tuple[Any, ...], tuple[str, tuple[Any, ...], frozenset[str]]] = {}
        self._sweep_at = _SWEEP_AT
        # Kept loop outputs (``ssgen.render.loops``), by (loop body code, key of the rest).
        self.runs: dict[tuple[Any, ...], list[Any]] = {}

    def clear(self) -> None:
        """Forget everything (templates changed)."""
        self._specs.clear()
        self._entries.clear()
        self.runs.clear()
        self._sweep_at = _SWEEP_AT

    def __len__(self) -> int:
        return len(self._entries)

    def render(self, template: jinja2.Template, context: jinja2.runtime.Context,
               local: Mapping[str, Any]) -> Iterator[str]:
        """The include's output events, from the cache when the same inputs were seen
        (in this process by identity, else in the active persisted store by value)."""
        store = fragment_store.active()
        spec = self._spec(template) if self.enabled or store is not None else None
        if spec is None:
            return _run(template, context, local)
        key, refs = fragment_key(template, spec, context, local) if self.enabled else (None, ())
        if key is not None:
            found = self._entries.get(key)
            if found is not None:
                self.hits += 1
                replay(found[2])
                return _one(found[0])
        value_key = None if store is None else fragment_store.value_key(
            template, spec.names, spec.called, context, local)
        if key is None and value_key is None:
            return _run(template, context, local)
        self.misses += 1
        return self._fill(template, context, local, key, refs, value_key)

    def _fill(self, template: jinja2.Template, context: jinja2.runtime.Context,
              local: Mapping[str, Any], key: tuple[Any, ...] | None,
              refs: tuple[Any, ...], value_key: bytes | None) -> Iterator[str]:
        store = fragment_store.active() if value_key is not None else None
        kept = None if store is None or value_key is None else store.get(value_key)
        if kept is not None:
            text, images = kept[0], frozenset(kept[1])
            replay(images)
        else:
            with capture() as captured:
                text = "".join(_run(template, context, local))
            images = frozenset(captured)
            if store is not None and value_key is not None:
                store.add(value_key, text, images)
        if key is not None:
            if len(self._entries) >= self._sweep_at:
                self.sweep()
            self._entries[key] = (text, refs, images)
        yield text

    def sweep(self) -> None:
        """Drop entries that can never hit again: only this cache holds their objects."""
        # getrefcount: the argument and the entry's tuple are the only holders.
        self._entries = {key: entry for key, entry in self._entries.items()
                         if all(sys.getrefcount(ref) > 3 for ref in entry[1])}
        self._sweep_at = max(_SWEEP_AT, 2 * len(self._entries))

    def cacheable(self, env: jinja2.Environment, name: str) -> bool:
        """Whether an include of template ``name`` is kept (False when it cannot load)."""
        try:
            return self._spec(env.get_template(name)) is not None
        except jinja2.TemplateError:
            return False

    def spec_of(self, template: jinja2.Template) -> _Spec | None:
        """What ``template`` reads, or None when its output is never kept."""
        return self._spec(template)

    def _spec(self, template: jinja2.Template) -> _Spec | None:
        found = self._specs.get(id(template))
        if found is None or found[0] is not template:
            found = self._specs[id(template)] = (template, _analyse(template))
        return found[1]


def _one(text: str) -> Iterator[str]:
    yield text


def _run(template: jinja2.Template, context: jinja2.runtime.Context,
         local: Mapping[str, Any]) -> Iterator[str]:
    return template.root_render_func(
        template.new_context(context.get_all(), True, dict(local)))


def fragment_key(template: jinja2.Template, spec: _Spec, context: jinja2.runtime.Context,
                 local: Mapping[str, Any]) -> tuple[tuple[Any, ...] | None, tuple[Any, ...]]:
    """The identity key of an include's inputs and the objects it names (None: none)."""
    parts: list[Any] = [id(template)]
    refs: list[Any] = [template]
    for name in spec.names:
        value = local.get(name, missing)
        if value is missing:
            value = context.resolve_or_missing(name)
        kind = type(value)
        if kind is dict or kind is list:  # the usual card's item, first (never callable)
            parts.append(id(value))
            refs.append(value)
        elif value is missing:
            parts.append(_MISSING)
        elif name in spec.called and callable(value):
            parts.append((_CALLED, id(getattr(value, "helper", value))))
            refs.append(getattr(value, "helper", value))
        elif type(value) in _SCALARS or type(value) is Markup:
            parts.append((type(value), value))
        elif type(value) is PageUrl:  # the page's URL, callable as the url() helper
            parts.append((PageUrl, str(value), id(value.helper)))
            refs.append(value.helper)
        else:
            return None, ()
    return tuple(parts), tuple(refs)


def _analyse(template: jinja2.Template) -> _Spec | None:
    """The template's free variables, or None when its output may depend on more."""
    env = template.environment
    if template.name is None or env.loader is None:
        return None
    source, _, _ = env.loader.get_source(env, template.name)
    ast = env.parse(source)
    if any(True for _ in ast.find_all((nodes.Extends, nodes.Block, nodes.Include))):
        return None
    for node in ast.find_all((nodes.Import, nodes.FromImport)):
        if getattr(node, "with_context", True):
            return None
    names = _free_names(ast, env)
    only_called = frozenset(name for name in names if _uses(ast, name) == _calls(ast, name))
    return _Spec(tuple(sorted(names)), only_called)


class _Tracker(CodeGenerator):
    """Every name the template resolves from its context: ``jinja2.meta`` leaves out the
    environment's globals, which a page context may shadow (``url`` is the page's URL)."""

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment, "<fragment>", "<fragment>")
        self.names: set[str] = set()

    def write(self, x: str) -> None:
        """Write nothing: only the names matter."""

    def enter_frame(self, frame: Frame) -> None:
        super().enter_frame(frame)
        self.names.update(param for action, param in frame.symbols.loads.values()
                          if action == "resolve")


def _free_names(ast: nodes.Template, env: jinja2.Environment) -> set[str]:
    tracker = _Tracker(env)
    tracker.visit(ast)
    return tracker.names


def _uses(ast: nodes.Template, name: str) -> int:
    return sum(1 for node in ast.find_all(nodes.Name) if node.name == name)


def _calls(ast: nodes.Template, name: str) -> int:
    return sum(1 for call in ast.find_all(nodes.Call)
               if isinstance(call.node, nodes.Name) and call.node.name == name)


class FragmentCodeGenerator(CodeGenerator):
    """Jinja2's code generator, with includes (with context) going through
    ``environment.fragments.render(template, context, locals)``, and loops whose body is
    literal text and one such include through ``environment.loop_splice``
    (``ssgen.render.loops``)."""

    _including = False

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        include = _spliceable(node)
        if include is None or frame.buffer is not None or self.environment.is_async \
                or not hasattr(self.environment, "loop_splice"):
            super().visit_For(node, frame)
            return
        loop_frame = frame.inner()
        loop_frame.loop_frame = True
        loop_frame.symbols.analyze_node(node, for_branch="body")
        body, local, flag = (self.temporary_identifier() for _ in range(3))
        target = loop_frame.symbols.ref(node.target.name)  # type: ignore[attr-defined]
        # The body as a generator of one item's events; the include's locals for an item.
        self.writeline(f"def {body}({target}):", node)
        self.indent()
        self.enter_frame(loop_frame)
        self.writeline("_loop_vars = {}")
        self.blockvisit(node.body, loop_frame)
        self.leave_frame(loop_frame, with_python_scope=True)
        self.outdent()
        self.writeline(f"def {local}({target}):")
        self.indent()
        self.writeline(f"return {self.dump_local_context(loop_frame)}")
        self.outdent()
        self.writeline(f"{flag} = 1")
        self.writeline("for event in environment.loop_splice(environment.fragments, context, ",
                       node)
        self.visit(node.iter, frame)
        self.write(f", {body}, {local}, {include!r}, {self.name!r}):")
        self.indent()
        self.simple_write("event", frame)
        self.writeline(f"{flag} = 0")
        self.outdent()
        if node.else_:
            else_frame = frame.inner()
            else_frame.symbols.analyze_node(node, for_branch="else")
            self.writeline(f"if {flag}:")
            self.indent()
            self.enter_frame(else_frame)
            self.blockvisit(node.else_, else_frame)
            self.leave_frame(else_frame)
            self.outdent()
        if self._assign_stack:
            self._assign_stack[-1].difference_update(loop_frame.symbols.stores)

    def visit_Include(self, node: nodes.Include, frame: Frame) -> None:
        self._including = node.with_context and not self.environment.is_async
        try:
            super().visit_Include(node, frame)
        finally:
            self._including = False

    def writeline(self, x: str, node: nodes.Node | None = None, extra: int = 0) -> None:
        prefix = "gen = template.root_render_func(template.new_context(context.get_all(), True, "
        if self._including and x.startswith(prefix):
            x = f"gen = environment.fragments.render(template, context, {x[len(prefix):-1]}"
        super().writeline(x, node, extra)


def _spliceable(node: nodes.For) -> str | None:
    """The included template's name when the loop is ``for <name> in <expr>`` (no filter,
    not recursive) over a body of literal text and one ``include "<name>"`` with context."""
    if node.recursive or node.test is not None or not isinstance(node.target, nodes.Name):
        return None
    includes = [child for child in node.body if isinstance(child, nodes.Include)]
    texts = [child for child in node.body if isinstance(child, nodes.Output)
             and all(isinstance(part, nodes.TemplateData) for part in child.nodes)]
    if len(includes) != 1 or len(includes) + len(texts) != len(node.body):
        return None
    include = includes[0]
    if not include.with_context or include.ignore_missing \
            or not isinstance(include.template, nodes.Const) \
            or not isinstance(include.template.value, str):
        return None
    return include.template.value

