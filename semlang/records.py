"""``dataclass``: the standard library's ``dataclasses.dataclass``, made without compiling.

Input: a class, decorated as with ``@dataclass`` or ``@dataclass(frozen=True, eq=False, ...)``.
Output: the same dataclass the standard library makes (``dataclasses.fields``, ``replace``,
``asdict`` and ``is_dataclass`` work on it, ``__dataclass_params__`` says what was asked): the same
``__init__`` signature, defaults, factories and ``__post_init__`` call, the same ``__repr__``,
``__eq__`` (the compared fields as a tuple), ``__hash__``, ``__match_args__`` and docstring and,
when frozen, the same ``FrozenInstanceError`` on assignment.

Why: the standard library compiles every method it writes from source text, six for a frozen
class, about a millisecond per class; a first ``semlang.cfa()`` in a fresh interpreter makes some
fifty dataclasses and instantiates two thirds of them. Here the fields are collected as the
standard library collects them (its ``Field`` objects, made by ``dataclasses.field``); the
``__init__`` is made when first used (instantiation, ``inspect.signature``, any look-up of
``__init__``) from the code the standard library would compile for it (its signature and speed
matter), compiled once for all classes of one shape (frozen or not, ``__post_init__`` or not,
which fields have factories) and given each class's field names; the other methods are closures
over the field names. What this does not cover (``slots``, ``order``, ``unsafe_hash``,
``kw_only``, keyword-only, ``init=False``, ``InitVar`` or ``ClassVar`` fields, a dataclass base,
a class defining ``__setattr__``, a field without a default after one with a default) goes to the
standard library as it is; so does the field collection on a Python whose ``dataclasses`` this
was not checked against. Type checkers see ``dataclasses.dataclass`` itself.
"""

from __future__ import annotations

import abc
import copy
import dataclasses
import operator
import re
import reprlib
import sys
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

# the decorator's arguments handled here, with the standard library's defaults
_OWN = {"init": True, "repr": True, "eq": True, "frozen": False, "match_args": True}
_NOT_COVERED = re.compile("InitVar|ClassVar|KW_ONLY")
# the Pythons whose dataclasses._process_class this module's _collect does as it does
_COLLECTS = (3, 10) <= sys.version_info[:2] < (3, 14)
# an annotation's leading ``module.name`` or ``name``, as the standard library reads it
_LEADING = re.compile(r"^(?:\s*(\w+)\s*\.)?\s*(\w+)")
_MISSING = dataclasses.MISSING
_KW_ONLY = getattr(dataclasses, "KW_ONLY", _MISSING)
_GENERIC_ALIAS = getattr(typing, "_GenericAlias", _MISSING)


def _dataclass(cls: type | None = None, /, **options: Any) -> Any:
    def wrap(cls: type) -> type:
        if not _covered(cls, options):
            return dataclasses.dataclass(cls, **options)
        return _make(cls, {**_OWN, **options})

    return wrap if cls is None else wrap(cls)


if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
else:
    dataclass = _dataclass


def _covered(cls: type, options: dict[str, Any]) -> bool:
    """Whether the class and the arguments are within what :func:`_make` does."""
    if not set(options) <= set(_OWN) or not options.get("init", True):
        return False
    if any(hasattr(base, "__dataclass_fields__") for base in cls.__mro__[1:]):
        return False
    own = cls.__dict__
    if options.get("frozen") and ("__setattr__" in own or "__delattr__" in own):
        return False
    module = sys.modules.get(cls.__module__)
    namespace = module.__dict__ if module is not None else {}
    if not all(_ordinary(kind, namespace) for kind in own.get("__annotations__", {}).values()):
        return False
    for value in own.values():
        if isinstance(value, dataclasses.Field) and (not value.init or value.kw_only is True):
            return False
    return True


