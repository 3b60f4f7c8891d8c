"""Errors a user can act on, as opposed to bugs (which stay tracebacks, exit 1)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

KeyPath = tuple[str | int, ...]


def dotted(path: KeyPath) -> str:
    """`environments.dev.cidr`, `peering[0][1]`: the form users see in messages.

    A key that is not a plain name (spaces, dots, colons) is quoted, so the path stays one
    word in `file:line:col: path: message`.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not re.fullmatch(r"[A-Za-z0-9_/$-]+", part):
            out += "[" + json.dumps(part).replace(" ", "\\u0020") + "]"
        else:
            out += f".{part}" if out else part
    return out or "(document)"


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in a spec file."""

    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec, located by its key path (or, rarely, an explicit mark)."""

    path: KeyPath
    message: str
    mark: Mark | None = None


class SpecError(Exception):
    """A spec the user must fix; carries every problem found."""

    def __init__(self, problems: list[Problem], source: Any = None) -> None:
        super().__init__("; ".join(f"{dotted(p.path)}: {p.message}" for p in problems))
        self.problems = problems
        self.source = source  # the spec's Source, where the error is about a spec file


class UsageError(Exception):
    """A command line that cannot work (an unknown backend, an impossible layout): the
    spec file is not to blame. `param` names the option at fault, when one is."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def fail(path: KeyPath, message: str) -> SpecError:
    return SpecError([Problem(path, message)])
