"""Compare two schemas and produce the DDL that makes the target match the source.

Additive DDL loses nothing and is applied unless ``dry_run``: new tables, new columns, new
indexes, a NOT NULL dropped, a default set or changed. Destructive DDL is only reported: drops
of tables, columns and indexes, type changes, NOT NULL added, primary-key changes and indexes
whose definition changed. Order: tables, columns, indexes (additive); indexes, columns,
tables (destructive), so each list runs top to bottom.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from replsync.catalog import Column, Schema, Table
from replsync.connect import close_quietly
from replsync.dialect import Connection, Dialect
from replsync.errors import SchemaDiffFailed
from replsync.observe import log
from replsync.policy import source_and_target
from replsync.runtime import Request, Runtime


@dataclass
class SchemaDiff:
    additive: list[str] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)


def diff_schemas(dialect: Dialect, source: Schema, target: Schema) -> SchemaDiff:
    out = SchemaDiff()
    new_tables = [t for name, t in source.tables.items() if name not in target.tables]
    out.additive.extend(dialect.create_table(t) for t in new_tables)
    for name, table in source.tables.items():
        if name in target.tables:
            _diff_table(dialect, table, target.tables[name], out)
    _diff_indexes(dialect, source, target, out)
    out.destructive.extend(
        dialect.drop_table(name) for name in target.tables if name not in source.tables
    )
    return out


def _diff_table(dialect: Dialect, src: Table, tgt: Table, out: SchemaDiff) -> None:
    for column in src.columns:
        old = tgt.column(column.name)
        if old is None:
            out.additive.append(dialect.add_column(src.name, column))
        else:
            _diff_column(dialect, src.name, old, column, out)
    if src.primary_key != tgt.primary_key:
        out.destructive.extend(dialect.replace_primary_key(tgt, src.primary_key))
    out.destructive.extend(
        dialect.drop_column(src.name, c.name) for c in tgt.columns if src.column(c.name) is None
    )


def _diff_column(dialect: Dialect, table: str, old: Column, new: Column, out: SchemaDiff) -> None:
    changed = set()
    if (old.type, old.extra, old.generated) != (new.type, new.extra, new.generated):
        changed.add("type")
    if old.nullable != new.nullable:
        changed.add("nullable")
    if old.default != new.default:
        changed.add("default")
    if not changed:
        return
    # Tightening NOT NULL or changing a type can fail or lose data: report only.
    destructive = "type" in changed or ("nullable" in changed and not new.nullable)
    (out.destructive if destructive else out.additive).extend(
        dialect.alter_column(table, old, new, changed)
    )


def _diff_indexes(dialect: Dialect, source: Schema, target: Schema, out: SchemaDiff) -> None:
    drops = []
    for key, index in source.indexes.items():
        existing = target.indexes.get(key)
        if existing is None:
            out.additive.append(dialect.create_index(index))
        elif existing.signature != index.signature:
            drops.append(dialect.drop_index(existing))
            out.destructive.append(dialect.create_index(index))
    drops.extend(
        dialect.drop_index(index)
        for key, index in target.indexes.items()
        if key not in source.indexes and key[0] in source.tables
    )
    # Indexes go before the column and table drops that come after them.
    out.destructive[:0] = drops


def apply_ddl(dialect: Dialect, conn: Connection, statements: list[str]) -> list[str]:
    """Run the additive DDL; on PostgreSQL all-or-nothing, on MySQL each statement commits."""
    applied: list[str] = []
    cur = conn.cursor()
    try:
        for statement in statements:
            cur.execute(statement)
            applied.append(statement)
        conn.commit()
    except Exception as exc:
        conn.rollback()
        kept = [] if dialect.transactional_ddl else applied
        raise SchemaDiffFailed(
            f"applying DDL failed: {exc}", applied=kept, failed_statement=statement
        ) from exc
    return applied


def read_schema(dialect: Dialect, conn: Connection) -> Schema:
    schema = dialect.read_schema(conn.cursor())
    conn.rollback()
    return schema


def schema_diff(request: Request, runtime: Runtime) -> dict[str, Any]:
    """The ``schema_diff`` action."""
    source, target = source_and_target(runtime.config, request)
    dialect = runtime.dialect
    started = time.monotonic()
    src_conn = tgt_conn = None
    try:
        src_conn = runtime.connector.open(source.name)
        tgt_conn = runtime.connector.open(target.name)
        diff = diff_schemas(dialect, read_schema(dialect, src_conn), read_schema(dialect, tgt_conn))
        applied = [] if request.dry_run else apply_ddl(dialect, tgt_conn, diff.additive)
    finally:
        close_quietly(src_conn)
        close_quietly(tgt_conn)
    log(
        "info",
        "schema_diff_done",
        source=source.name,
        target=target.name,
        dry_run=request.dry_run,
        additive=len(diff.additive),
        destructive=len(diff.destructive),
        applied=len(applied),
        seconds=round(time.monotonic() - started, 3),
    )
    return {
        "status": "ok",
        "action": "schema_diff",
        "source": source.name,
        "target": target.name,
        "dry_run": request.dry_run,
        "additive": diff.additive,
        "destructive": diff.destructive,
        "applied": applied,
    }
