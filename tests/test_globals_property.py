"""``[data]`` globals of generated queries, read by templates in generated ways:
incremental output equals a clean full build.

Each example gives the tags property's site (30 posts, four authors, one inactive) three
``[data]`` globals drawn from the query-shapes grammar (a list of posts filtered on their
own fields, a dereferenced author or a ``featured`` flag, ordered, sliced, projected
with dereferences and subqueries; a count; the first of a list; the authors with their
post counts) and has every template read one of them in one of the ways templates read
``data``: ``data.g``, ``data["g"]``, ``data.get("g")``, a ``{% set %}`` alias, a macro
given ``data``, an included partial, a macro imported with context, ``data.items()``, a
test of the page's own data against the global; directly or in the partial of a loop
(serve splices such loops per changed item). One ``each`` route takes its pages (and
its ``$slug``) from the first global's filter. Edits move documents in and out of the
globals (retitles, authors toggled and renamed, posts featured, retyped out of every
route and back, deleted, inserted). After each round, through a kept source (serve's
rounds, with or without a webhook naming the documents), a build from the files without memos, and the command line (``ssgen
build`` or ``ssgen revalidate --doc`` for the changed documents, resuming the snapshot
as a new process does), the output must equal a clean full build's, the globals a build
found changed must be those whose values changed, and the hashes it recorded those of
the values the files give (a lazily resumed snapshot's unfilled items hashed: caught).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from jinja2 import nodes
from sitekit import HOSTILE_TEXTS, PATH_SLUGS, mutant, without_dotdot_guards
from test_nested_delta_property import SETTINGS, Edit, Site, delete, insert, posts_at
from test_query_shapes_property import FILTERS, ORDERS, PROJECTIONS, SLICES
from test_tags_property import TOML, Cards, Killed, killing, more_edits, rename, retitle
from test_tags_property import run as run_site

from ssgen.build import plan as plan_module
from ssgen.build import record, scope
from ssgen.build.change import Change
from ssgen.build.collect import query_globals
from ssgen.build.docstate import DocState
from ssgen.build.pipeline import reach
from ssgen.config.load import load_config
from ssgen.manifest.store import Manifest
from ssgen.render.environment import analysis
from ssgen.render.environment import renderer as renderer_module
from ssgen.routes.spec import data_hash
from ssgen.sources.local import LocalSource

GLOBAL_FILTERS = [*FILTERS, " && featured == true"]
GLOBAL_KINDS = ["list", "count", "first", "authors"]
globals_ = st.tuples(st.sampled_from(GLOBAL_KINDS), st.sampled_from(GLOBAL_FILTERS),
                     st.sampled_from(ORDERS), st.sampled_from(SLICES),
                     st.sampled_from(PROJECTIONS))
Global = tuple[str, str, str, str, str]


def global_query(shape: Global) -> str:
    kind, where, order, part, fields = shape
    part = part if order else ""  # a slice of an unordered result has no one answer
    if kind == "count":
        return f'count(*[_type == "post"{where}])'
    if kind == "first":
        order = order or " | order(title asc, _id asc)"
        return f'*[_type == "post"{where}]{order}[0]{{{fields}}}'
    if kind == "authors":
        return ('*[_type == "author" && active == true] | order(name asc, _id asc){name, '
                f'"posts": count(*[_type == "post" && references(^._id){where}])}}')
    return f'*[_type == "post"{where}]{order}{part}{{{fields}}}'


# How a template reads global ``{i}``: the text, and the partials it needs.
READERS: dict[str, tuple[str, dict[str, str]]] = {
    "attribute": ("{{ data.g{i} | tojson }}", {}),
    "item": ('{{ data["g{i}"] | tojson }}', {}),
    "get": ('{{ data.get("g{i}") | tojson }}', {}),
    "alias": ("{% set d = data %}{{ d.g{i} | tojson }}", {}),
    "macro": ("{% macro m(x) %}{{ x.g{i} | tojson }}{% endmacro %}{{ m(data) }}", {}),
    "include": ('{% include "_g{i}.html" %}', {"_g{i}.html": "{{ data.g{i} | tojson }}"}),
    "import": ('{% import "_m{i}.html" as m with context %}{{ m.show() }}',
               {"_m{i}.html": "{% macro show() %}{{ data.g{i} | tojson }}{% endmacro %}"}),
    "items": ('{% for k, v in data.items() if k == "g{i}" %}{{ v | tojson }}{% endfor %}', {}),
    "page": ("{{ (page | tojson)[:24] in (data.g{i} | tojson) }}", {}),
}
# A loop whose body is one include: serve keeps its output per page and re-renders only
# the items that are new objects (render/loops.py).
LOOP = ('{% for post in (page.posts if page.posts is defined else '
        '([page] if page is mapping else page)) %}'
        '{% include "{name}" %}{% endfor %}')
LOOP_PARTIAL = "<{{ post.title }}|{reader}>"

TEMPLATES = ["card.html", "by.html", "home.html", "sorted.html", "feat.html", "doc.html"]
reads = st.tuples(st.sampled_from(list(READERS)), st.booleans(), st.integers(0, 2))
Read = tuple[str, bool, int]  # how, in a loop's partial or not, which global

FEAT_ROUTE = """
[[routes]]
name = "feat"
path = "/feat/{{slug}}/"
template = "feat.html"
each = '''*[_type == "post" && defined(slug.current){where}]{{"slug": slug.current}}'''
query = '''{feat}'''

