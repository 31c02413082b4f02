"""A generator of Markdown documents for comparing renderers: nested inline constructs
(emphasis, code, links, images, escapes, entities, autolinks, breaks) inside nested blocks
(lists, quotes, fences, indented code, headings, tables, reference definitions, HTML)."""

from __future__ import annotations

import random

WORDS = [
    "lorem", "ipsum", "dolor", "a", "b", "x.y", "é", "ß", "1", "2024", "foo_bar", "C#",
    "e.g.", "it's", '"q"', "50%", "a/b", "a-b", "€", "ǅ",
]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
ENTITIES = ["&amp;", "&copy;", "&#35;", "&#x41;", "&nbsp;", "&bogus;", "&copy", "&#0;", "&lt;"]
DESTINATIONS = ["/u", "<a b>", '/u "t"', "http://x.y/ä?q=1&r=2", "/u 't'", "", "#f"]
STRAYS = ["*", "_", "**", "`", "[", "]", "![", "~~", "<", ">", "^[", "[^"]
HTML = ["<http://x.y/z>", "<a@b.c>", "<b>", "<!-- c -->", "</i>"]


def inline(rng: random.Random, depth: int = 2) -> str:
    """A run of inline content, with nested spans down to ``depth``."""
    out = []
    for _ in range(rng.randint(1, 6)):
        k = rng.random()
        if k < 0.35:
            out.append(rng.choice(WORDS))
        elif k < 0.45:
            out.append(" ")
        elif k < 0.5:
            out.append(rng.choice(PUNCT))
        elif k < 0.55:
            out.append("\\" + rng.choice([*PUNCT, "a", "\n"]))
        elif k < 0.6:
            out.append(rng.choice(ENTITIES))
        elif k < 0.65:
            ticks = rng.choice(["`", "``"])
            out.append(ticks + rng.choice([" a ", "a`b", "a", " `` ", "a\nb"]) + ticks)
        elif depth and k < 0.72:
            mark = rng.choice(["*", "_", "**", "__", "~~", "***"])
            out.append(mark + inline(rng, depth - 1) + mark)
        elif depth and k < 0.78:
            out.append(f"[{inline(rng, depth - 1)}]({rng.choice(DESTINATIONS)})")
        elif depth and k < 0.84:
            out.append(f"![{inline(rng, depth - 1)}]({rng.choice(DESTINATIONS)})")
        elif depth and k < 0.87:
            out.append(f"[{inline(rng, depth - 1)}][{rng.choice(['r', 'R', '', 'x'])}]")
        elif k < 0.9:
            out.append(rng.choice(HTML))
        elif k < 0.94:
            out.append(rng.choice(["  \n", "\\\n", "\n", " \n"]))
        else:
            out.append(rng.choice(STRAYS))
    return "".join(out)


def block(rng: random.Random, depth: int = 2) -> str:
    """One block, with nested blocks in list items and quotes down to ``depth``."""
    k = rng.random()
    if k < 0.4:
        return inline(rng)
    if k < 0.5 and depth:
        return _list(rng, depth)
    if k < 0.55:
        return "    " + inline(rng).replace("\n", "\n    ")
    if k < 0.62:
        fence = rng.choice(["```", "~~~", "````"])
        info = rng.choice(["", "py", "text", " js x"])
        return f"{fence}{info}\n{inline(rng)}\n{rng.choice([fence, '', fence + '`'])}"
    if k < 0.66:
        return rng.choice(["***", "---", "___", "- - -"])
    if k < 0.72:
        return rng.choice(["#", "##", "###", "#######"]) + " " + _one_line(rng)
    if k < 0.75:
        return _one_line(rng) + "\n" + rng.choice(["===", "---", "-"])
    if k < 0.82 and depth:
        return "> " + block(rng, depth - 1).replace("\n", rng.choice(["\n> ", "\n"]))
    if k < 0.88:
        delimiter = rng.choice(["|---|---|", "|:-|-:|", "|--|"])
        return f"| a | {_one_line(rng)} |\n{delimiter}\n| {_one_line(rng)} | c |"
    if k < 0.93:
        return f"[{rng.choice('rRx')}]: " + rng.choice(["/ref", "<a b>", '/ref "t"', "/ref\n  'ti\ntle'"])
    return rng.choice(["<div>", "<!-- x -->", "<b>x</b>"]) + "\n" + inline(rng)


def _one_line(rng: random.Random) -> str:
    return inline(rng, 1).replace("\n", " ")


def _list(rng: random.Random, depth: int) -> str:
    marker = rng.choice(["-", "*", "+", "1.", "2)", "1)"])
    pad = " " * (len(marker) + 1)
    items = []
    for _ in range(rng.randint(1, 3)):
        body = block(rng, depth - 1)
        if rng.random() < 0.3:
            body += "\n\n" + block(rng, depth - 1)
        elif rng.random() < 0.3:
            body += "\n" + block(rng, depth - 1)
        items.append(f"{marker} " + body.replace("\n", "\n" + pad))
    return rng.choice(["\n", "\n\n"]).join(items)


def document(rng: random.Random) -> str:
    """One to five blocks, separated by one to three newlines."""
    blocks = [block(rng) for _ in range(rng.randint(1, 5))]
    return rng.choice(["\n\n", "\n", "\n\n\n"]).join(blocks) + rng.choice(["\n", "", "\n\n"])
