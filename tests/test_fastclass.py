"""ssgen.fastclass.dataclass makes the classes dataclasses.dataclass makes: generated
classes of every field option, frozen or not, slotted or not, compared on what a caller
can see (signature, repr, ==, hash, frozen errors, pickling, fields, replace, asdict)."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import textwrap
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ssgen.fastclass
from ssgen import fastclass
from ssgen.groq import nodes
from ssgen.routes.page import PageSpec

NAMES = ["a", "b", "c", "d", "e"]
VALUES = st.one_of(st.none(), st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=3),
                   st.tuples(st.integers(0, 2)))


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    """A class: its options and fields (name, default kind, init, repr, compare, hash)."""
    count = draw(st.integers(0, 4))
    fields = []
    defaulted = False
    for name in NAMES[:count]:
        kind = draw(st.sampled_from(["none", "value", "factory"]))
        init = draw(st.booleans())
        if init and defaulted and kind == "none":
            kind = "value"  # a field without a default may not follow one with a default
        if not init and kind == "none" and draw(st.booleans()):
            kind = "value"
        defaulted = defaulted or (init and kind != "none")
        fields.append({"name": name, "kind": kind, "init": init, "repr": draw(st.booleans()),
                       "compare": draw(st.booleans()),
                       "hash": draw(st.sampled_from([None, True, False]))})
    return {"frozen": draw(st.booleans()), "slots": draw(st.booleans()), "fields": fields,
            "post_init": draw(st.booleans()), "own_eq": draw(st.booleans())}


def make(spec: dict[str, Any], decorator: Any) -> type:
    """The class ``spec`` describes, made by ``decorator`` (source text, as a module has it)."""
    lines = [f"@decorator(frozen={spec['frozen']}, slots={spec['slots']})", "class Made:",
             '    """A generated class."""']
    for f in spec["fields"]:
        default = {"none": "", "value": "default=7, ", "factory": "default_factory=list, "}
        lines.append(f"    {f['name']}: Any = field({default[f['kind']]}init={f['init']}, "
                     f"repr={f['repr']}, compare={f['compare']}, hash={f['hash']})")
    if spec["post_init"]:
        lines += ["    def __post_init__(self):", "        object.__setattr__(self, 'seen', 1)"
                  if not spec["slots"] else "        pass"]
    if spec["own_eq"]:
        lines += ["    def __eq__(self, other):", "        return other is self"]
    scope: dict[str, Any] = {"decorator": decorator, "field": dataclasses.field, "Any": Any,
                             "__name__": __name__}
    exec(textwrap.dedent("\n".join(lines)), scope)
    made: type = scope["Made"]
    return made


def arguments(spec: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    return {f["name"]: value for f, value in zip(spec["fields"], values, strict=False)
            if f["init"]}


def outcome(call: Any) -> tuple[str, Any]:
    try:
        return ("ok", call())
    except Exception as exc:  # the kind and message are what is compared
        return (type(exc).__name__, str(exc))


def seen(cls: type, values: list[Any], others: list[Any], spec: dict[str, Any]) -> list[Any]:
    """What a caller can observe of ``cls`` and two of its objects."""
    one, two = cls(**arguments(spec, values)), cls(**arguments(spec, others))
    fields = [(f.name, f.init, f.repr, f.compare, f.hash) for f in dataclasses.fields(cls)]
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    return [
        str(inspect.signature(cls)), cls.__doc__, fields, cls.__match_args__,
        params.frozen, params.order, dataclasses.is_dataclass(cls),
        "__slots__" in cls.__dict__, "__weakref__" in dir(cls),
        *(outcome(call) for call in (
            lambda: repr(one), lambda: one == two, lambda: one == one, lambda: one != two,
            lambda: one == object(), lambda: hash(one) == hash(two), lambda: hash(one),
            lambda: setattr(one, "a", 1), lambda: delattr(one, "a"),
            lambda: setattr(one, "zz", 1), lambda: repr(pickle.loads(pickle.dumps(two))),
            lambda: repr(dataclasses.replace(two)), lambda: dataclasses.asdict(one),
        )),
    ]


@settings(max_examples=400, deadline=None)
@given(specs(), st.lists(VALUES, min_size=5, max_size=5), st.lists(VALUES, min_size=5,
                                                                    max_size=5))
def test_fast_classes_behave_as_the_standard_librarys(spec: dict[str, Any], values: list[Any],
                                                      others: list[Any]) -> None:
    standard = make(spec, dataclasses.dataclass)
    fast = make(spec, ssgen.fastclass.dataclass)
    assert seen(fast, values, others, spec) == seen(standard, values, others, spec)


def test_the_fast_path_is_the_one_taken_on_this_python() -> None:
    """The comparison above is of the closures, not of dataclasses against itself."""
    made = make({"frozen": True, "slots": True, "fields": [], "post_init": False,
                 "own_eq": False}, ssgen.fastclass.dataclass)
    assert fastclass._NATIVE or made.__eq__.__module__ == "ssgen.fastclass"
    assert nodes.Value.__hash__.__module__ == "ssgen.fastclass" or fastclass._NATIVE


def test_recursive_repr_and_nan_equality_as_the_standard_library() -> None:
    spec = {"frozen": False, "slots": False, "post_init": False, "own_eq": False,
            "fields": [{"name": "a", "kind": "none", "init": True, "repr": True,
                        "compare": True, "hash": None}]}
    standard, fast = make(spec, dataclasses.dataclass), make(spec, ssgen.fastclass.dataclass)
    loops = []
    for cls in (standard, fast):
        item = cls(a=[])
        item.a.append(item)
        nan = float("nan")
        loops.append((repr(item).replace("standard", ""), cls(a=nan) == cls(a=nan)))
    assert loops[0] == loops[1]
    assert loops[0][1] is True  # the same NaN object: equal, as in a tuple


def test_the_project_classes_keep_their_behaviour() -> None:
    spec = PageSpec(path="/a/", route="r", template="t.html", context={"x": [1]}, tags=frozenset())
    assert dataclasses.replace(spec, path="/b/").path == "/b/"
    assert hash(spec) == hash(dataclasses.replace(spec, context={}))  # context: hash=False
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.path = "/c/"  # type: ignore[misc]
    node = nodes.AccessAttribute(None, "title")
    assert pickle.loads(pickle.dumps(node)) == node
    assert repr(node) == "AccessAttribute(base=None, name='title')"


class _Slotted:
    """A plain base whose ``a`` is a slot: a data descriptor the subclass's field hits."""

    __slots__ = ("a",)


def test_a_frozen_field_behind_a_data_descriptor_is_set_through_it() -> None:
    """A frozen class's fields go straight into its ``__dict__`` unless a data descriptor
    of the class has the field's name; that one must see the write, as in the standard
    library (else the slot stays empty and reading the field fails)."""
    made = []
    for decorator in (dataclasses.dataclass, ssgen.fastclass.dataclass):
        @decorator(frozen=True)
        class Made(_Slotted):
            """A frozen class over a slotted base."""

            a: int
            b: int = 2

        item = Made(1)
        made.append((item.a, item.b, sorted(vars(item)), repr(item)))
    assert made[0] == made[1] == (1, 2, ["b"], made[0][3])
