"""Specs that share a folder and a `name:` compile into the same `templates_out/<name>/`,
each overwriting the other's output: say so before it happens."""

from __future__ import annotations

import re
from pathlib import Path

from replgen.errors import Problem, SpecError
from replgen.spec.source import parse

# `name: dbrepl` on a line of its own at the margin: a top-level key in block style (a block
# scalar or flow collection holding such a line would be indented or is not a spec).
_TOP_NAME = re.compile(r"""^name:[ \t]*(['"]?)([a-z][a-z0-9-]*)\1[ \t]*(#.*)?$""", re.MULTILINE)


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
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # not a spec we can read: not ours to judge here
    plain = _TOP_NAME.findall(text)
    if len(plain) == 1:  # the common case, without parsing every sibling on every compile
        return plain[0][1]
    try:
        data, _ = parse(text, str(path))
    except SpecError:
        return None
    return data.get("name") if isinstance(data, dict) else None
