"""Kept ``{% for x in list %}{% include %}{% endfor %}`` outputs, spliced per item (serve).

An author page lists 4,000 post cards through one such loop. With every card already in
``FragmentCache`` a render still paid Jinja's loop, the include's key and a generator per
card, then joined 4,000 strings: ~O(posts) per webhook for one edited card. The code
generator (``FragmentCodeGenerator.visit_For``) compiles a loop whose body is only
literal text and one ``{% include %}`` with context as a call of ``splice`` with the
body as a function of the item. ``splice`` keeps, per loop and per key of everything
else the include reads, the last runs: the items (strong references), the output and
each item's end offset in it. The next run over a list whose items are mostly the very
same objects (a maintained query keeps unchanged items) finds the common prefix and
suffix by identity, renders only the items between them, and slices the rest from the
kept output.

Sound for the reasons ``FragmentCache`` is: route data is never mutated once a query
returned it; an item's output is a function of the item, the body's text (the body
function's code object, kept: a recompiled template has a new one), the included
template object and the other names it reads (``rest``: the fragment key with the item
left out, compared by identity or value as there); the loop body assigns nothing, so
those names hold the same values for every item. A value the fragment key cannot take
(``_key`` gives None), a list that is not a ``list``, or a cache that is off (a full
build's workers) runs the loop as Jinja would. Image variants are replayed as a hit's are.

A run keeps its output as UTF-8 bytes. ``render_bytes`` (how serve's pages are rendered)
puts them in the page's bytes as they are: encoding a 9 MB category page again on every
render cost more than the rest of its render, and the text form took twice the memory.
A spliced loop hands ``render_bytes`` an ``Encoded`` marker, an empty string carrying the
bytes; only the events that reach ``render_bytes`` unjoined are replaced, and a page in
which some marker was joined on the way (``{{ self.block() }}``) is rendered again as text.
"""

from __future__ import annotations

import operator
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from itertools import compress, count
from typing import Any

import jinja2
from jinja2.runtime import Context, new_context

from ssgen.fastclass import dataclass
from ssgen.render.fragments import FragmentCache, fragment_key
from ssgen.render.images.variants import capture, replay

Body = Callable[[Any], Iterable[str]]
_HOLE: dict[str, Any] = {}  # stands for the item in the key of the rest
_RUNS_PER_KEY = 64  # pages that share one loop and key (authors, categories)


class Encoded(str):
    """A spliced loop's output in a ``render_bytes`` render: the empty string to any code
    that joins it, carrying the UTF-8 bytes ``render_bytes`` puts in its place."""

    data: bytes


# The render_bytes in progress: its root context (loops of other contexts, in includes
# or imports, give text) and the markers handed out, in order.
_ENCODING: ContextVar[tuple[Any, list[Encoded]] | None] = ContextVar("ssgen_loop_bytes",
                                                                     default=None)


@dataclass(slots=True)
class _Run:
    """One loop's last output over ``items``, as UTF-8 bytes: ``ends[i]`` is the byte
    offset where item ``i``'s ends."""

    items: list[Any]
    data: bytes
    ends: list[int]
    images: list[frozenset[str]]
    used: frozenset[str]
    refs: tuple[Any, ...]  # keeps every id in the run's key alive


def splice(cache: FragmentCache, context: jinja2.runtime.Context, items: Any, body: Body,
           local: Callable[[Any], Mapping[str, Any]], include: str,
           includer: str | None) -> Iterator[str]:
    """The loop's output events: one string per run, at least one when ``items`` is not
    empty (the caller's ``else`` branch counts them)."""
    if not cache.enabled or type(items) is not list:
        return _plain(items, body)
    template = context.environment.get_template(include, includer)
    spec = cache.spec_of(template)
    if spec is None:
        return _plain(items, body)
    rest, refs = fragment_key(template, spec, context, local(_HOLE))
    if rest is None:
        return _plain(items, body)
    runs = cache.runs.setdefault((body.__code__, rest), [])
    return _spliced(runs, items, body, (body.__code__, *refs), context)


def _plain(items: Iterable[Any], body: Body) -> Iterator[str]:
    for item in items:
        yield ""  # the item counts as iterated even if its body writes nothing
        yield from body(item)


def _spliced(runs: list[_Run], items: list[Any], body: Body, refs: tuple[Any, ...],
             context: jinja2.runtime.Context) -> Iterator[str]:
    if not items:
        return
    last = _closest(runs, items)
    run = _render(items, body, refs, last)
    if last is not None:
        runs.remove(last)
    elif len(runs) >= _RUNS_PER_KEY:
        del runs[0]
    runs.append(run)
    replay(run.used)
    mode = _ENCODING.get()
    if mode is None or mode[0] is not context:
        yield run.data.decode()
        return
    marker = Encoded()
    marker.data = run.data
    mode[1].append(marker)
    yield marker