[[routes]]
name = "doc"
path = "/d/{{slug}}/"
template = "doc.html"
query = '''*[_type == "post" && defined(slug.current)]{{title, featured, "slug": slug.current}}'''
"""

# The ``feat`` pages' own query: their post, or a document that is not their post (such a
# page's record holds no ``doc:`` tag of the post it exists for: a post retyped out of
# the ``each`` query reaches the route only by its old type, ``scope.document_change``).
FEAT_QUERIES = ['*[_type == "post" && slug.current == $slug][0]{title, featured}',
                '*[_type == "author" && active == true] | order(name asc, _id asc)[0]{"title": name}']


def reader(read: Read) -> tuple[str, dict[str, str]]:
    """The template text of ``read`` and the partials it includes or imports."""
    kind, looped, i = read
    text, partials = READERS[kind]
    text, partials = text.replace("{i}", str(i)), {name.replace("{i}", str(i)): body.replace(
        "{i}", str(i)) for name, body in partials.items()}
    if not looped:
        return text, partials
    name = f"_item{i}{kind}.html"
    return LOOP.replace("{name}", name), {**partials, name: LOOP_PARTIAL.replace(
        "{reader}", text)}


class Globals(Cards):
    """The tags property's site with ``[data]`` globals its templates read."""

    def __init__(self, shapes: list[Global], template_reads: list[Read],
                 feat: str = FEAT_QUERIES[0]) -> None:
        super().__init__()
        for n, doc in enumerate(self.docs.values()):
            if doc["_type"] == "post":
                doc["featured"] = n % 4 == 0
        data = "".join(f"g{i} = '''{global_query(shape)}'''\n" for i, shape in
                       enumerate(shapes))
        self.toml = (TOML + FEAT_ROUTE.format(where=shapes[0][1], feat=feat) + "\n[data]\n" + data)
        self.texts: dict[str, str] = {}
        for name, read in zip(TEMPLATES, template_reads, strict=True):
            text, partials = reader(read)
            self.texts[name] = "{{ page | tojson }}|" + text
            self.texts.update(partials)

    def write(self, site: Path) -> None:
        super().write(site)
        (site / "ssgen.toml").write_text(self.toml)
        for name, text in self.texts.items():
            (site / "templates" / name).write_text(text)


def feature(at: int) -> Edit:
    def apply(site: Site) -> str:
        posts = site.posts()
        if posts:
            doc = site.docs[posts[at % len(posts)]]
            doc["featured"] = not doc.get("featured")
        return "feature"
    return apply


