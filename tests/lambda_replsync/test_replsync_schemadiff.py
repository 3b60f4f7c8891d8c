"""schema_diff against real servers (both engines)."""

from __future__ import annotations

from typing import Any

from replsync.dialect import get_dialect
from replsync_stack import Stack

SOURCE = [
    "CREATE TABLE a (id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL, "
    "code VARCHAR(5) NULL, price DECIMAL(10,2) NULL, status VARCHAR(10) DEFAULT 'new', "
    "added INT NULL)",
    "CREATE INDEX a_name_idx ON a (name)",
    "CREATE TABLE newtab (id INT NOT NULL PRIMARY KEY, label VARCHAR(10) DEFAULT 'x' NOT NULL)",
    "CREATE UNIQUE INDEX newtab_label ON newtab (label)",
]
TARGET = [
    "CREATE TABLE a (id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NULL, "
    "code VARCHAR(5) NOT NULL, price DECIMAL(8,2) NULL, status VARCHAR(10) NULL, legacy INT)",
    "CREATE INDEX a_legacy_idx ON a (legacy)",
    "CREATE TABLE oldtab (id INT)",
    "CREATE TABLE replgen_schema_history (version VARCHAR(64))",  # never diffed
]


def schema(stack: Stack, env: str) -> Any:
    dialect = get_dialect(stack.engine)
    return dialect.read_schema(stack.conn(env).cursor())


def setup(stack: Stack) -> None:
    stack.execute("dev", *SOURCE)
    stack.execute("staging", *TARGET)


def find(statements: list[str], *words: str) -> list[str]:
    return [s for s in statements if all(w in s for w in words)]


def test_additive_applied_destructive_reported(stack: Stack) -> None:
    setup(stack)

    response = stack.invoke(action="schema_diff", source="dev", target="staging")

    additive, destructive = response["additive"], response["destructive"]
    assert response["applied"] == additive
    assert additive[0].startswith("CREATE TABLE") and "newtab" in additive[0]
    assert find(additive, "ADD COLUMN", "added")
    assert find(additive, "INDEX", "a_name_idx")
    assert find(additive, "UNIQUE INDEX", "newtab_label")
    assert find(additive, "code")  # NOT NULL dropped: loosening is safe
    assert find(additive, "status", "new")  # default set
    assert find(destructive, "DROP TABLE", "oldtab")
    assert find(destructive, "DROP COLUMN", "legacy")
    assert find(destructive, "DROP INDEX", "a_legacy_idx")
    assert find(destructive, "price")  # type change
    assert find(destructive, "name", "NOT NULL")  # tightening
    assert not find(additive + destructive, "replgen_schema_history")
    assert not [s for s in additive for w in ("DROP TABLE", "DROP COLUMN", "DROP INDEX") if w in s]

    after = schema(stack, "staging")
    assert "newtab" in after.tables and after.tables["a"].column("added") is not None
    assert ("a", "a_name_idx") in after.indexes and ("newtab", "newtab_label") in after.indexes
    assert after.tables["a"].column("code").nullable
    assert "new" in (after.tables["a"].column("status").default or "")
    # Destructive changes were only reported.
    assert "oldtab" in after.tables and after.tables["a"].column("legacy") is not None
    assert after.tables["a"].column("name").nullable

    # Re-running finds nothing additive; applying the reported destructive DDL by hand
    # makes the schemas identical (so the generated DDL is valid and complete).
    again = stack.invoke(action="schema_diff", source="dev", target="staging")
    assert again["additive"] == [] and sorted(again["destructive"]) == sorted(destructive)
    stack.execute("staging", *destructive)
    final = stack.invoke(action="schema_diff", source="dev", target="staging", dry_run=True)
    assert (final["additive"], final["destructive"]) == ([], [])
    assert schema(stack, "staging").tables == schema(stack, "dev").tables


def test_dry_run_changes_nothing(stack: Stack) -> None:
    setup(stack)
    before = schema(stack, "staging")

    response = stack.invoke(action="schema_diff", source="dev", target="staging", dry_run=True)

    assert response["applied"] == [] and response["additive"]
    assert schema(stack, "staging") == before


def test_new_table_then_sync_works(stack: Stack) -> None:
    """schema_diff creates a reference table that sync can then fill."""
    stack.execute(
        "dev",
        "CREATE TABLE country (iso CHAR(2) NOT NULL PRIMARY KEY, "
        "name VARCHAR(50) NOT NULL, eu BOOLEAN DEFAULT FALSE)",
        "INSERT INTO country VALUES ('FR', 'France', TRUE), ('NO', 'Norway', FALSE)",
    )
    stack.set_tables([{"name": "country"}])

    stack.invoke(action="schema_diff", source="dev", target="staging")
    response = stack.invoke(action="sync_reference_data", source="dev", target="staging")

    assert response["tables"][0]["inserted"] == 2
    assert stack.query("staging", "SELECT iso, name FROM country ORDER BY iso") == [
        ("FR", "France"),
        ("NO", "Norway"),
    ]


def test_schema_diff_refuses_backwards(stack: Stack) -> None:
    response = stack.invoke(action="schema_diff", source="staging", target="dev")
    assert response["status"] == "refused"
