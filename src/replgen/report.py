"""Problems as the user sees them: located, in file order, as text lines or one JSON document.

Colour is for people at a terminal: click drops the styles when the stream is not a
terminal, and `NO_COLOR` turns them off everywhere.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from replgen.errors import Problem, SpecError, dotted
from replgen.spec.source import Source


@dataclass(frozen=True)
class Located:
    file: str
    line: int
    column: int
    path: str
    message: str

    def text(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"

    def styled(self) -> str:
        where = click.style(f"{self.file}:{self.line}:{self.column}:", bold=True)
        return f"{where} {click.style(self.path, fg='cyan')}: {self.message}"


def locate(problems: list[Problem] | tuple[Problem, ...], source: Source) -> list[Located]:
    """Each problem at its line, sorted as they appear in the file."""
    out = []
    for p in problems:
        mark = source.where(p)
        out.append(Located(source.filename, mark.line, mark.column, dotted(p.path), p.message))
    return sorted(out, key=lambda x: (x.line, x.column))


def of_error(exc: SpecError, spec: Path | None) -> list[Located]:
    source = exc.source if isinstance(exc.source, Source) else None
    return locate(exc.problems, source or Source(str(spec) if spec else "replgen"))


def colour() -> bool | None:
    """None lets click decide (a terminal gets colour); NO_COLOR says never."""
    return False if os.environ.get("NO_COLOR") else None


def echo_problems(located: list[Located], warning: bool = False) -> None:
    """One line per problem on stderr; warnings say so first."""
    label = click.style("warning:", fg="yellow", bold=True) + " " if warning else ""
    for item in located:
        click.echo(label + item.styled(), err=True, color=colour())


def as_json(valid: bool, problems: list[Located], warnings: list[Located]) -> str:
    return json.dumps(
        {
            "valid": valid,
            "problems": [asdict(p) for p in problems],
            "warnings": [asdict(w) for w in warnings],
        },
        indent=2,
    )