def _ordinary(kind: Any, namespace: dict[str, Any]) -> bool:
    """Whether an annotation makes an ordinary field: not a ``ClassVar``, ``InitVar`` or
    ``KW_ONLY``, also under another name (``from typing import ClassVar as CV``), found in the
    module's namespace as the standard library finds them."""
    if _NOT_COVERED.search(kind if isinstance(kind, str) else repr(kind)):
        return False
    if not isinstance(kind, str):
        return not _special(kind)
    match = _LEADING.match(kind)
    if match is None:
        return True
    module, name = match.groups()
    if _special(namespace.get(name)):
        return False
    target = namespace.get(module) if module is not None else None
    return not (
        (target is typing or target is dataclasses) and _special(getattr(target, name, None))
    )


def _special(kind: Any) -> bool:
    """``ClassVar``, ``ClassVar[...]``, ``InitVar``, ``InitVar[...]`` or ``KW_ONLY`` (looking at
    no attribute of anything else: a stand-in module would import on it)."""
    return (
        kind is typing.ClassVar
        or (type(kind) is _GENERIC_ALIAS and kind.__origin__ is typing.ClassVar)
        or kind is dataclasses.InitVar
        or type(kind) is dataclasses.InitVar
        or kind is _KW_ONLY
    )


def _make(cls: Any, options: dict[str, Any]) -> Any:
    own = cls.__dict__
    class_hash = own.get("__hash__", _MISSING)
    explicit_hash = not (class_hash is _MISSING or (class_hash is None and "__eq__" in own))
    documented = bool(own.get("__doc__"))
    if _COLLECTS:
        found = _fields(cls)
        if found is None:  # an error (or an order) the standard library reports as it does
            return dataclasses.dataclass(cls, **options)
        _collect(cls, found, options["match_args"])
    else:
        if not documented:
            cls.__doc__ = cls.__name__  # (the standard library would call inspect.signature)
        cls = dataclasses.dataclass(
            cls, init=False, repr=False, eq=False, frozen=False, match_args=options["match_args"]
        )
    params = cls.__dataclass_params__
    for name in ("init", "repr", "eq", "frozen"):
        setattr(params, name, options[name])
    fields = tuple(cls.__dataclass_fields__.values())
    if "__init__" not in own:
        cls.__init__ = _LazyInit(cls, fields, options["frozen"], hasattr(cls, "__post_init__"))
    methods: dict[str, Any] = {}
    if options["repr"]:
        methods["__repr__"] = _repr([f.name for f in fields if f.repr])
    if options["eq"]:
        methods["__eq__"] = _eq([f.name for f in fields if f.compare])
    for name, method in methods.items():
        if name not in own:
            method.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, method)
    if options["frozen"]:
        _freeze(cls, frozenset(f.name for f in fields))
    if options["eq"] and not explicit_hash:
        compared = [f.name for f in fields if (f.compare if f.hash is None else f.hash)]
        cls.__hash__ = _hash(compared) if options["frozen"] else None
        if options["frozen"]:
            cls.__hash__.__qualname__ = f"{cls.__qualname__}.__hash__"
    if not documented:
        cls.__doc__ = f"{cls.__name__}({', '.join(_shown(f) for f in fields)})"
    return cls


def _fields(cls: Any) -> list[dataclasses.Field] | None:
    """The class's fields as ``dataclasses._process_class`` makes them; None when it would raise
    (a mutable default, a ``Field`` without an annotation) or the ``__init__`` it would write
    raises (a field without a default after one with a default)."""
    # (the standard library's own reading up to 3.11; inspect.get_annotations from 3.12 gives the
    # same for a class, and importing inspect costs start-up)
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    found, defaulted = [], False
    for name, kind in annotations.items():
        default = getattr(cls, name, _MISSING)
        if isinstance(default, dataclasses.Field):
            field = default
        else:
            if isinstance(default, types.MemberDescriptorType):
                default = _MISSING
            field = dataclasses.field(default=default)  # type: ignore[arg-type]
        field.name, field.type = name, kind
        field._field_type = dataclasses._FIELD  # type: ignore[attr-defined]
        if field.kw_only is _MISSING:
            field.kw_only = False
        if _mutable(field.default):
            return None
        if field.default is not _MISSING or field.default_factory is not _MISSING:
            defaulted = True
        elif defaulted:
            return None
        found.append(field)
    for name, value in cls.__dict__.items():
        if isinstance(value, dataclasses.Field) and name not in annotations:
            return None
    return found


