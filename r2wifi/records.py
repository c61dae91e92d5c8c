"""Records: small value classes for the code ``r2wifi up`` and the chip launcher run, built without generated code.

Why this exists. ``dataclasses.dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` (and, frozen, ``__setattr__``/``__delattr__``) as source text and compiles it: about 10 ms
per frozen class on the board's Cortex-A7 (measured in the board twin: 10.7 ms frozen, 7.1 ms plain, 1 ms
for a class statement), and ``import dataclasses`` brings ``inspect`` (another ~0.1 s). ``up`` made 34
such classes before the chip was on and the launcher 11 more before it powered it: about 0.4 s of a 2.5 s
``up --ap``. :func:`record` gives the same behaviour from shared functions over a per-class field table,
so a class costs little more than a class statement.

Rules.
- Scope: the packages ``up``, ``down``, ``status`` and the launcher import from (``config``, ``logdir``,
  ``wmt``, ``net``, ``service``, ``hostap``). Code that makes many instances in a loop and is compiled by
  mypyc (``logs``, ``diagnose``) keeps ``dataclasses(slots=True)``: a generated ``__init__`` is faster
  per instance, which is what matters there; so do the long-running simulator (``sim``) and the board
  tools (``board``), which start no chip. ``tests/test_records.py`` fails when the start-up path
  imports ``dataclasses`` again.
- Behaviour is the dataclass subset this code uses, with the same results: fields from annotations in
  order (base classes first), defaults, ``field(default=, default_factory=, repr=, compare=)``, a
  mutable default refused, a field without a default after one with a default refused; ``__init__`` with
  positional and keyword arguments and TypeErrors worded as Python's; ``__post_init__``; ``__repr__`` of the
  ``repr`` fields; ``__eq__`` on the same class over the ``compare`` fields; ``frozen=True``: assignment
  raises :class:`FrozenRecordError` (an AttributeError) and instances hash by their compare fields,
  otherwise ``__hash__`` is None; ``__match_args__``. Methods the class defines itself are kept.
- Not supported (refused or absent, never silently different): ``ClassVar``/``InitVar`` fields,
  ``order``, ``slots``, ``kw_only``, ``init=False``.
- The module functions :func:`fields`, :func:`replace`, :func:`asdict`, :func:`is_record` are the
  dataclasses ones for records. Type checkers see a dataclass (PEP 681 ``dataclass_transform``).
- A leaf: it imports only ``typing``, so every layer, even ``wmt.driver``, may import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from collections.abc import Callable

    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object) -> Callable[[Any], Any]:  # type checkers read typing_extensions'
        return lambda f: f


T = TypeVar("T")
_FIELDS = "__record_fields__"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenRecordError(AttributeError):
    """Assignment to a field of a frozen record."""


class Field:
    """One field: its name, annotation (as written), default or default factory, and whether it is shown
    by ``repr`` and compared by ``==``."""

    __slots__ = ("name", "type", "default", "default_factory", "repr", "compare")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True,
                 compare: bool = True) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.type: Any = None
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"


@overload
def field(*, default: T, repr: bool = ..., compare: bool = ...) -> T: ...
@overload
def field(*, default_factory: Callable[[], T], repr: bool = ..., compare: bool = ...) -> T: ...
@overload
def field(*, repr: bool = ..., compare: bool = ...) -> Any: ...
def field(*, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True, compare: bool = True) -> Any:
    """A field with options, as ``dataclasses.field``."""
    return Field(default, default_factory, repr, compare)


def _collect(cls: type) -> tuple[Field, ...]:
    out: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in base.__dict__.get(_FIELDS, ()):
            out[f.name] = f
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        if text.startswith(("ClassVar", "typing.ClassVar", "InitVar", "dataclasses.InitVar")):
            raise TypeError(f"{cls.__name__}.{name}: ClassVar and InitVar fields are not supported by records")
        value = cls.__dict__.get(name, MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        f.name, f.type = name, annotation
        if isinstance(f.default, (list, dict, set)):
            raise ValueError(f"mutable default {type(f.default).__name__} for field {name} is not allowed: "
                             f"use default_factory")
        if f.default is MISSING:
            if name in cls.__dict__:
                delattr(cls, name)  # a bare field(...) leaves no class attribute, as in dataclasses
        else:
            setattr(cls, name, f.default)
        out[name] = f  # a field a base already has keeps its position, as in dataclasses
    fields_ = tuple(out.values())
    seen_default = False
    for f in fields_:
        has_default = f.default is not MISSING or f.default_factory is not MISSING
        if seen_default and not has_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        seen_default = seen_default or has_default
    return fields_


def _make_init(cls: type, fields_: tuple[Field, ...]) -> Callable[..., None]:
    order = tuple(f.name for f in fields_)
    names = frozenset(order)
    count = len(fields_)
    required = sum(1 for f in fields_ if f.default is MISSING and f.default_factory is MISSING)
    takes = f"{count + 1}" if required == count else f"from {required + 1} to {count + 1}"
    post_init = hasattr(cls, "__post_init__")
    setter = object.__setattr__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) == count and not kwargs:  # every field given in order: the common case, kept short
            for name, value in zip(order, args, strict=True):
                setter(self, name, value)
        else:
            if len(args) > count:
                raise TypeError(f"{cls.__name__}.__init__() takes {takes} positional arguments but "
                                f"{len(args) + 1} were given")
            for key in kwargs:
                if key not in names:
                    raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument {key!r}")
            for i, f in enumerate(fields_):
                if i < len(args):
                    if f.name in kwargs:
                        raise TypeError(f"{cls.__name__}.__init__() got multiple values for argument {f.name!r}")
                    value = args[i]
                elif f.name in kwargs:
                    value = kwargs[f.name]
                elif f.default is not MISSING:
                    value = f.default
                elif f.default_factory is not MISSING:
                    value = f.default_factory()
                else:
                    raise TypeError(f"{cls.__name__}.__init__() missing 1 required positional argument: "
                                    f"{f.name!r}")
                setter(self, f.name, value)
        if post_init:
            self.__post_init__()

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _repr(self: Any) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in getattr(self, _FIELDS) if f.repr)
    return f"{type(self).__qualname__}({shown})"


def _key(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, f.name) for f in getattr(self, _FIELDS) if f.compare)


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _key(self) == _key(other)


def _hash(self: Any) -> int:
    return hash(_key(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r}")


def _process(cls: type[T], frozen: bool) -> type[T]:
    fields_ = _collect(cls)
    own = cls.__dict__
    methods: dict[str, Any] = {_FIELDS: fields_, "__init__": _make_init(cls, fields_),
                               "__match_args__": tuple(f.name for f in fields_)}
    if "__repr__" not in own:
        methods["__repr__"] = _repr
    if "__eq__" not in own:
        methods["__eq__"] = _eq
    if "__hash__" not in own or own["__hash__"] is None:  # a class body with __eq__ gets __hash__ = None
        methods["__hash__"] = _hash if frozen else None
    if frozen:
        methods["__setattr__"], methods["__delattr__"] = _frozen_setattr, _frozen_delattr
    for name, value in methods.items():
        setattr(cls, name, value)
    return cls


@overload
def record(cls: type[T], /) -> type[T]: ...
@overload
def record(*, frozen: bool = ...) -> Callable[[type[T]], type[T]]: ...
@dataclass_transform(field_specifiers=(field, Field))
def record(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any:
    """``@record`` or ``@record(frozen=True)``: make ``cls`` a record (the module header says what that is)."""
    if cls is None:
        return lambda c: _process(c, frozen)
    return _process(cls, frozen)


def is_record(obj: object) -> bool:
    """Whether ``obj`` is a record class or instance."""
    return hasattr(obj if isinstance(obj, type) else type(obj), _FIELDS)


def fields(obj: Any) -> tuple[Field, ...]:
    """The fields of a record class or instance, in order."""
    try:
        found: tuple[Field, ...] = getattr(obj if isinstance(obj, type) else type(obj), _FIELDS)
        return found
    except AttributeError:
        raise TypeError("fields() takes a record class or instance") from None


def replace(obj: T, /, **changes: Any) -> T:
    """A new record like ``obj`` with ``changes`` (field name -> value); unknown names raise TypeError."""
    kwargs = {f.name: getattr(obj, f.name) for f in fields(obj)}
    kwargs.update(changes)
    return type(obj)(**kwargs)


def asdict(obj: Any) -> Any:
    """``obj`` as plain data: records become dicts (recursively, also inside lists, tuples and dicts)."""
    if is_record(obj) and not isinstance(obj, type):
        return {f.name: asdict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a named tuple
        return type(obj)(*(asdict(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(asdict(v) for v in obj)
    if isinstance(obj, dict):
        return {asdict(k): asdict(v) for k, v in obj.items()}
    return obj
