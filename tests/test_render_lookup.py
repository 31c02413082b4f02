"""``SiteEnvironment.getattr`` gives what Jinja's own ``Environment.getattr`` gives."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.render.lookup import SiteEnvironment

# Names a template might read: dict's own methods among them, so that ``post.items``
# keeps meaning the method, as in Jinja, even when the document has an "items" key.
NAMES = st.sampled_from(["title", "slug", "items", "keys", "get", "values", "copy",
                         "missing", "__class__", "__len__", "name", "_id"])
VALUES = st.one_of(st.integers(), st.text(max_size=5), st.none(), st.booleans())


def _outcome(env_class: type[jinja2.Environment], source: str, doc: Any) -> str:
    env = env_class(autoescape=True, undefined=jinja2.StrictUndefined)
    try:
        return "ok:" + env.from_string(source).render(doc=doc)
    except jinja2.UndefinedError as exc:
        return f"undefined:{exc}"


@settings(max_examples=300, deadline=None)
@given(keys=st.dictionaries(NAMES, VALUES, max_size=6), name=NAMES,
       kind=st.sampled_from(["dict", "ordered", "list", "str", "none"]),
       default=st.booleans())
def test_lookups_equal_jinjas(keys: dict[str, Any], name: str, kind: str, default: bool) -> None:
    doc: Any = {"dict": keys, "ordered": OrderedDict(keys), "list": list(keys),
                "str": "text", "none": None}[kind]
    source = ("{{ doc.%s | default('-') }}" if default else "{{ doc.%s }}") % name
    assert _outcome(SiteEnvironment, source, doc) == _outcome(jinja2.Environment, source, doc)


def test_a_plain_dicts_key_is_read_and_its_methods_stay_methods() -> None:
    env = SiteEnvironment(undefined=jinja2.StrictUndefined)
    doc = {"title": "T", "items": "shadowed"}
    assert env.from_string("{{ doc.title }}").render(doc=doc) == "T"
    assert env.from_string("{{ doc.items()|list|length }}").render(doc=doc) == "2"
    with pytest.raises(jinja2.UndefinedError, match="has no attribute 'nope'"):
        env.from_string("{{ doc.nope }}").render(doc=doc)


def test_the_renderer_runs_on_it(tmp_path: Any) -> None:
    from ssgen.render.environment import _make_environment

    (tmp_path / "t.html").write_text("x")
    assert isinstance(_make_environment(tmp_path, False, None), SiteEnvironment)