def retype(at: int) -> Edit:
    """A post becomes an ``article`` (a type no route reads) or an article a post again."""
    def apply(site: Site) -> str:
        found = sorted(i for i, d in site.docs.items() if d["_type"] in ("post", "article"))
        if found:
            doc = site.docs[found[at % len(found)]]
            doc["_type"] = "article" if doc["_type"] == "post" else "post"
        return "retype"
    return apply


def reslug(at: int, slug: str) -> Edit:
    """A post's slug made ``<slug>-<id>`` (one of ``PATH_SLUGS``)."""
    def apply(site: Site) -> str:
        posts = site.posts()
        if posts:
            ident = posts[at % len(posts)]
            site.docs[ident]["slug"] = {"_type": "slug", "current": f"{slug}-{ident}"}
        return "reslug"
    return apply


global_edits = st.one_of(more_edits, st.builds(feature, posts_at), st.builds(retype, posts_at),
                         st.builds(retitle, posts_at, st.sampled_from(HOSTILE_TEXTS)),
                         st.builds(reslug, posts_at, st.sampled_from(PATH_SLUGS)))
MODES = ["kept", "webhook", "new", "build", "revalidate"]


def run(shapes: list[Global], template_reads: list[Read], steps: list[Edit],
        mode: str, feat: str = FEAT_QUERIES[0]) -> None:
    site = Globals(shapes, template_reads, feat)
    command = None if mode in ("kept", "new") else mode
    # The globals each build found changed (``reach.changed_globals``), against those whose
    # values changed: a new process that resumed the snapshot lazily must fill what it
    # hashes (its unfilled items hash as empty objects: every page of the global again).
    wrong: list[tuple[frozenset[str], frozenset[str]]] = []

    def exact(manifest: Manifest, hashes: dict[str, str]) -> frozenset[str]:
        found = real_changed_globals(manifest, hashes)
        truth = real_changed_globals(manifest, loaded_hashes(manifest.path.parent.parent))
        if found != truth:
            wrong.append((found, truth))
        return found

    def check(folder: Path) -> None:
        assert not wrong, f"globals found changed, and changed: {wrong}"
        recorded_as_loaded(folder)

    real_changed_globals = reach.changed_globals
    with mutant(reach, "changed_globals", exact):
        run_site(steps, kept=mode in ("kept", "webhook"), site=site, command=command,
                 check=check)


def loaded_hashes(folder: Path) -> dict[str, str]:
    """The hashes of the globals' values as the site's files give them now."""
    config = load_config(folder)
    values = query_globals(config, LocalSource(config), datetime.now(UTC))
    return {name: data_hash(value) for name, value in values.items()}


def recorded_as_loaded(folder: Path) -> None:
    """The globals' hashes the last build recorded are those of their values as the files
    give them."""
    config = load_config(folder)
    with Manifest.open(config.state_dir / "manifest.sqlite") as manifest:
        assert manifest.globals() == loaded_hashes(folder)


# A count of the featured posts, read by every template through ``data.get``: a post
# featured changes no page's own data, only the global.
FEATURED: list[Global] = [("count", " && featured == true", "", "", "title")] * 3
# The first post by title, which a post retyped out of the routes (not the first) leaves
# as it was: the ``feat`` pages that read it are not reached through it.
FIRST: list[Global] = [("first", "", " | order(title asc, _id asc)", "", "title")] * 3


@SETTINGS
@given(shapes=st.lists(globals_, min_size=3, max_size=3),
       template_reads=st.lists(reads, min_size=len(TEMPLATES), max_size=len(TEMPLATES)),
       mode=st.sampled_from(MODES),
       steps=st.lists(killing(global_edits), min_size=1, max_size=4),
       feat=st.sampled_from(FEAT_QUERIES))
@example(shapes=FEATURED, template_reads=[("get", False, 0)] * 6, mode="kept",
         steps=[feature(0)], feat=FEAT_QUERIES[0])
@example(shapes=FEATURED, template_reads=[("get", True, 0)] * 6, mode="kept",
         steps=[feature(0)], feat=FEAT_QUERIES[0])
@example(shapes=FEATURED, template_reads=[("attribute", True, 0)] * 6, mode="revalidate",
         steps=[feature(0)], feat=FEAT_QUERIES[0])
