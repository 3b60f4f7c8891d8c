"""What the deploy commands show and ask: change sets, events, pauses, confirmations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import click
from rich.console import Console
from rich.table import Table

from replgen.deploy.changeset import Change, Event


class Ui(Protocol):
    def say(self, message: str) -> None: ...

    def changes(self, stack: str, changes: list[Change]) -> None: ...

    def event(self, stack: str, event: Event) -> None: ...

    def confirm(self, question: str) -> bool: ...

    def resume(self, question: str) -> bool: ...

    def waiting(self, message: str) -> AbstractContextManager[None]: ...


class Terminal:
    """Rich on a terminal; plain lines when piped. `yes` answers every question."""

    def __init__(self, yes: bool) -> None:
        self.console = Console(highlight=False, soft_wrap=True)
        self.yes = yes

    def say(self, message: str) -> None:
        self.console.print(message, markup=False)

    def changes(self, stack: str, changes: list[Change]) -> None:
        table = Table(title=stack, title_justify="left")
        for column in ("action", "resource", "type", "replacement"):
            table.add_column(column)
        for c in changes:
            loud = "[bold red]REPLACE[/]" if c.replaces else ""
            if c.replacement == "Conditional":
                loud = "[bold red]MAY REPLACE[/]"
            table.add_row(c.action, c.resource, c.kind, loud)
        self.console.print(table)
        replaced = [c.resource for c in changes if c.replaces]
        if replaced:
            self.say(f"!! {stack}: {len(replaced)} resource(s) replaced: {', '.join(replaced)}")

    def event(self, stack: str, event: Event) -> None:
        style = "red" if "FAILED" in event.status else "dim"
        reason = f": {event.reason}" if event.reason else ""
        self.console.print(
            f"[{style}]{stack} {event.resource} {event.status}{reason}[/]", highlight=False
        )

    def confirm(self, question: str) -> bool:
        if self.yes:
            return True
        return click.confirm(question, default=False)

    def resume(self, question: str) -> bool:
        """At a pause a human acts: `--yes` never answers for them, the run stops there."""
        if self.yes or not self.console.is_terminal:
            return False
        return click.confirm(question, default=False)

    @contextmanager
    def waiting(self, message: str) -> Iterator[None]:
        if not self.console.is_terminal:
            self.say(f"{message} ...")
            yield
            return
        with self.console.status(message):
            yield
