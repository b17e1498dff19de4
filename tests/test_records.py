"""semlang.records.dataclass makes the classes the standard library's dataclass makes."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from typing import ClassVar
from typing import ClassVar as Shared

import pytest

from semlang import records

# the attributes of a dataclasses.Field the standard library sets
FIELD_ATTRIBUTES = (
    "name", "type", "default", "default_factory", "init", "repr", "hash", "compare", "metadata",
    "kw_only", "_field_type",
)  # fmt: skip


def _pair(**options):
    """The same class body decorated by the standard library and by semlang.records."""
    made = []
    for decorate in (dataclasses.dataclass, records.dataclass):

        @decorate(**options)
        class Point:
            x: int
            y: str = "a"
            z: list = dataclasses.field(default_factory=list)
            hidden: float = dataclasses.field(default=0.5, repr=False, compare=False)

        made.append(Point)
    return made


@pytest.mark.parametrize(
    "options",
    [{}, {"frozen": True}, {"frozen": True, "eq": False}, {"repr": False}, {"eq": False}],
)
def test_same_behaviour_as_the_standard_library(options):
    standard, fast = _pair(**options)
    assert str(inspect.signature(standard)) == str(inspect.signature(fast))
    assert [f.name for f in dataclasses.fields(fast)] == ["x", "y", "z", "hidden"]
    assert dataclasses.is_dataclass(fast)
    for name in ("init", "repr", "eq", "frozen"):
        assert getattr(fast.__dataclass_params__, name) == getattr(
            standard.__dataclass_params__, name
        )
    a, b = standard(1, z=[2]), fast(1, z=[2])
    if options.get("repr", True):
        assert repr(a) == repr(b) == "_pair.<locals>.Point(x=1, y='a', z=[2])"
    else:
        assert repr(b).startswith("<") and "Point object at" in repr(b)
    assert dataclasses.asdict(a) == dataclasses.asdict(b)
    assert (fast(1) == fast(1)) is (standard(1) == standard(1))
    assert (fast(1, hidden=2.0) == fast(1)) is (standard(1, hidden=2.0) == standard(1))
    assert fast(1) != fast(2)
    assert fast(1).z is not fast(1).z  # a new list each time
    assert (fast.__hash__ is None) is (standard.__hash__ is None)
    if fast.__hash__ is not None and options.get("frozen") and options.get("eq", True):
        assert hash(fast(1, z=(), hidden=1.0)) == hash(fast(1, z=(), hidden=2.0))
        assert len({fast(1, z=()), fast(1, z=()), fast(2, z=())}) == 2
        with pytest.raises(TypeError, match="unhashable"):
            hash(fast(1))  # a list inside, as with the standard library's
    assert dataclasses.replace(b, y="b") == fast(1, "b", [2]) or not options.get("eq", True)
    assert fast.__match_args__ == standard.__match_args__
    assert copy.deepcopy(b).z == [2]
    if options.get("frozen"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            b.x = 3
        with pytest.raises(dataclasses.FrozenInstanceError):
            del b.y
    else:
        b.x = 3
        assert b.x == 3


def test_tuple_comparison_as_the_standard_library():
    nan = float("nan")
    for decorate in (dataclasses.dataclass, records.dataclass):

        @decorate(frozen=True)
        class One:
            value: float

        assert One(nan) == One(nan)  # the same object: equal inside a tuple
        assert One(1.0) != One(2.0)
        assert One(1.0) != (1.0,)


@records.dataclass(frozen=True)
class Picklable:
    a: int
    b: tuple = ()


def test_pickle_and_post_init():
    assert pickle.loads(pickle.dumps(Picklable(1, (2,)))) == Picklable(1, (2,))
    seen = []

    @records.dataclass(frozen=True)
    class Checked:
        a: int

        def __post_init__(self):
            seen.append(self.a)

    Checked(4)
    assert seen == [4]


def test_own_methods_are_kept_and_the_rest_goes_to_the_standard_library():
    @records.dataclass(frozen=True)
    class Own:
        a: int

        def __repr__(self):
            return "own"

        def __eq__(self, other):
            return True

    assert repr(Own(1)) == "own" and Own(1) == Own(2)
    assert hash(Own(1)) == hash(Own(1))

    @records.dataclass(frozen=True, slots=True)
    class Slotted:
        a: int

    assert Slotted.__slots__ == ("a",)

    @records.dataclass(frozen=True)
    class Child(Picklable):
        c: int = 0

    assert Child(1, (), 2).c == 2 and [f.name for f in dataclasses.fields(Child)] == ["a", "b", "c"]


def test_a_field_named_self():
    @records.dataclass(frozen=True)
    class Odd:
        self: int

    assert Odd(self=3).self == 3


def test_mutable_default_refused_as_by_the_standard_library():
    with pytest.raises(ValueError, match="mutable default"):

        @records.dataclass
        class Bad:
            a: list = []  # noqa: RUF012


def test_class_and_init_variables_as_the_standard_library():
    @records.dataclass
    class Scaled:
        a: int
        kind: ClassVar[str] = "scaled"
        scale: dataclasses.InitVar[int] = 1

        def __post_init__(self, scale):
            self.a *= scale

    assert Scaled(2, 3).a == 6 and Scaled(2).kind == "scaled"
    assert [f.name for f in dataclasses.fields(Scaled)] == ["a"]


def _same_class(standard, fast):
    """The two classes hold the same fields, parameters and attributes."""
    assert set(vars(standard)) == set(vars(fast))
    assert len(dataclasses.fields(fast)) == len(dataclasses.fields(standard))
    for mine, theirs in zip(dataclasses.fields(fast), dataclasses.fields(standard), strict=True):
        for attribute in FIELD_ATTRIBUTES:
            assert getattr(mine, attribute) == getattr(theirs, attribute), attribute
    assert repr(fast.__dataclass_params__) == repr(standard.__dataclass_params__)
    assert fast.__dataclass_params__ is not standard.__dataclass_params__
    assert getattr(fast, "__match_args__", None) == getattr(standard, "__match_args__", None)
    assert fast.__doc__ == standard.__doc__
    for name in fast.__dataclass_fields__:  # class attributes: the defaults, no Field objects
        assert getattr(fast, name, None) == getattr(standard, name, None)


@pytest.mark.parametrize("options", [{}, {"frozen": True}, {"eq": False}, {"match_args": False}])
def test_fields_parameters_and_class_attributes_as_the_standard_library(options):
    standard, fast = _pair(**options)
    _same_class(standard, fast)
    made = []
    for decorate in (dataclasses.dataclass, records.dataclass):

        @decorate(**options)
        class Detailed:
            a: int = dataclasses.field(metadata={"unit": "cm"})
            b: list = dataclasses.field(default_factory=list, hash=False, repr=False)
            c: Shared[int] = 3  # a ClassVar under another name: no field
            d: str = dataclasses.field(default="d", compare=False)
            e: tuple = ()

        made.append(Detailed)
    _same_class(*made)
    assert [f.name for f in dataclasses.fields(made[1])] == ["a", "b", "d", "e"]
    assert made[1].c == 3


def test_each_class_has_its_own_parameters():
    fast, other = _pair(frozen=True)[1], _pair()[1]
    assert fast.__dataclass_params__.frozen and not other.__dataclass_params__.frozen


def test_init_is_compiled_on_first_use_and_is_the_standard_librarys():
    standard, fast = _pair(frozen=True)
    assert type(vars(fast)["__init__"]).__name__ == "_LazyInit"  # nothing compiled yet
    assert str(inspect.signature(fast)) == str(inspect.signature(standard))
    init = vars(fast)["__init__"]  # the look-up compiled it and put it in the class
    assert inspect.isfunction(init) and init.__qualname__ == "_pair.<locals>.Point.__init__"
    assert init.__annotations__ == standard.__init__.__annotations__
    assert init.__defaults__[0] == "a" and repr(init.__defaults__[1]) == "<factory>"
    assert fast(1).x == 1 and vars(fast)["__init__"] is init


def test_copies_and_pickles_before_and_after_the_first_init():
    fast = _pair(frozen=True)[1]
    blank = fast.__new__(fast)  # an instance that no __init__ made
    for name, value in {"x": 1, "y": "b", "z": [], "hidden": 0.5}.items():
        object.__setattr__(blank, name, value)
    assert type(vars(fast)["__init__"]).__name__ == "_LazyInit"
    assert copy.copy(blank).y == "b" and copy.deepcopy(blank).y == "b"
    assert type(vars(fast)["__init__"]).__name__ == "_LazyInit"  # copies call no __init__
    assert dataclasses.replace(blank, y="c") == fast(1, "c")  # replace() makes one
    assert pickle.loads(pickle.dumps(Picklable(1, (2,)))) == Picklable(1, (2,))
    assert dataclasses.asdict(copy.deepcopy(fast(2))) == {"x": 2, "y": "a", "z": [], "hidden": 0.5}


def test_a_subclass_made_first_puts_the_init_in_the_dataclass():
    fast = _pair()[1]

    class Plain(fast):
        pass

    class Own(fast):
        def __init__(self, x):
            super().__init__(x, "own")

    assert Own(1).y == "own" and Plain(2, "p").y == "p"
    assert inspect.isfunction(vars(fast)["__init__"]) and "__init__" not in vars(Plain)
    assert fast(3).x == 3


@pytest.mark.parametrize(
    "body",
    [
        "x: int = 1\n    y: int",  # no default after a default
        "x: list = []",  # mutable default
        "x = dataclasses.field(default=1)",  # a field without an annotation
    ],
)
def test_errors_as_the_standard_library(body):
    errors = []
    for decorate in (dataclasses.dataclass, records.dataclass):
        space = {"decorate": decorate, "dataclasses": dataclasses, "__name__": __name__}
        with pytest.raises((TypeError, ValueError)) as error:
            exec(f"@decorate\nclass Bad:\n    {body}\n", space)
        errors.append((type(error.value), str(error.value)))
    assert errors[0] == errors[1]


def test_classes_of_one_shape_share_compiled_code_but_not_names():
    @records.dataclass(frozen=True)
    class First:
        a: int
        b: str = "b"
        c: list = dataclasses.field(default_factory=list)

    @records.dataclass(frozen=True)
    class Second:
        left: float
        right: float = 2.0
        rest: dict = dataclasses.field(default_factory=dict)

    first, second = First(1, c=[3]), Second(right=4.0, left=3.0)
    assert (first.a, first.b, first.c) == (1, "b", [3])
    assert (second.left, second.right, second.rest) == (3.0, 4.0, {})
    assert First.__init__.__code__.co_varnames == ("self", "a", "b", "c")
    assert Second.__init__.__code__.co_varnames == ("self", "left", "right", "rest")
    assert "Second.__init__" in getattr(Second.__init__.__code__, "co_qualname", "Second.__init__")
    with pytest.raises(TypeError, match="'left'"):
        Second()


def test_a_mutable_class_and_post_init_as_the_standard_library():
    made = []
    for decorate in (dataclasses.dataclass, records.dataclass):

        @decorate
        class Counted:
            a: int
            items: list = dataclasses.field(default_factory=list)

            def __post_init__(self):
                self.items.append(self.a)

        made.append(Counted)
    standard, fast = made
    assert str(inspect.signature(fast)) == str(inspect.signature(standard))
    assert fast(2).items == standard(2).items == [2]
    assert vars(fast(2, [1])) == vars(standard(2, [1])) == {"a": 2, "items": [1, 2]}
