"""``dataclass``: the standard library's dataclasses with one compiled method instead of six.

Python 3.11 and 3.12 write each generated method of a dataclass (``__init__``,
``__repr__``, ``__eq__``, ``__hash__``, a frozen one's ``__setattr__`` and
``__delattr__``) as source text and compile it: ~60 us a method, so the ~100 dataclasses
a build imports cost ~50 ms of every start, more than any module's own code. Here the
fields are found as ``dataclasses`` finds them (``_field``: the class's annotations, the
defaults and ``field()`` specifiers among its attributes, a mutable default refused),
with the same ``__dataclass_fields__`` and ``__match_args__``, and a slotted class is
made once, its methods in its namespace (``dataclasses`` would make it, then each method
set on it updates the type's slots: ~3% of a cold build's start); ``__init__`` (called
per object, so compiled as the standard library writes it: same signature, defaults,
default factories and ``__post_init__``; a frozen class's fields written into its
``__dict__``, see ``_init``) is the one method compiled, and the others are closures
over the class's field names, with the standard library's behaviour: ``repr``
(recursion-safe, ``repr=False`` fields left out), ``==`` on the tuple of ``compare``
fields (``NotImplemented`` for another class), ``hash`` of the hashed fields' tuple for
a frozen class and unhashable for a mutable one (unless the class defines ``__hash__``),
``FrozenInstanceError`` on assignment, and a frozen slotted class's pickling.
``__dataclass_params__`` is the standard library's for the same ``frozen`` and
``slots``, so ``dataclasses.fields``, ``replace``, ``asdict`` and ``is_dataclass`` see
an ordinary dataclass. Classes it does not cover (a dataclass base, ``ClassVar``,
``InitVar`` or ``KW_ONLY`` fields, a field named ``self``, no docstring, a slotted class
that names its own ``__slots__``) and Python 3.13 and later get
``dataclasses.dataclass`` itself. tests/test_fastclass.py holds the two equal.

Why not the standard library, or a library: measured (2026-12-04, branch ``d10``) with
this module's ``dataclass`` swapped for ``dataclasses.dataclass`` in a copy of main, a new
process importing what a ``build`` imports costs 164 ms CPU against 190 (medians of 20
alternated runs, minima 146 against 171), and a cold 1,000-file ``build --full`` 509 ms
against 543 (10 alternated rounds, ``bench/full_ab.py``): ~26 ms of every command, the
share of a small build Hugo does not pay. A library does not remove the cost: ``attrs``
also writes and compiles its methods per class, and a compiled one (``msgspec.Struct``)
is not a dataclass (``fields``, ``replace``, ``asdict``, ``__match_args__`` and pickling
differ), so every class and its callers would change. Hand-written ``__slots__`` classes
would be ~100 copies of the methods here. Python 3.13 makes this module a pass-through.

Compiling the ``__init__`` source texts was still ~10 ms of a build's start (92 classes,
~110 us each). Each text is a pure function of the class's fields, so its code object is
kept across processes: ``__pycache__/fastclass-inits.<cache tag>.bin`` beside this module
maps each text to its marshalled code (with the interpreter's bytecode magic number and a
checksum; anything else is ignored), read once a process, and ``save_compiled`` (called
by the command line on its way out) writes it again when this process compiled a text it
did not hold. Not writable, or ``PYTHONDONTWRITEBYTECODE``: the texts are compiled as
before.
"""

import abc
import dataclasses
import inspect
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import MISSING, Field, FrozenInstanceError
from importlib.util import MAGIC_NUMBER
from operator import attrgetter
from reprlib import recursive_repr
from types import CodeType, MemberDescriptorType
from typing import Any, TypeVar, dataclass_transform, overload

from ssgen import keptfile

