"""Engine-neutral description of a schema, as read from information_schema / pg_catalog."""

from __future__ import annotations

from dataclasses import dataclass, field

HISTORY_TABLE = "replgen_schema_history"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the engine's full type text: "varchar(3)", "numeric(12,2)", "int(11)"
    nullable: bool
    default: str | None = None  # SQL expression text, None when there is no default
    extra: str = ""  # auto_increment / identity / on update ...: compared like the type
    generated: str | None = None  # generation expression of a computed column

    @property
    def writable(self) -> bool:
        """Computed columns cannot be written; they follow from the others."""
        return self.generated is None


@dataclass(frozen=True)
class Index:
    table: str
    name: str
    unique: bool
    columns: tuple[str, ...]
    definition: str = ""  # full CREATE INDEX text where the engine gives one (PostgreSQL)

    @property
    def signature(self) -> str:
        """What must be equal for two same-named indexes to be the same index."""
        return self.definition or f"{'UNIQUE ' if self.unique else ''}({', '.join(self.columns)})"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    primary_key_name: str | None = None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Schema:
    tables: dict[str, Table] = field(default_factory=dict)
    indexes: dict[tuple[str, str], Index] = field(default_factory=dict)  # (table, name)
