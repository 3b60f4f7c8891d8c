"""Finding every deploy-time reference inside a piece of the plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from replgen.plan.model import Ref


def refs_in(node: object) -> Iterator[Ref]:
    """Every Ref reachable from `node` through dataclass fields, tuples and Joins."""
    if isinstance(node, Ref):
        yield node
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for field in dataclasses.fields(node):
            yield from refs_in(getattr(node, field.name))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from refs_in(item)
