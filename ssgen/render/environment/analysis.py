"""What a template's source says about it, read from Jinja2's AST.

Owns the templates a template names (`named_templates`: extends, includes, imports, and
the Portable Text macros its filter uses), the context variables it reads
(`variables_read`) and the fields of one variable it reads (`variable_fields`, for
``data.<global>``). Pure: sources in, sets out.
"""

from __future__ import annotations

import jinja2
from jinja2 import meta, nodes

from ssgen.render.filters import PT_TEMPLATE


def named_templates(env: jinja2.Environment, source: str,
                    name: str) -> frozenset[str] | None:
    """Templates named in ``source``; None when a name is dynamic.

    Raises ``jinja2.TemplateSyntaxError`` for a source that does not parse.
    """
    ast = env.parse(source, name)
    refs = list(meta.find_referenced_templates(ast))
    if any(f.name == "portable_text" for f in ast.find_all(nodes.Filter)):
        refs.append(PT_TEMPLATE)  # its macros render custom types and marks
    return None if None in refs else frozenset(r for r in refs if r is not None)


def variables_read(env: jinja2.Environment, source: str, name: str) -> frozenset[str] | None:
    """The context variables a template reads; None when it cannot tell (a syntax
    error, an unknown filter: reported when the page renders)."""
    try:  # this compiles the template, which checks its filters and tests exist
        return frozenset(meta.find_undeclared_variables(env.parse(source, name)))
    except jinja2.TemplateError:
        return None


def variable_fields(ast: nodes.Template, variable: str) -> set[str] | None:
    """Fields of ``variable`` read as ``variable.x`` / ``variable["x"]``; None if used otherwise."""
    fields: set[str] = set()
    covered: set[int] = set()
    called = {id(call.node) for call in ast.find_all(nodes.Call)}
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, (nodes.Getattr, nodes.Getitem))
        target = node.node
        if not isinstance(target, nodes.Name) or target.name != variable:
            continue
        field = _constant_field(node)
        if field is None or id(node) in called:  # data[key], data.items(): any global
            return None
        fields.add(field)
        covered.add(id(target))
    for name in ast.find_all(nodes.Name):
        if name.name == variable and id(name) not in covered:
            return None
    return fields


def _constant_field(node: nodes.Getattr | nodes.Getitem) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None
