"""Every text field of a spec, found from the spec models (not a hand list), and hostile text
to put in them: Terraform templates (`${...}`) and directives (`%{...}`)."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from replgen.spec.models import Spec

Path = tuple[str | int, ...]


def admits_text(annotation: Any) -> bool:
    """Whether a field's type lets a string in (`str`, `str | None`, `tuple[str, ...]`, ...)."""
    if annotation is str:
        return True
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:  # a choice of words, not text
        return False
    if origin is dict:  # keys are names under patterns (aliases, environments, regions)
        args = args[1:]
    return any(admits_text(a) for a in args if a is not Ellipsis)


def text_fields() -> set[tuple[str, str]]:
    """(model, field) of every field that takes text, in every model a spec can hold."""
    found: set[tuple[str, str]] = set()
    seen: set[type[BaseModel]] = set()

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, info in model.model_fields.items():
            if admits_text(info.annotation):
                found.add((model.__name__, name))
            for inner in _models(info.annotation):
                visit(inner)

    visit(Spec)
    return found


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models(arg)


def is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is tuple:
        return True
    return any(is_list(a) for a in typing.get_args(annotation))


def text_paths(spec: Spec) -> Iterator[tuple[str, str, Path]]:
    """(model, field, path by field name) of every text value in `spec`, and of every text
    field it leaves unset or empty (a value could be written there)."""
    yield from _walk(spec, ())


def _walk(model: BaseModel, path: Path) -> Iterator[tuple[str, str, Path]]:
    for name, info in type(model).model_fields.items():
        value, here = getattr(model, name), (*path, name)
        text = admits_text(info.annotation)
        if text and (value is None or value == ()):
            yield type(model).__name__, name, here
        yield from _values(value, type(model).__name__, name, here, text)


def unset_is_list(spec: Spec, path: Path) -> bool:
    """Whether the field at `path`, unset or empty in `spec`, holds a list of text."""
    owner = get(spec, path[:-1])
    return is_list(type(owner).model_fields[str(path[-1])].annotation)


def _values(
    value: Any, model: str, field: str, path: Path, text: bool
) -> Iterator[tuple[str, str, Path]]:
    if isinstance(value, str) and text:
        yield model, field, path
    elif isinstance(value, BaseModel):
        yield from _walk(value, path)
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _values(item, model, field, (*path, i), text)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _values(item, model, field, (*path, key), text)


def hostile(spec: Spec, path: Path, marker: str) -> str | tuple[str, ...]:
    """The value at `path` with a template and a directive in it, as close to its shape as
    it can be (an address stays `name@host`); a one-item list where an unset field is one."""
    code = f"${{{marker}}}%{{{marker}}}"
    original = get(spec, path)
    if not isinstance(original, str):  # unset or empty
        return (f"x{code}",) if unset_is_list(spec, path) else f"x{code}"
    if "@" in original:
        name, _, host = original.partition("@")
        return f"{name}{code}@{host}"
    return original + code


def get(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part] if isinstance(data, dict | list | tuple) else getattr(data, str(part))
    return data


def put_data(data: Any, path: Path, value: Any) -> None:
    """Set `path` (field names) in a `model_dump(by_alias=True)` document."""
    for part in path[:-1]:
        data = data[ALIASES.get(part, part) if isinstance(part, str) else part]
    last = path[-1]
    data[ALIASES.get(last, last) if isinstance(last, str) else last] = value


def put_model(model: Any, path: Path, value: Any) -> Any:
    """`model` with `path` set to `value`, skipping validation (the plan gets what the spec
    would have refused: the backends must still treat it as text)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(model, BaseModel):
        return model.model_copy(update={head: put_model(getattr(model, str(head)), rest, value)})
    if isinstance(model, tuple):
        items = list(model)
        items[int(head)] = put_model(items[int(head)], rest, value)
        return tuple(items)
    return {**model, head: put_model(model[head], rest, value)}


ALIASES = {"schema_": "schema", "global_": "global"}
