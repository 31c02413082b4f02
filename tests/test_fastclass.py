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
        kind = draw(st.sampled_from(["none", "value", "factory", "plain", "bare"]))
        init = draw(st.booleans()) if kind not in ("plain", "bare") else True
        if kind == "bare" and defaulted:
            kind = "plain"
        if init and defaulted and kind == "none":
            kind = "value"  # a field without a default may not follow one with a default
        if not init and kind == "none" and draw(st.booleans()):
            kind = "value"
        defaulted = defaulted or (init and kind != "none")
        fields.append({"name": name, "kind": kind, "init": init, "repr": draw(st.booleans()),
                       "compare": draw(st.booleans()),
                       "hash": draw(st.sampled_from([None, True, False]))})
    return {"frozen": draw(st.booleans()), "slots": draw(st.booleans()), "fields": fields,
            "post_init": draw(st.booleans()), "own_eq": draw(st.booleans()),
            "strings": draw(st.booleans()), "mutable": draw(st.integers(0, 9)) == 0}


def make(spec: dict[str, Any], decorator: Any) -> type:
    """The class ``spec`` describes, made by ``decorator`` (source text, as a module has it)."""
    lines = [f"@decorator(frozen={spec['frozen']}, slots={spec['slots']})", "class Made:",
             '    """A generated class."""']
    if spec.get("strings"):  # annotations as a module with PEP 563's import has them
        lines.insert(0, "from __future__ import annotations")
    for f in spec["fields"]:
        default = {"none": "", "value": "default=7, ", "factory": "default_factory=list, "}
        if f["kind"] in ("plain", "bare"):  # a class attribute, or nothing, without field()
            lines.append(f"    {f['name']}: Any" + (" = 7" if f["kind"] == "plain" else ""))
            continue
        lines.append(f"    {f['name']}: Any = field({default[f['kind']]}init={f['init']}, "
                     f"repr={f['repr']}, compare={f['compare']}, hash={f['hash']})")
    if spec.get("mutable"):
        lines.append("    z: Any = []")  # refused: use default_factory
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
        sorted(cls.__dict__), [repr(cls.__dict__.get(f["name"], "-")) for f in spec["fields"]],
        [repr(f.type) for f in dataclasses.fields(cls)],
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
    standard, fast = outcome(lambda: make(spec, dataclasses.dataclass)), \
        outcome(lambda: make(spec, ssgen.fastclass.dataclass))
    if standard[0] != "ok":  # a mutable default: the same error
        assert fast == standard
        return
    assert seen(fast[1], values, others, spec) == seen(standard[1], values, others, spec)


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


# --- the compiled __init__s kept across processes -------------------------------------------


@pytest.fixture()
def fresh_cache(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """This process as a new one: no text read or compiled yet; the file in tmp_path."""
    path = tmp_path / "inits.bin"
    monkeypatch.setattr(fastclass, "CACHE_FILE", str(path))
    monkeypatch.setattr(fastclass, "_CODES", [])
    monkeypatch.setattr(fastclass, "_USED", set())
    monkeypatch.setattr(fastclass, "_NEW", set())
    monkeypatch.setattr(fastclass.sys, "dont_write_bytecode", False)
    return path


def _point() -> type:
    @fastclass.dataclass
    class Point:
        """A point."""

        x: int
        y: int = 2

    return Point


def _swapped() -> type:
    @fastclass.dataclass
    class Swapped:
        """The same fields' names, the other way round: another text."""

        y: int
        x: int = 2

    return Swapped


def _as_new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastclass, "_CODES", [])
    monkeypatch.setattr(fastclass, "_USED", set())
    monkeypatch.setattr(fastclass, "_NEW", set())


def test_a_new_process_takes_the_inits_an_earlier_one_compiled(
        fresh_cache: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert repr(_point()(1)).endswith("Point(x=1, y=2)")
    assert fastclass._NEW
    fastclass.save_compiled()
    assert fresh_cache.is_file() and not fastclass._NEW
    _as_new_process(monkeypatch)
    point = _point()
    assert not fastclass._NEW  # nothing compiled: the file's code
    assert repr(point(5)).endswith("Point(x=5, y=2)") and point(5, 1) == point(x=5, y=1)
    assert [(p.name, p.default) for p in inspect.signature(point).parameters.values()] == [
        ("x", inspect.Parameter.empty), ("y", 2)]
    fastclass.save_compiled()  # nothing new: the file is left as it is
    assert fresh_cache.is_file()


@pytest.mark.parametrize("damage", ["checksum", "magic", "truncated", "not-a-dict"])
def test_a_file_not_written_whole_by_this_interpreter_is_not_used(
        fresh_cache: Any, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    """A file whose checksum (or magic number, length, contents) is not right is not
    read: here its code for Point's text is Swapped's, which would set y to x's value."""
    import hashlib
    import marshal

    _point()
    _swapped()
    codes = fastclass._CODES[0]
    point_text = next(text for text in codes if "y:__dataclass_type_y__=" in text)
    swapped_text = next(text for text in codes if "x:__dataclass_type_x__=" in text)
    body = marshal.dumps({point_text: codes[swapped_text]})
    head = fastclass._CACHE_MAGIC + hashlib.blake2b(body, digest_size=16).digest()
    data = {"checksum": head[:-1] + bytes([head[-1] ^ 1]) + body,
            "magic": b"x" + head[1:] + body,
            "truncated": head + body[:-2],
            "not-a-dict": fastclass._CACHE_MAGIC
            + hashlib.blake2b(marshal.dumps([1]), digest_size=16).digest() + marshal.dumps([1]),
            }[damage]
    fresh_cache.write_bytes(data)
    _as_new_process(monkeypatch)
    point = _point()(1, 7)
    assert (point.x, point.y) == (1, 7)
    assert fastclass._NEW  # compiled here


def test_nothing_is_written_without_bytecode_writing(
        fresh_cache: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastclass.sys, "dont_write_bytecode", True)
    _point()
    fastclass.save_compiled()
    assert not fresh_cache.exists()
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
