"""Tables, rows and engine-specific trigger SQL shared by the replsync tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

# Portable DDL: the same text works on MariaDB/MySQL and PostgreSQL.
CURRENCY_DDL = """CREATE TABLE currency (
  code VARCHAR(3) NOT NULL,
  name VARCHAR(100) NOT NULL,
  minor_units INT NULL,
  rate DECIMAL(12,6) NULL,
  introduced DATE NULL,
  updated_at TIMESTAMP NULL,
  active BOOLEAN NOT NULL,
  note TEXT NULL,
  local_note VARCHAR(50) NULL,
  PRIMARY KEY (code))"""
CURRENCY_COLUMNS = (
    "code",
    "name",
    "minor_units",
    "rate",
    "introduced",
    "updated_at",
    "active",
    "note",
    "local_note",
)
SYNCED = ", ".join(CURRENCY_COLUMNS[:-1])  # everything but the excluded local_note

FX_DDL = """CREATE TABLE fx_rate (
  base VARCHAR(3) NOT NULL,
  quote VARCHAR(3) NOT NULL,
  day DATE NOT NULL,
  rate DECIMAL(18,8) NULL,
  source_system VARCHAR(20) NULL,
  UNIQUE (base, quote, day))"""
FX_COLUMNS = ("base", "quote", "day", "rate", "source_system")

ITEM_DDL = "CREATE TABLE item (id INT NOT NULL PRIMARY KEY, label VARCHAR(40) NULL, qty INT NULL)"


def code_of(i: int) -> str:
    return chr(65 + i // 676 % 26) + chr(65 + i // 26 % 26) + chr(65 + i % 26)


def currency_row(i: int, local_note: str | None = None) -> tuple[Any, ...]:
    note = None if i % 5 == 0 else ("" if i % 5 == 1 else f"note {i}; it's \\ fine")
    return (
        code_of(i),
        f"Currency {i}",
        i % 4 if i % 9 else None,
        (Decimal(i) / 7).quantize(Decimal("0.000001")),
        date(2000, 1, 1) + timedelta(days=i),
        datetime(2020, 1, 1, 12, 0, 0) + timedelta(seconds=i * 37),
        i % 3 != 0,
        note,
        local_note if local_note is not None else f"src-{i}",
    )


def fx_rows(
    days: int,
    bases: tuple[str, ...] = ("EUR", "GBP", "USD"),
    quotes: tuple[str, ...] = ("AUD", "CAD", "CHF", "JPY"),
) -> list[tuple[Any, ...]]:
    start = date(2024, 1, 1)
    return [
        (
            b,
            q,
            start + timedelta(days=d),
            Decimal(f"{1 + (d * 7 + len(b + q)) % 97}.12345678"),
            "src",
        )
        for b in bases
        for q in quotes
        for d in range(days)
    ]


def insert_rows(
    stack: Any,
    env: str,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    batch: int = 500,
) -> None:
    """Multi-row INSERTs (fast on both drivers)."""
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for i in range(0, len(rows), batch):
        chunk = rows[i : i + batch]
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([marks] * len(chunk))}"
        stack.execute(env, sql, params=[v for row in chunk for v in row])


# ---------------------------------------------------------------------------- triggers


def counter_trigger(engine: str, table: str) -> list[str]:
    """A ``writes`` table counting every row inserted, updated or deleted in ``table``."""
    base = ["CREATE TABLE writes (n INT NOT NULL)", "INSERT INTO writes VALUES (0)"]
    if engine == "mysql":
        return base + [
            f"CREATE TRIGGER count_{op.lower()} AFTER {op} ON {table} FOR EACH ROW "
            "UPDATE writes SET n = n + 1"
            for op in ("INSERT", "UPDATE", "DELETE")
        ]
    return [
        *base,
        "CREATE FUNCTION count_write() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN UPDATE writes SET n = n + 1; RETURN NULL; END$$",
        f"CREATE TRIGGER count_all AFTER INSERT OR UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION count_write()",
    ]


def failing_trigger(engine: str, table: str, op: str, column: str, value: str) -> list[str]:
    """A trigger that raises when a row with ``column = value`` is inserted/updated."""
    if engine == "mysql":
        return [
            f"CREATE TRIGGER boom BEFORE {op} ON {table} FOR EACH ROW BEGIN "
            f"IF NEW.{column} = '{value}' THEN "
            "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'; END IF; END"
        ]
    return [
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$BEGIN IF NEW.{column} = '{value}' THEN RAISE EXCEPTION 'injected failure'; "
        "END IF; RETURN NEW; END$$",
        f"CREATE TRIGGER boom BEFORE {op} ON {table} FOR EACH ROW EXECUTE FUNCTION boom()",
    ]
