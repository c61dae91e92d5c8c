"""r2wifi.records: the dataclass behaviour the start-up path relies on, checked against dataclasses itself."""

from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys
from typing import Any, ClassVar

import pytest

from r2wifi import records
from r2wifi.records import FrozenRecordError, field, record


def _pair(frozen: bool) -> tuple[type[Any], type[Any]]:
    """The same class body as a dataclass and as a record."""

    def body() -> type[Any]:
        class Point:
            x: int
            y: int = 2
            tags: list[str] = field(default_factory=list)  # type: ignore[assignment]
            secret: str = field(default="s3cret", repr=False)  # type: ignore[assignment]
            note: str = field(default="", compare=False)  # type: ignore[assignment]

            def norm(self) -> int:
                return abs(self.x) + abs(self.y)

        return Point

    dc = body()
    for name in ("tags", "secret", "note"):  # the dataclasses spelling of the same options
        f = dc.__dict__[name]
        missing = {id(records.MISSING): dataclasses.MISSING}
        setattr(dc, name, dataclasses.field(default=missing.get(id(f.default), f.default),
                                            default_factory=missing.get(id(f.default_factory), f.default_factory),
                                            repr=f.repr, compare=f.compare))
    return dataclasses.dataclass(frozen=frozen)(dc), record(frozen=frozen)(body())


CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((1,), {}), ((1, 3), {}), ((), {"x": 1, "y": 5}), ((1,), {"tags": ["a"]}), ((1, 2, ["t"], "k", "n"), {}),
    ((1,), {"note": "other"}),
]
BAD_CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {}), ((1, 2, [], "s", "n", "extra"), {}), ((1,), {"x": 2}), ((1,), {"z": 0}),
]


@pytest.mark.parametrize("frozen", [False, True])
def test_records_behave_like_dataclasses(frozen: bool) -> None:
    """Construction, defaults, repr, equality, hashing and replace give what dataclasses give."""
    dc, rc = _pair(frozen)
    made = []
    for args, kwargs in CALLS:
        a, b = dc(*args, **kwargs), rc(*args, **kwargs)
        made.append((a, b))
        assert repr(a).split("(", 1)[1] == repr(b).split("(", 1)[1]
        assert "s3cret" not in repr(b)
        assert [(f.name, getattr(b, f.name)) for f in records.fields(b)] == \
            [(f.name, getattr(a, f.name)) for f in dataclasses.fields(a)]
        assert records.asdict(b) == dataclasses.asdict(a)
        assert b.norm() == a.norm()
    for (a1, b1) in made:
        for (a2, b2) in made:
            assert (a1 == a2) == (b1 == b2)
    assert rc(1).tags is not rc(1).tags  # a factory per instance
    assert (rc.__hash__ is None) == (dc.__hash__ is None)
    if frozen:
        assert hash(rc(1, 3, ())) == hash(rc(1, 3, (), note="x")) == hash(dc(1, 3, ()))
        with pytest.raises(FrozenRecordError):
            rc(1).x = 5
        with pytest.raises(AttributeError):
            del rc(1).y
    else:
        b = rc(1)
        b.x = 7
        assert b.x == 7
    assert records.replace(rc(1, tags=["a"]), y=9) == rc(1, 9, ["a"])
    for args, kwargs in BAD_CALLS:
        with pytest.raises(TypeError) as want:
            dc(*args, **kwargs)
        with pytest.raises(TypeError) as got:
            rc(*args, **kwargs)
        assert str(got.value).split("()", 1)[1] == str(want.value).split("()", 1)[1]
    with pytest.raises(TypeError):
        records.replace(rc(1), z=1)
    assert rc.__match_args__ == dc.__match_args__
    b = rc(1, tags=["x"])
    assert copy.deepcopy(b) == b and copy.deepcopy(b).tags is not b.tags


def test_records_refuse_what_dataclasses_refuse() -> None:
    """A mutable default and a field without a default after one with a default are errors at definition."""
    with pytest.raises(ValueError, match="mutable default"):
        @record
        class A:
            items: list[int] = []  # noqa: RUF012

    with pytest.raises(TypeError, match="non-default argument 'b'"):
        @record
        class B:
            a: int = 1
            b: int


def test_records_refuse_classvar_instead_of_treating_it_as_a_field() -> None:
    """ClassVar is not supported: refused at definition, never silently a field."""
    with pytest.raises(TypeError, match="ClassVar"):
        @record
        class C:
            limit: ClassVar[int] = 3


def test_record_inheritance_and_post_init() -> None:
    """A record subclass has its base's fields first; __post_init__ runs after the fields are set."""

    @record
    class Base:
        a: int
        b: int = 2

    @record(frozen=True)
    class Child(Base):
        c: int = 3

        def __post_init__(self) -> None:
            object.__setattr__(self, "c", self.c * 10)

    child = Child(1)
    assert [f.name for f in records.fields(Child)] == ["a", "b", "c"]
    assert (child.a, child.b, child.c) == (1, 2, 30)
    assert records.is_record(Child) and records.is_record(child) and not records.is_record(1)
    with pytest.raises(TypeError):
        records.fields(1)


def test_the_start_up_path_imports_neither_dataclasses_nor_inspect() -> None:
    """What `up`, `down`, `status` and the chip launcher import loads no dataclasses or inspect (records instead)."""
    from r2wifi.service.ap import MODES

    modules = {"r2wifi.cli.main", "r2wifi.cli.up", "r2wifi.cli.down", "r2wifi.cli.status", "r2wifi.service.ap",
               "r2wifi.service.chipops", "r2wifi.service.simfw", "r2wifi.wmt.resident", "r2wifi.wmt.launcher",
               "r2wifi.wmt.protocol", "r2wifi.wmt.loader", "r2wifi.wmt.firmware", "r2wifi.net.regdb",
               "r2wifi.net.nl80211", "r2wifi.backends", "r2wifi.logdir"}
    for steps in MODES.values():
        modules.update(steps.prefetch)
    code = ("import importlib, sys\n"
            f"for m in {sorted(modules)!r}: importlib.import_module(m)\n"
            "print(' '.join(m for m in ('dataclasses', 'inspect') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_records_is_a_leaf_every_layer_may_import() -> None:
    """r2wifi.records imports no other r2wifi module (wmt.driver, which imports nothing else, uses it)."""
    code = ("import sys, r2wifi.records\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('r2wifi'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["r2wifi", "r2wifi.accel", "r2wifi.records"]  # the package's own __init__
