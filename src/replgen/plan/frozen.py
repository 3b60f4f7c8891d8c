"""The plan's frozen dataclasses, made for less: shared __eq__, __hash__ and __repr__.

`dataclasses` compiles each generated method from source text, one `exec` apiece: six for a
frozen class, most of the ~1 ms a class costs, paid on every compile for the plan's ~40
classes. Here `__init__`, `__setattr__` and `__delattr__` are generated as usual; equality,
hashing and repr are three shared functions with dataclasses' meaning (the tuple of the
fields, for instances of the very same class). `plan/model.py` imports `dataclass` from here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def dataclass(*, frozen: bool = True) -> Callable[[type[T]], type[T]]:
    """`dataclasses.dataclass(frozen=True)`, with the shared methods."""
    if not frozen:
        raise TypeError("plan classes are frozen")

    def make(cls: type[T]) -> type[T]:
        made = dataclasses.dataclass(frozen=True, eq=False, repr=False)(cls)
        fields = dataclasses.fields(made)  # type: ignore[arg-type]
        names = tuple(f.name for f in fields if f.compare)  # hash=None: as compare
        made._values = staticmethod(_values(names))  # type: ignore[attr-defined]
        made.__eq__ = _eq  # type: ignore[method-assign]
        made.__hash__ = _hash  # type: ignore[method-assign]
        made.__repr__ = _repr  # type: ignore[method-assign]
        return made

    return make


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) == 1:  # attrgetter of one name gives the value, not a tuple
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return attrgetter(*names) if names else lambda self: ()


def _eq(self: Any, other: Any) -> Any:  # bool, or NotImplemented for another class
    if other.__class__ is not self.__class__:
        return NotImplemented
    return self._values(self) == other._values(other)


def _hash(self: Any) -> int:
    return hash(self._values(self))


def _repr(self: Any) -> str:
    fields = ", ".join(
        f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr
    )
    return f"{type(self).__qualname__}({fields})"
