"""Backends: pure renderers of a plan, discovered through the `replgen.backends` entry points."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Literal, Protocol

from replgen.plan.model import Plan

Layout = Literal["stacks", "single"]

# replgen's own backends, as pyproject.toml declares their entry points (a test holds the
# two equal): naming one needs no entry-point lookup, which reads the metadata of every
# installed distribution (a compile made three). `all` and third parties still look.
BUILTIN = {
    "cloudformation": "replgen.backends.cloudformation:BACKEND",
    "cdktf": "replgen.backends.cdktf:BACKEND",
}


class Unavailable(Exception):
    """A backend that cannot run on this machine (a missing extra, a missing runtime)."""


class Unsupported(Exception):
    """An option the topology cannot have (`--layout single` across accounts): the user's
    to change. Anything else a backend raises is a bug."""


def _quiet(message: str) -> None:
    pass


@dataclass(frozen=True)
class Options:
    layout: Layout = "stacks"
    # Told what a slow step is doing (loading bindings, synthesising); the CLI shows it.
    progress: Callable[[str], None] = field(default=_quiet, compare=False)
    # The compile arguments (spec, --out) relative to the output folder, for tools that
    # re-run the compile from there (cdktf.json's `app`).
    recompile: str = ""


class Backend(Protocol):
    name: str

    def render(self, plan: Plan, options: Options) -> dict[str, bytes]:
        """Relative path -> file content, deterministic for a given plan. replgen's own
        backends return a `provenance.Rendered`: the files, and the plan component each
        resource in them was rendered for."""
        ...


def available() -> dict[str, Backend]:
    """Every installed backend, by name (third parties register the same way)."""
    found: dict[str, Backend] = {}
    for entry in entry_points(group="replgen.backends"):
        found[entry.name] = entry.load()
    return dict(sorted(found.items()))


def builtin(name: str) -> Backend:
    """One of replgen's own backends, imported directly."""
    backend: Backend = EntryPoint(name, BUILTIN[name], "replgen.backends").load()
    return backend
