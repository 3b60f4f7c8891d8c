"""Read a spec file into a validated `Spec`, or a `SpecError` whose problems have positions.

Every independent mistake is reported in one run: when the models refuse some values,
those values are pruned and the whole-document rules still run over the rest; a rule's
finding that only follows from a pruned value (a reference to an environment that was
dropped, a setting now missing) is not reported twice.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from replgen.errors import KeyPath, Problem, SpecError
from replgen.spec import models, rules
from replgen.spec.messages import data_path, is_section, sentence
from replgen.spec.source import Source, parse

# Pruning stops after this many rounds: each round removes at least one value.
MAX_ROUNDS = 25
NAMED_SECTIONS = ("accounts", "environments")


@dataclass(frozen=True)
class Loaded:
    spec: models.Spec
    source: Source
    warnings: tuple[Problem, ...]


def load(path: Path, display_name: str | None = None) -> Loaded:
    """Parse and validate a spec; raises SpecError (with file positions) on any mistake."""
    name = display_name or str(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem((), f"cannot read spec: {exc}")]) from None
    data, source = parse(text, name)
    return validate(data, source)


def validate(data: Any, source: Source) -> Loaded:
    problems = list(source.problems)
    pruned: list[KeyPath] = []
    try:
        spec: models.Spec | None = models.Spec.model_validate(data)
    except ValidationError as exc:
        problems += [Problem(data_path(e), sentence(e, source)) for e in exc.errors()]
        spec, pruned = _repaired(data, exc)
    if spec is not None:
        problems += [p for p in rules.check(spec) if not _follows(p, pruned)]
    if problems:
        raise SpecError(_unique(problems))
    assert spec is not None
    return Loaded(spec, source, tuple(rules.runtime_warnings(spec)))


def _repaired(data: Any, exc: ValidationError) -> tuple[models.Spec | None, list[KeyPath]]:
    """The spec without the values the models refused, and the paths removed; None when
    nothing valid is left (the document itself is the wrong shape)."""
    data = copy.deepcopy(data)
    pruned: list[KeyPath] = []
    for _ in range(MAX_ROUNDS):
        for error in exc.errors():
            path = data_path(error)
            # A missing key cannot be removed: its mapping goes instead.
            path = path[:-1] if error["type"] == "missing" else path
            if not path or not _remove(data, path):
                return None, pruned
            pruned.append(path)
        try:
            return models.Spec.model_validate(data), pruned
        except ValidationError as again:
            exc = again
    return None, pruned


def _remove(data: Any, path: KeyPath) -> bool:
    parent = data
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return True  # already gone with an ancestor
    last = path[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        del parent[last]
    else:
        return False
    return True


def _follows(problem: Problem, pruned: list[KeyPath]) -> bool:
    """True when a rule's finding is a consequence of a value already reported and pruned."""
    for path in pruned:
        n = min(len(path), len(problem.path))
        if path[:n] == problem.path[:n]:
            return True  # about the pruned value, inside it, or about what holds it
        if problem.message.startswith("missing") and _section(path) & set(problem.path):
            return True  # a database or network setting removed shows up as missing
        if len(path) == 2 and path[0] in NAMED_SECTIONS and _names(problem, str(path[1])):
            return True  # a reference to an account or environment that was removed
        if len(path) == 1 and is_section(path) and str(path[0]) in problem.message:
            return True  # a whole section was refused; what needs it is not news
        if path[0] == "peering" and "is not peered" in problem.message:
            return True  # the pair that would have connected it was refused
    return False


def _section(path: KeyPath) -> set[str | int]:
    return {p for p in path if p in ("database", "network")}


def _names(problem: Problem, name: str) -> bool:
    # Case-insensitively: `Dev:` is refused as a name, and `dev` elsewhere meant it.
    quoted = [q.lower() for q in re.findall(r"'([^']*)'", problem.message)]
    return any(q == name.lower() or q.startswith(f"{name.lower()}/") for q in quoted)


def _unique(problems: list[Problem]) -> list[Problem]:
    """Each problem once: a shared default is checked once per environment."""
    seen: set[tuple[KeyPath, str]] = set()
    out: list[Problem] = []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out
