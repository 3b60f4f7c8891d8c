"""The plan's classes behave as `dataclasses.dataclass(frozen=True)` ones would: equal and
hashed by their fields, the same repr, immutable (plan/frozen.py shares the methods)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from replgen import compiler
from replgen.plan import model

ROOT = Path(__file__).parents[2]
SPECS = ["specs/prod.yaml", "specs/dr.yaml", "tests/specs/valid/everything.yaml"]


def _instances(value: Any) -> Iterator[Any]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        yield value
        for f in dataclasses.fields(value):
            yield from _instances(getattr(value, f.name))
    elif isinstance(value, tuple):
        for item in value:
            yield from _instances(item)


def _twin(instance: Any) -> Any:
    """The same values in a class `dataclasses` made with every method its own."""
    names = [f.name for f in dataclasses.fields(instance)]
    cls = dataclasses.make_dataclass(type(instance).__qualname__, names, frozen=True)
    return cls(**{n: getattr(instance, n) for n in names})


@pytest.fixture(scope="module")
def instances() -> list[Any]:
    found = []
    for spec in SPECS:
        plan = compiler.plan_for(compiler.load_spec(ROOT / spec))
        found += list(_instances(plan))
    return found


def test_every_plan_class_is_made_here() -> None:
    classes = [c for c in vars(model).values() if dataclasses.is_dataclass(c)]
    assert len(classes) > 30
    assert all(c.__eq__ is model.Ref.__eq__ for c in classes)


def test_equal_hashed_and_shown_as_dataclasses_would(instances: list[Any]) -> None:
    kinds = set()
    for instance in instances:
        twin = _twin(instance)
        assert repr(instance) == repr(twin)
        assert hash(instance) == hash(twin)
        copy = dataclasses.replace(instance)
        assert copy == instance and hash(copy) == hash(instance) and copy is not instance
        assert instance != twin  # another class, as with dataclasses
        kinds.add(type(instance))
    assert len(kinds) > 30


def test_a_changed_field_is_another_value_and_fields_stay_put() -> None:
    ref = model.Ref("dev", "vpc", "id")
    assert ref != model.Ref("dev", "vpc", "arn")
    assert len({ref, model.Ref("dev", "vpc", "id"), model.Join((ref,))}) == 2
    assert model.Join((ref,)) == model.Join((model.Ref("dev", "vpc", "id"),))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.attr = "arn"  # type: ignore[misc]
    assert (ref == "dev") is False


def test_a_plan_class_cannot_be_made_mutable() -> None:
    from replgen.plan.frozen import dataclass

    with pytest.raises(TypeError, match="plan classes are frozen"):
        dataclass(frozen=False)
