"""Backends: pure renderers of a plan, discovered through the `replgen.backends` entry points."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Literal, Protocol

from replgen.plan.model import Plan

Layout = Literal["stacks", "single"]


@dataclass(frozen=True)
class Options:
    layout: Layout = "stacks"


class Backend(Protocol):
    name: str

    def render(self, plan: Plan, options: Options) -> dict[str, bytes]:
        """Relative path -> file content, deterministic for a given plan."""
        ...


def available() -> dict[str, Backend]:
    """Every installed backend, by name (third parties register the same way)."""
    found: dict[str, Backend] = {}
    for entry in entry_points(group="replgen.backends"):
        found[entry.name] = entry.load()
    return dict(sorted(found.items()))