# A post retyped out of the ``feat`` pages' ``each`` query, whose own query reads an
# author: its page stayed (only the old type reaches the route, round 24).
@example(shapes=FIRST, template_reads=[("get", False, 0)] * 6, mode="kept",
         steps=[retype(1)], feat=FEAT_QUERIES[1])
# A round killed after its extras (before it recorded the inputs' digest) adds a post;
# the post deleted: the inputs are those of the last complete build again, and the
# digest it recorded vouched for the killed round's records (round 24).
@example(shapes=FEATURED, template_reads=[("attribute", False, 0)] * 6, mode="new",
         steps=[Killed(insert("a1", ["c1"], "2023-05-01"), ("fault", "at:after-extras")),
                delete(0)], feat=FEAT_QUERIES[0])
def test_generated_globals_equal_full_build(shapes: list[Global], template_reads: list[Read],
                                            mode: str, steps: list[Edit], feat: str) -> None:
    run(shapes, template_reads, [*steps, rename("a3", "Last"), retitle(5, "Last")], mode, feat)


def attributes_only(ast: nodes.Template, variable: str) -> set[str]:
    """A mutant of ``variable_fields``: every constant ``data.x``/``data["x"]`` counted
    as a global read, ``data.get("x")``, aliases and macro arguments overlooked."""
    return {field for node in ast.find_all((nodes.Getattr, nodes.Getitem))
            if isinstance(node.node, nodes.Name) and node.node.name == variable
            and (field := analysis._constant_field(node)) is not None}


@pytest.mark.parametrize("mode", MODES)
def test_mutant_a_global_read_through_a_call_overlooked_is_caught(
        monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setattr(renderer_module, "variable_fields", attributes_only)
    with pytest.raises(AssertionError):
        run(FEATURED, [("get", False, 0)] * 6, [feature(0)], mode)


@pytest.mark.parametrize("mode", MODES)
def test_mutant_pages_of_a_changed_global_kept_is_caught(
        monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setattr(plan_module, "_uses_changed_global", lambda *args: False)
    with pytest.raises(AssertionError):
        run(FEATURED, [("attribute", True, 0)] * 6, [feature(0)], mode)


def _no_old_type(before: DocState, after: DocState) -> Change:
    return Change(documents=scope.diff_documents(before, after))


@pytest.mark.parametrize(("target", "name", "replacement"), [
    (reach, "document_change", _no_old_type),  # a retyped document's old type dropped
    (scope, "changed_types", lambda change: {doc.type for doc in change.documents}),
])
@pytest.mark.parametrize("mode", ["kept", "revalidate"])
def test_mutant_a_post_retyped_out_of_an_each_route_keeps_its_page_is_caught(
        target: object, name: str, replacement: object, mode: str) -> None:
    with mutant(target, name, replacement), pytest.raises(AssertionError):
        run(FIRST, [("get", False, 0)] * 6, [retype(1)], mode, FEAT_QUERIES[1])


@pytest.mark.parametrize("mode", ["kept", "new", "build"])
def test_mutant_a_killed_round_s_records_under_the_last_inputs_digest_is_caught(
        mode: str) -> None:
    """The inputs' digest not forgotten when a build changes the records: after a round
    killed before its end and the inputs put back, the next build finds nothing to do."""
    steps = [Killed(insert("a1", ["c1"], "2023-05-01"), ("fault", "at:after-extras")),
             delete(0)]
    with mutant(record, "forget_inputs", lambda manifest: None), \
            pytest.raises(AssertionError):
        run(FEATURED, [("attribute", False, 0)] * 6, steps, mode)


@pytest.mark.parametrize("mode", ["kept", "build"])
def test_mutant_pages_written_outside_the_output_folder_are_caught(
        monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """Every guard of a page's file against ``..`` gone (the URL path's check, the output
    path's, the real path's): a post's page written beside the site."""
    without_dotdot_guards(monkeypatch)
    with pytest.raises(AssertionError, match=r"site/x-p00/index\.html"):
        run(FEATURED, [("attribute", False, 0)] * 6, [reslug(0, "../../x")], mode)