def _mutable(default: Any) -> bool:
    """A default the standard library refuses (it asks for a default_factory)."""
    if sys.version_info >= (3, 11):
        return default.__class__.__hash__ is None
    return isinstance(default, (list, dict, set))


def _collect(cls: Any, found: list[dataclasses.Field], match_args: bool) -> None:
    """What ``dataclasses.dataclass(cls, init=False, repr=False, eq=False)`` does to a class
    without dataclass bases: the fields, the parameters, ``__match_args__``."""
    for field in found:
        if isinstance(getattr(cls, field.name, None), dataclasses.Field):
            if field.default is _MISSING:
                delattr(cls, field.name)
            else:
                setattr(cls, field.name, field.default)
    params, added = _template()
    cls.__dataclass_params__ = _copied(params)
    cls.__dataclass_fields__ = {field.name: field for field in found}
    if match_args and "__match_args__" not in cls.__dict__:
        setattr(cls, "__match_args__", tuple(field.name for field in found))  # noqa: B010
    for name, value in added.items():
        if name not in cls.__dict__:
            setattr(cls, name, value)
    abc.update_abstractmethods(cls)


_TEMPLATE: list[tuple[Any, dict[str, Any]]] = []


def _template() -> tuple[Any, dict[str, Any]]:
    """The standard library's ``__dataclass_params__`` for ``init=False, repr=False, eq=False``
    and any other attribute it adds to every such class (``__replace__`` from Python 3.13)."""
    if not _TEMPLATE:
        plain = type("Template", (), {"__doc__": "Template"})  # (no inspect.signature)
        before = set(plain.__dict__)
        made: Any = dataclasses.dataclass(plain, init=False, repr=False, eq=False)
        known = {"__dataclass_params__", "__dataclass_fields__", "__match_args__", "__doc__"}
        added = {k: v for k, v in made.__dict__.items() if k not in before | known}
        _TEMPLATE.append((made.__dataclass_params__, added))
    return _TEMPLATE[0]


def _copied(params: Any) -> Any:
    """A copy of a ``__dataclass_params__`` (``copy.copy`` takes longer for a slotted object)."""
    slots = getattr(type(params), "__slots__", None)
    if not isinstance(slots, tuple) or hasattr(params, "__dict__"):
        return copy.copy(params)
    new = object.__new__(type(params))
    for name in slots:
        setattr(new, name, getattr(params, name))
    return new


class _LazyInit:
    """A class's ``__init__`` before its first use: looked up (to make an instance, by
    ``inspect.signature``, ...), it compiles the real one, puts it in the class in its place and
    gives it."""

    __slots__ = ("fields", "frozen", "owner", "post_init")

    def __init__(
        self, owner: type, fields: tuple[dataclasses.Field, ...], frozen: bool, post_init: bool
    ) -> None:
        self.owner, self.fields, self.frozen, self.post_init = owner, fields, frozen, post_init

    def __get__(self, instance: Any, kind: type | None = None) -> Any:
        init = _init(
            self.fields, self.frozen, self.post_init, f"{self.owner.__qualname__}.__init__"
        )
        type.__setattr__(self.owner, "__init__", init)
        return init.__get__(instance, kind)


