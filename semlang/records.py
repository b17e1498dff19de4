"""``dataclass``: the standard library's ``dataclasses.dataclass``, made without compiling.

Input: a class, decorated as with ``@dataclass`` or ``@dataclass(frozen=True, eq=False, ...)``.
Output: the same dataclass the standard library makes (``dataclasses.fields``, ``replace``,
``asdict`` and ``is_dataclass`` work on it, ``__dataclass_params__`` says what was asked): the same
``__init__`` signature, defaults, factories and ``__post_init__`` call, the same ``__repr__``,
``__eq__`` (the compared fields as a tuple), ``__hash__`` and, when frozen, the same
``FrozenInstanceError`` on assignment.

Why: the standard library compiles every method it writes from source text, six for a frozen
class, about a millisecond per class; a first ``semlang.cfa()`` in a fresh interpreter makes some
sixty dataclasses, so that was 60 ms of its start-up. Here the standard library collects the
fields (``init=False, repr=False, eq=False``: nothing compiled), one ``__init__`` is compiled (its
signature and speed matter) and the other methods are closures over the field names. What this
does not cover (``slots``, ``order``, ``unsafe_hash``, ``kw_only``, keyword-only, ``init=False``,
``InitVar`` or ``ClassVar`` fields, a dataclass base, a class defining ``__setattr__``) goes to
the standard library as it is. Type checkers see ``dataclasses.dataclass`` itself.
"""

from __future__ import annotations

import dataclasses
import operator
import reprlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

# the decorator's arguments handled here, with the standard library's defaults
_OWN = {"init": True, "repr": True, "eq": True, "frozen": False, "match_args": True}
_NOT_COVERED = ("InitVar", "ClassVar", "KW_ONLY")


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
    annotations = "\n".join(map(str, own.get("__annotations__", {}).values()))
    if any(word in annotations for word in _NOT_COVERED):
        return False
    for value in own.values():
        if isinstance(value, dataclasses.Field) and (not value.init or value.kw_only is True):
            return False
    return True


def _make(cls: Any, options: dict[str, Any]) -> Any:
    own = cls.__dict__
    class_hash = own.get("__hash__", dataclasses.MISSING)
    explicit_hash = not (
        class_hash is dataclasses.MISSING or (class_hash is None and "__eq__" in own)
    )
    documented = bool(own.get("__doc__"))
    if not documented:
        cls.__doc__ = cls.__name__  # (the standard library would call inspect.signature here)
    cls = dataclasses.dataclass(
        cls, init=False, repr=False, eq=False, frozen=False, match_args=options["match_args"]
    )
    params = cls.__dataclass_params__
    for name in ("init", "repr", "eq", "frozen"):
        setattr(params, name, options[name])
    fields = dataclasses.fields(cls)
    methods: dict[str, Any] = {"__init__": _init(cls, fields, options["frozen"])}
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


def _init(cls: type, fields: tuple[dataclasses.Field, ...], frozen: bool) -> Callable:
    """``__init__``, compiled from text as the standard library writes it."""
    names = [f.name for f in fields]
    self = "__dataclass_self__" if "self" in names else "self"
    space: dict[str, Any] = {"__dataclass_set__": object.__setattr__}
    parameters, lines = [self], []
    for f in fields:
        value = f.name
        if f.default is not dataclasses.MISSING:
            space[f"__dataclass_dflt_{f.name}__"] = f.default
            parameters.append(f"{f.name}=__dataclass_dflt_{f.name}__")
        elif f.default_factory is not dataclasses.MISSING:
            space[f"__dataclass_factory_{f.name}__"] = f.default_factory
            space["__dataclass_HAS_FACTORY__"] = _HAS_FACTORY
            parameters.append(f"{f.name}=__dataclass_HAS_FACTORY__")
            value = (
                f"__dataclass_factory_{f.name}__() if {f.name} is __dataclass_HAS_FACTORY__ "
                f"else {f.name}"
            )
        else:
            parameters.append(f.name)
        if frozen:
            lines.append(f"__dataclass_set__({self}, {f.name!r}, {value})")
        else:
            lines.append(f"{self}.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        lines.append(f"{self}.__post_init__()")
    body = "\n    ".join(lines or ["pass"])
    exec(f"def __init__({', '.join(parameters)}):\n    {body}\n", space)
    init = space["__init__"]
    init.__annotations__ = {**{f.name: f.type for f in fields}, "return": None}
    return init


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
    if field.default is not dataclasses.MISSING:
        return f"{text} = {field.default!r}"
    if field.default_factory is not dataclasses.MISSING:
        return f"{text} = <factory>"
    return text