_T = TypeVar("_T")
_NATIVE = sys.version_info >= (3, 13)
# A parameter's default when its field has a default factory (shown as ``<factory>``).
_FACTORY = getattr(dataclasses, "_HAS_DEFAULT_FACTORY", object())
_FIELD = getattr(dataclasses, "_FIELD", None)  # a field's kind: a real one, not a ClassVar
_slots_of: Callable[[type], Iterable[str]] = getattr(dataclasses, "_get_slots", lambda cls: ())
_PARAMS: dict[tuple[bool, bool], object] = {}  # (frozen, slots) -> __dataclass_params__
CACHE_FILE = os.path.join(os.path.dirname(__file__), "__pycache__",
                          f"fastclass-inits.{sys.implementation.cache_tag}.bin")
_CACHE_MAGIC = b"ssgen-fastclass-inits-1\n" + MAGIC_NUMBER
_MOST_KEPT = 1000  # texts kept in the file beyond this process's own: dropped past this
_CODES: list[dict[str, CodeType]] = []  # text -> its code: the file's, then this process's
_USED: set[str] = set()  # the texts this process asked for
_NEW: set[str] = set()  # the texts this process compiled (not in the file)


@overload
def dataclass(cls: type[_T], /) -> type[_T]: ...


@overload
def dataclass(*, frozen: bool = False, slots: bool = False
              ) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, Field))
def dataclass(cls: type[_T] | None = None, /, *, frozen: bool = False, slots: bool = False
              ) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """``@dataclass``, ``@dataclass(frozen=True, slots=True)``: as ``dataclasses.dataclass``."""

    def wrap(cls: type[_T]) -> type[_T]:
        if _NATIVE or not _covered(cls, slots):
            return dataclasses.dataclass(cls, frozen=frozen, slots=slots)
        return _made(cls, frozen, slots)

    return wrap if cls is None else wrap(cls)


def _covered(cls: type, slots: bool) -> bool:
    """Whether ``cls`` uses only what this module makes (else the standard library's)."""
    annotations = inspect.get_annotations(cls)
    return (bool(cls.__doc__) and "self" not in annotations
            and not (slots and "__slots__" in cls.__dict__)
            and not any(dataclasses.is_dataclass(base) for base in cls.__mro__[1:])
            and not any(marker in str(kind) for kind in annotations.values()
                        for marker in ("ClassVar", "InitVar", "KW_ONLY")))


def _made(cls: type[_T], frozen: bool, slots: bool) -> type[_T]:
    """The dataclass of a covered ``cls``, as ``dataclasses`` makes it, with this module's
    methods: set on ``cls``, or, slotted, in the namespace of the one class made with
    ``__slots__`` (``dataclasses`` makes that class, then each method set on it updates
    its type's slots: ~0.1 ms a class of every start, ~100 classes)."""
    fields = {name: _field(cls, name, kind)
              for name, kind in inspect.get_annotations(cls).items()}
    for name, value in cls.__dict__.items():
        if isinstance(value, Field) and name not in fields:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    listed = tuple(fields.values())
    if not slots:
        for f in listed:  # a ``field()`` attribute becomes its default, or goes
            if isinstance(getattr(cls, f.name, None), Field):
                if f.default is MISSING:
                    delattr(cls, f.name)
                else:
                    setattr(cls, f.name, f.default)
    explicit_hash = _explicit_hash(cls)
    added: dict[str, Any] = {"__dataclass_fields__": fields,
                             "__dataclass_params__": _params(frozen, slots)}
    for name, method in _methods(cls, listed, frozen, slots).items():
        # A method the class defines stays; ``__hash__`` follows dataclasses' rule.
        if (name == "__hash__" and not explicit_hash) or name not in cls.__dict__:
            if method is not None and method not in (_getstate, _setstate):  # shared
                method.__qualname__ = f"{cls.__qualname__}.{name}"
            added[name] = method
    if "__match_args__" not in cls.__dict__:
        added["__match_args__"] = tuple(f.name for f in listed if f.init and not f.kw_only)
    made = _slotted(cls, listed, added) if slots else cls
    if not slots:
        for name, value in added.items():
            setattr(cls, name, value)
    abc.update_abstractmethods(made)
    return made