def _init(
    fields: tuple[dataclasses.Field, ...], frozen: bool, post_init: bool, qualname: str
) -> Callable:
    """``__init__`` as the standard library writes it: the code compiled for the class's shape
    (frozen or not, ``__post_init__`` or not, which fields have factories), once per shape, with
    the field names put in (compiling is the slow part, some 0.1-0.3 ms a class)."""
    names = [f.name for f in fields]
    self = "__dataclass_self__" if "self" in names else "self"
    factories = tuple(f.default_factory is not _MISSING for f in fields)
    shape = (frozen, post_init, self, factories)
    if shape not in _CODE:
        _CODE[shape] = _compiled(*shape)
    mapping = {_placeholder(i): name for i, name in enumerate(names)}

    def named(items: tuple) -> tuple:
        return tuple(mapping.get(x, x) if type(x) is str else x for x in items)

    code = _CODE[shape]
    changes: dict[str, Any] = {
        "co_varnames": named(code.co_varnames),
        "co_names": named(code.co_names),
        "co_consts": named(code.co_consts),
    }
    if hasattr(code, "co_qualname"):  # (Python 3.11: tracebacks show it)
        changes["co_qualname"] = qualname
    code = code.replace(**changes)
    space: dict[str, Any] = {"__dataclass_set__": object.__setattr__}
    space["__dataclass_HAS_FACTORY__"] = _HAS_FACTORY
    defaults = []
    for i, f in enumerate(fields):
        if f.default is not _MISSING:
            defaults.append(f.default)
        elif f.default_factory is not _MISSING:
            space[f"__dataclass_factory_{i}__"] = f.default_factory
            defaults.append(_HAS_FACTORY)
    init = types.FunctionType(code, space, "__init__", tuple(defaults) or None)
    init.__qualname__ = qualname
    init.__annotations__ = {**{f.name: f.type for f in fields}, "return": None}
    return init


_CODE: dict[tuple, types.CodeType] = {}


def _placeholder(index: int) -> str:
    return f"__dataclass_field_{index}__"


def _compiled(frozen: bool, post_init: bool, self: str, factories: tuple[bool, ...]) -> Any:
    """The code of an ``__init__`` of fields named by :func:`_placeholder` (no defaults: those
    are the function's, not its code's)."""
    parameters, lines = [self], []
    for i, factory in enumerate(factories):
        name = _placeholder(i)
        parameters.append(name)
        value = name
        if factory:
            value = (
                f"__dataclass_factory_{i}__() if {name} is __dataclass_HAS_FACTORY__ else {name}"
            )
        if frozen:
            lines.append(f"__dataclass_set__({self}, {name!r}, {value})")
        else:
            lines.append(f"{self}.{name} = {value}")
    if post_init:
        lines.append(f"{self}.__post_init__()")
    body = "\n    ".join(lines or ["pass"])
    text = f"def __init__({', '.join(parameters)}):\n    {body}\n"
    module = compile(text, "<string>", "exec")
    return next(c for c in module.co_consts if isinstance(c, types.CodeType))


class _HasFactory:
    def __repr__(self) -> str:
        return "<factory>"


_HAS_FACTORY = _HasFactory()


def _getter(names: list[str]) -> Callable[[Any], tuple]:
    """The named attributes of an object as a tuple (also for one name or none)."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return operator.attrgetter(*names)


def _repr(names: list[str]) -> Callable:
    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__


def _eq(names: list[str]) -> Callable:
    values = _getter(names)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash(names: list[str]) -> Callable:
    values = _getter(names)

    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


def _freeze(cls: Any, names: frozenset[str]) -> None:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    for method in (__setattr__, __delattr__):
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        setattr(cls, method.__name__, method)


def _shown(field: dataclasses.Field) -> str:
    """A field as the standard library's docstring shows it in the signature."""
    kind = field.type
    text = f"{field.name}: {kind!r}" if isinstance(kind, str) else f"{field.name}"
    if field.default is not _MISSING:
        return f"{text} = {field.default!r}"
    if field.default_factory is not _MISSING:
        return f"{text} = <factory>"
    return text
