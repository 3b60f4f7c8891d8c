"""Specs that share a folder and a `name:` compile into the same `templates_out/<name>/`,
each overwriting the other's output: say so before it happens."""

from __future__ import annotations

from pathlib import Path

from replgen.errors import Problem, SpecError
from replgen.spec.source import parse


def same_name(path: Path, name: str) -> list[Problem]:
    """A warning (at `name:`) for each other spec beside `path` with the same name."""
    found = []
    for other in sorted(path.parent.glob("*.y*ml")):
        if other.suffix not in (".yaml", ".yml") or other.resolve() == path.resolve():
            continue
        if _name_of(other) == name:
            message = (
                f"{other} has the same name {name!r}: both compile into "
                f"templates_out/{name}/ and overwrite each other's output"
            )
            found.append(Problem(("name",), message))
    return found


def _name_of(path: Path) -> object:
    try:
        data, _ = parse(path.read_text("utf-8"), str(path))
    except (SpecError, OSError, UnicodeDecodeError):
        return None  # not a spec we can read: not ours to judge here
    return data.get("name") if isinstance(data, dict) else None