def _field(cls: type, name: str, kind: object) -> Field[Any]:
    """The field ``name`` of a covered class as ``dataclasses`` makes it (its default the
    class attribute, or the ``field()`` there)."""
    default: Any = getattr(cls, name, MISSING)
    if isinstance(default, MemberDescriptorType):  # a base's slot: no default
        default = MISSING
    found: Field[Any] = default if isinstance(default, Field) \
        else dataclasses.field(default=default)
    found.name, found.type = name, kind
    setattr(found, "_field_type", _FIELD)  # noqa: B010 (not in Field's stubs)
    if found.kw_only is MISSING:
        found.kw_only = False
    if found.default.__class__.__hash__ is None:
        raise ValueError(f"mutable default {type(found.default)} for field {name} is not "
                         "allowed: use default_factory")
    return found


def _slotted(cls: type[_T], fields: tuple[Field[Any], ...], added: dict[str, Any]) -> type[_T]:
    """``cls`` made again with ``__slots__`` for ``fields`` and ``added`` in its namespace,
    as ``dataclasses`` makes a slotted class (a base's slots not repeated)."""
    namespace = dict(cls.__dict__)
    for f in fields:
        namespace.pop(f.name, None)
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    inherited = {name for base in cls.__mro__[1:-1] for name in _slots_of(base)}
    namespace["__slots__"] = tuple(f.name for f in fields if f.name not in inherited)
    namespace.update(added)
    metaclass: Any = type(cls)
    made: type[_T] = metaclass(cls.__name__, cls.__bases__, namespace)
    made.__qualname__ = cls.__qualname__
    return made


def _explicit_hash(cls: type) -> bool:
    found = cls.__dict__.get("__hash__", MISSING)
    return not (found is MISSING or (found is None and "__eq__" in cls.__dict__))


def _params(frozen: bool, slots: bool) -> object:
    """The standard library's ``__dataclass_params__`` for a class of these options."""
    key = (frozen, slots)
    if key not in _PARAMS:
        probe: Any = dataclasses.dataclass(type("Probe", (), {"__doc__": "-"}), frozen=frozen,
                                           slots=slots)
        _PARAMS[key] = probe.__dataclass_params__
    return _PARAMS[key]


def _methods(given: type, fields: tuple[Field[Any], ...], frozen: bool,
             slots: bool) -> dict[str, Any]:
    """The methods of the class ``given`` (as written) with ``fields``."""
    made: dict[str, Any] = {"__init__": _init(given, fields, frozen, slots),
                            "__repr__": _repr(tuple(f.name for f in fields if f.repr)),
                            **_compare(fields, frozen)}
    if frozen:
        made |= _frozen(given, frozenset(f.name for f in fields), slots)
    return made


def _init(cls: type, fields: tuple[Field[Any], ...], frozen: bool,
          slots: bool) -> Callable[..., None]:
    """``__init__`` as ``dataclasses`` writes it (the one method compiled)."""
    names: dict[str, Any] = {"__dataclass_builtins_object__": object,
                             "__dataclass_HAS_DEFAULT_FACTORY__": _FACTORY}
    # A frozen class's fields written into its ``__dict__`` (no ``object.__setattr__``
    # call per field: ~0.55 us less for a 6-field object, 16,000 page specs a build),
    # unless a field's name is a data descriptor of the class, which must see the write.
    direct = frozen and not slots and not any(
        hasattr(type(inspect.getattr_static(cls, f.name, None)), "__set__") for f in fields)
    params: list[str] = []
    keywords: list[str] = []
    body: list[str] = []
    for f in fields:
        names[f"__dataclass_type_{f.name}__"] = f.type
        default = f"__dataclass_dflt_{f.name}__"
        if f.default_factory is not MISSING:
            names[default] = f.default_factory
            value = (f"{default}() if {f.name} is __dataclass_HAS_DEFAULT_FACTORY__ "
                     f"else {f.name}" if f.init else f"{default}()")
        elif f.init:
            value = f.name
            if f.default is not MISSING:
                names[default] = f.default
        elif slots and f.default is not MISSING:
            names[default] = f.default
            value = default
        else:
            continue
        if f.init:
            given = ("=__dataclass_HAS_DEFAULT_FACTORY__" if f.default_factory is not MISSING
                     else f"={default}" if f.default is not MISSING else "")
            (keywords if f.kw_only is True else params).append(
                f"{f.name}:__dataclass_type_{f.name}__{given}")
        body.append(f"__dataclass_self_dict__[{f.name!r}]={value}" if direct
                    else f"__dataclass_builtins_object__.__setattr__(self,{f.name!r},{value})"
                    if frozen else f"self.{f.name}={value}")
    if direct and body:
        body.insert(0, "__dataclass_self_dict__=self.__dict__")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    signature = ", ".join(["self", *params, *(["*", *keywords] if keywords else [])])
    text = "\n".join([f"def __create_fn__({', '.join(names)}):",
                      f" def __init__({signature}) -> None:",
                      *(f"  {line}" for line in body or ["pass"]),
                      " return __init__"])
    module = sys.modules.get(cls.__module__)
    scope: dict[str, Any] = {}
    exec(_compiled(text), module.__dict__ if module is not None else {}, scope)
    init: Callable[..., None] = scope["__create_fn__"](**names)
    return init


