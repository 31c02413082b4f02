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
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import compress, count
from typing import Any

import jinja2

from ssgen.render.fragments import FragmentCache, fragment_key
from ssgen.render.images.variants import capture, replay

Body = Callable[[Any], Iterable[str]]
_HOLE: dict[str, Any] = {}  # stands for the item in the key of the rest
_RUNS_PER_KEY = 64  # pages that share one loop and key (authors, categories)


@dataclass(slots=True)
class _Run:
    """One loop's last output over ``items``: ``ends[i]`` is where item ``i``'s ends."""

    items: list[Any]
    text: str
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
    return _spliced(runs, items, body, (body.__code__, *refs))


def _plain(items: Iterable[Any], body: Body) -> Iterator[str]:
    for item in items:
        yield ""  # the item counts as iterated even if its body writes nothing
        yield from body(item)


def _spliced(runs: list[_Run], items: list[Any], body: Body,
             refs: tuple[Any, ...]) -> Iterator[str]:
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
    yield run.text


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
            middle.append("".join(body(item)))
        images.append(frozenset(used))
    if last is None:
        return _Run(list(items), "".join(middle), _ends(0, middle), images,
                    frozenset().union(*images), refs)
    start = last.ends[head - 1] if head else 0
    old_tail = len(last.items) - tail
    stop = last.ends[old_tail - 1] if old_tail else 0
    text = "".join((last.text[:start], *middle, last.text[stop:]))
    shift = len(text) - len(last.text)
    ends = last.ends[:head] + _ends(start, middle) + [end + shift for end in last.ends[old_tail:]]
    kept = last.images[:head] + images + last.images[old_tail:]
    return _Run(list(items), text, ends, kept, frozenset().union(*kept), refs)


def _ends(start: int, texts: list[str]) -> list[int]:
    ends, at = [], start
    for text in texts:
        at += len(text)
        ends.append(at)
    return ends


__all__ = ["splice"]