def _closest(runs: list[_Run], items: list[Any]) -> _Run | None:
    """The kept run sharing the longest identical prefix plus suffix with ``items``, if
    that is most of both: a run that is another page's (two category pages that start
    with the same post) is left to that page."""
    best, most = None, 0
    for run in runs:
        if run.items[0] is items[0] or run.items[-1] is items[-1]:
            head, tail = _common(run.items, items)
            if head + tail > most and 2 * (head + tail) >= max(len(items), len(run.items)):
                best, most = run, head + tail
    return best


def _common(old: list[Any], new: list[Any]) -> tuple[int, int]:
    """Lengths of the common prefix and suffix by identity (not overlapping)."""
    shortest = min(len(old), len(new))
    head = next(compress(count(), map(operator.is_not, new, old)), shortest)
    most = shortest - head
    tail = next(compress(count(), map(operator.is_not, reversed(new), reversed(old))), most)
    return head, min(tail, most)


def _render(items: list[Any], body: Body, refs: tuple[Any, ...], last: _Run | None) -> _Run:
    head, tail = (0, 0) if last is None else _common(last.items, items)
    middle, images = [], []
    for item in items[head:len(items) - tail]:
        with capture() as used:
            middle.append("".join(body(item)).encode())
        images.append(frozenset(used))
    if last is None:
        return _Run(list(items), b"".join(middle), _ends(0, middle), images,
                    frozenset().union(*images), refs)
    start = last.ends[head - 1] if head else 0
    old_tail = len(last.items) - tail
    stop = last.ends[old_tail - 1] if old_tail else 0
    view = memoryview(last.data)  # sliced without copying: joined once
    data = b"".join((view[:start], *middle, view[stop:]))
    shift = len(data) - len(last.data)
    ends = last.ends[:head] + _ends(start, middle) + [end + shift for end in last.ends[old_tail:]]
    kept = last.images[:head] + images + last.images[old_tail:]
    # The union of thousands of cards' variants, taken again only when a replaced card
    # used one that the new cards do not (it may have been the last use of it).
    fresh = frozenset().union(*images)
    variants = last.used | fresh if frozenset().union(*last.images[head:old_tail]) <= fresh \
        else frozenset().union(*kept)
    return _Run(list(items), data, ends, kept, variants, refs)


def _new_context(template: jinja2.Template, variables: Mapping[str, Any]) -> Context:
    """``template.new_context(dict(variables))``: the same parent (the template's globals
    under the variables) and globals' keys, from the globals flattened once here. Jinja
    walks their ``ChainMap`` twice in Python a page (``dict(globals, **vars)``, then
    ``set(globals)``): ~11 us against ~3.5, 16,000 pages a full build."""
    found = template.globals
    flat: dict[str, Any] = {}
    if type(found) is ChainMap:
        for layer in reversed(found.maps):
            flat.update(layer)
    else:
        flat.update(found)
    return new_context(template.environment, template.name, template.blocks,
                       {**flat, **variables}, True, flat)


def _ends(start: int, texts: list[bytes]) -> list[int]:
    ends, at = [], start
    for text in texts:
        at += len(text)
        ends.append(at)
    return ends


def render_bytes(template: jinja2.Template, variables: Mapping[str, Any]) -> bytes:
    """``template.render(variables).encode()``, with the spliced loops' kept bytes put
    in place as they are (not decoded and encoded again)."""
    context = _new_context(template, variables)
    made: list[Encoded] = []
    token = _ENCODING.set((context, made))
    try:
        events = list(template.root_render_func(context))
    except Exception:
        template.environment.handle_exception()  # template lines, as ``render`` gives
    finally:
        _ENCODING.reset(token)
    if not made:
        return "".join(events).encode()
    seen = [event for event in events if type(event) is Encoded]
    if len(seen) != len(made) or any(map(operator.is_not, seen, made)):
        return template.render(variables).encode()  # a marker was joined on the way
    parts: list[bytes] = []
    text: list[str] = []
    for event in events:
        if type(event) is Encoded:
            parts += ("".join(text).encode(), event.data)
            text.clear()
        else:
            text.append(event)
    parts.append("".join(text).encode())
    return b"".join(parts)


__all__ = ["Encoded", "render_bytes", "splice"]