def _compiled(text: str) -> CodeType:
    """The code of ``text``: from the file of earlier processes' when it holds it."""
    if not _CODES:
        _CODES.append(_read_codes(CACHE_FILE))
    codes = _CODES[0]
    _USED.add(text)
    code = codes.get(text)
    if code is None:
        code = codes[text] = compile(text, "<string>", "exec")
        _NEW.add(text)
    return code


def _read_codes(path: str) -> dict[str, CodeType]:
    """The file's texts and codes (empty: none, or not one this interpreter wrote)."""
    found = keptfile.read(path, _CACHE_MAGIC)
    if type(found) is not dict or not all(type(text) is str and type(code) is CodeType
                                          for text, code in found.items()):
        return {}
    return found


def save_compiled() -> None:
    """Write the file again when this process compiled texts it did not hold (those of
    this process first; the others while there are not too many)."""
    if not _NEW or not _CODES or sys.dont_write_bytecode:
        return
    if keptfile.write(CACHE_FILE, _CACHE_MAGIC, keptfile.chosen(_CODES[0], _USED, _MOST_KEPT)):
        _NEW.clear()


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    @recursive_repr()
    def __repr__(self: Any) -> str:
        shown = ", ".join([f"{name}={getattr(self, name)!r}" for name in names])
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__


def _compare(fields: tuple[Field[Any], ...], frozen: bool) -> dict[str, Any]:
    """``__eq__`` on the ``compare`` fields' tuple; ``__hash__`` of the hashed fields' (a
    frozen class), else None (unhashable, as a mutable dataclass with ``eq``)."""
    compared = _getter(tuple(f.name for f in fields if f.compare))

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(compared(self) == compared(other))
        return NotImplemented

    if not frozen:
        return {"__eq__": __eq__, "__hash__": None}
    hashed = _getter(tuple(f.name for f in fields
                           if (f.compare if f.hash is None else f.hash)))

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    return {"__eq__": __eq__, "__hash__": __hash__}


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of ``names``' values of an object (a tuple also for one name or none)."""
    if len(names) > 1:
        return attrgetter(*names)

    def values(self: Any) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in names])

    return values


def _frozen(cls: Any, names: frozenset[str], slots: bool) -> dict[str, Any]:
    """A frozen class's ``__setattr__`` and ``__delattr__`` (and, slotted, its pickling).
    ``cls`` is the class as written, before ``slots`` replaced it, as in dataclasses."""

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    made: dict[str, Any] = {"__setattr__": __setattr__, "__delattr__": __delattr__}
    if slots:
        made["__getstate__"] = _getstate
        made["__setstate__"] = _setstate
    return made


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _setstate(self: Any, state: list[Any]) -> None:
    for field, value in zip(dataclasses.fields(self), state, strict=False):
        object.__setattr__(self, field.name, value)
