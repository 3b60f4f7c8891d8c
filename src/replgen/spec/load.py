"""Read a spec file into a validated `Spec`, or a `SpecError` whose problems have positions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from replgen.errors import KeyPath, Problem, SpecError
from replgen.spec import models, rules
from replgen.spec.source import Source, parse

# What a pattern means, in words a user can act on.
PATTERN_WORDS = {
    models.NAME: "lowercase letters, digits and hyphens, starting with a letter",
    models.IDENTIFIER: "an SQL identifier (letters, digits, _ and $, not starting with a digit)",
    models.EMAIL: "an email address",
    models.SCHEDULE: "an EventBridge schedule: rate(N minutes|hours|days) or cron(...)",
    r"^\d{12}$": "a 12-digit AWS account id",
}


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
    try:
        spec = models.Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecError([_problem(e) for e in exc.errors()]) from None
    problems = rules.check(spec)
    if problems:
        raise SpecError(problems)
    return Loaded(spec, source, tuple(rules.runtime_warnings(spec)))


def _problem(error: ErrorDetails) -> Problem:
    path: KeyPath = tuple(p for p in error["loc"] if not _is_union_tag(p))
    kind = error["type"]
    if kind == "extra_forbidden":
        return Problem(path, _unknown_key(str(path[-1])))
    if kind == "missing":
        return Problem(path, "required key is missing")
    if kind == "string_pattern_mismatch":
        pattern = str((error.get("ctx") or {}).get("pattern", ""))
        words = PATTERN_WORDS.get(pattern, f"the pattern {pattern}")
        return Problem(path, f"{error['input']!r} is not {words}")
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind not in {"value_error", "assertion_error"} and not isinstance(error["input"], dict):
        message += f" (got {error['input']!r})"
    return Problem(path, message)


def _is_union_tag(part: str | int) -> bool:
    # pydantic names union branches in locations (`tuple[...]`, `str`); users never wrote those.
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float"})


def _all_keys() -> set[str]:
    keys: set[str] = set()
    for obj in vars(models).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            keys.update(info.alias or name for name, info in obj.model_fields.items())
    return keys


def _unknown_key(key: str) -> str:
    close = difflib.get_close_matches(key, sorted(_all_keys()), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r}{hint}"
