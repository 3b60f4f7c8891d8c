"""Make reference tables on a target equal to the source, writing only what differs.

Search, all of it in the databases (only checksums and digests cross the wire):

1. Split the source table into ranges of ``chunk_rows`` keys (``(lo, hi]`` in key order; the
   boundary keys come from the source; the first and last ranges are open-ended so keys that
   exist only on the target are covered too).
2. Checksum every range on both sides at once (two connections, two threads): ``COUNT(*)``
   plus an aggregate of a NULL-safe per-row hash (see ``Dialect.range_checksum``).
3. Split each differing range into ``fanout`` sub-ranges and repeat (bisection), until a
   range holds at most ``leaf_rows`` source rows, or until most ranges of a level differ and
   they hold at most ``leaf_rows * fanout`` rows (then splitting further would cost more
   queries than it saves rows).
4. For the remaining ranges fetch the set of per-row MD5 digests as one string per range
   (``GROUP_CONCAT`` / ``string_agg``: one value on the wire instead of one row per row); the
   digests found on one side only are looked up with their keys; full rows are fetched only
   for the keys to insert or update.
5. Apply deletes, updates and inserts in ONE target transaction (rolled back on any error).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from replsync.catalog import Column, Table
from replsync.config import SyncSettings, TableSpec
from replsync.connect import close_quietly, with_retry
from replsync.dialect import Connection, Dialect, Key
from replsync.errors import ReplsyncError, SyncFailed
from replsync.observe import emit_metrics, log
from replsync.policy import check_sync
from replsync.runtime import Request, Runtime

Bounds = tuple[Key | None, Key | None]
DIGEST_LEN = 32  # hex digits of an MD5


@dataclass(frozen=True)
class TablePlan:
    """What to compare: the table, its sync key and the columns read and written."""

    table: str
    keys: tuple[str, ...]
    columns: tuple[Column, ...]  # synced columns (key columns included), source order

    @property
    def value_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.name not in self.keys)

    @property
    def key_positions(self) -> tuple[int, ...]:
        names = [c.name for c in self.columns]
        return tuple(names.index(k) for k in self.keys)


@dataclass
class Range:
    lo: Key | None  # exclusive; None = unbounded
    hi: Key | None  # inclusive; None = unbounded
    path: tuple[int, ...]  # position in the bisection tree: sorting by it sorts by key
    source_rows: int = 0
    target_rows: int = 0


@dataclass
class Changes:
    inserts: list[tuple[Any, ...]] = field(default_factory=list)  # full source rows
    updates: list[tuple[Any, ...]] = field(default_factory=list)  # full source rows
    deletes: list[Key] = field(default_factory=list)
    unchanged: int = 0

    @property
    def total(self) -> int:
        return len(self.inserts) + len(self.updates) + len(self.deletes)


@dataclass(frozen=True)
class TableResult:
    name: str
    inserted: int
    updated: int
    deleted: int
    unchanged: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "inserted": self.inserted,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "seconds": round(self.seconds, 3),
        }


# ============================================================================ planning


def plan_table(
    dialect: Dialect, source: Table | None, target: Table | None, spec: TableSpec
) -> TablePlan:
    """Validate the two catalogs against the spec and decide keys and columns."""
    if source is None:
        raise SyncFailed(f"table {spec.name} does not exist in the source", table=spec.name)
    if target is None:
        raise SyncFailed(
            f"table {spec.name} does not exist in the target (run schema_diff)", table=spec.name
        )
    keys = spec.key or source.primary_key
    if not keys:
        raise SyncFailed(f"table {spec.name} has no primary key: configure a key", table=spec.name)
    if set(keys) & set(spec.exclude_columns):
        raise SyncFailed(f"table {spec.name}: key columns cannot be excluded", table=spec.name)
    columns = []
    for column in source.columns:
        if column.name in spec.exclude_columns or not column.writable:
            continue
        other = target.column(column.name)
        if other is None or not other.writable:
            raise SyncFailed(
                f"table {spec.name}: column {column.name} missing on the target (run schema_diff)",
                table=spec.name,
            )
        # One hash expression for both sides: NULL-tolerant if either side allows NULL.
        columns.append(
            Column(column.name, column.type, column.nullable or other.nullable, extra=other.extra)
        )
    missing = [k for k in keys if k not in {c.name for c in columns}]
    if missing:
        raise SyncFailed(f"table {spec.name}: key columns {missing} not found", table=spec.name)
    return TablePlan(spec.name, tuple(keys), tuple(columns))


# ============================================================================ one side


class Side:
    """One table on one connection: the queries the search needs."""

    def __init__(self, dialect: Dialect, conn: Connection, plan: TablePlan) -> None:
        self.d = dialect
        self.conn = conn
        self.plan = plan
        self.table = dialect.quote(plan.table)
        self.key_list = dialect.column_list(plan.keys)
        self.checksum_sql = dialect.range_checksum(plan.columns)
        self.digest_sql = dialect.row_digest(plan.columns)
        self.digest_list_sql = dialect.digest_list(plan.columns)

    def where(self, lo: Key | None, hi: Key | None) -> tuple[str, list[Any]]:
        terms, params = [], []
        for op, bound in ((">", lo), ("<=", hi)):
            if bound is not None:
                sql, values = self.d.compare(self.plan.keys, op, bound)
                terms.append(sql)
                params.extend(values)
        return (" WHERE " + " AND ".join(terms)) if terms else "", params

    def next_boundary(self, lo: Key | None, hi: Key | None, step: int) -> Key | None:
        """The key ``step`` rows after ``lo`` (within ``hi``), or None if there is none."""
        where, params = self.where(lo, hi)
        cur = self.conn.cursor()
        cur.execute(
            f"SELECT {self.key_list} FROM {self.table}{where} "
            f"ORDER BY {self.key_list} LIMIT 1 OFFSET {int(step) - 1}",
            params,
        )
        row = cur.fetchone()
        cur.fetchall()
        return tuple(row) if row else None

    def boundaries(
        self, lo: Key | None, hi: Key | None, step: int, max_parts: int | None = None
    ) -> list[Key]:
        """Keys cutting (lo, hi] into ranges of ``step`` source rows."""
        out: list[Key] = []
        cursor = lo
        while max_parts is None or len(out) < max_parts - 1:
            bound = self.next_boundary(cursor, hi, step)
            if bound is None or bound == hi:
                break
            out.append(bound)
            cursor = bound
        return out

    def checksums(self, ranges: Sequence[Range]) -> list[tuple[int, Any]]:
        cur = self.conn.cursor()
        out = []
        for r in ranges:
            where, params = self.where(r.lo, r.hi)
            cur.execute(f"SELECT {self.checksum_sql} FROM {self.table}{where}", params)
            count, aggregate = cur.fetchone()
            out.append((int(count), aggregate))
        return out

    def digest_sets(self, batches: Sequence[Bounds]) -> list[set[str] | None]:
        """Per range, the set of its row digests; None where the server cut the list short
        (group_concat_max_len): the caller then reads that range row by row."""
        cur = self.conn.cursor()
        out: list[set[str] | None] = []
        for lo, hi in batches:
            where, params = self.where(lo, hi)
            cur.execute(f"SELECT COUNT(*), {self.digest_list_sql} FROM {self.table}{where}", params)
            count, blob = cur.fetchone()
            text = blob.decode() if isinstance(blob, bytes) else (blob or "")
            if len(text) != DIGEST_LEN * int(count):
                out.append(None)
                continue
            out.append({text[i : i + DIGEST_LEN] for i in range(0, len(text), DIGEST_LEN)})
        return out

    def keyed_digests(
        self, lo: Key | None, hi: Key | None, only: set[str] | None
    ) -> dict[Key, str]:
        """key -> digest of the range's rows; just the rows whose digest is in ``only``."""
        where, params = self.where(lo, hi)
        sql = f"SELECT {self.key_list}, {self.digest_sql} FROM {self.table}{where}"
        cur = self.conn.cursor()
        out: dict[Key, str] = {}
        nkeys = len(self.plan.keys)
        groups: list[Sequence[str]] = [[]] if only is None else list(_chunks(sorted(only), 1000))
        for group in groups:
            if group:
                test = f"{self.digest_sql} IN ({', '.join(['%s'] * len(group))})"
                cur.execute(sql + (" AND " if where else " WHERE ") + test, [*params, *group])
            else:
                cur.execute(sql, params)
            for row in cur.fetchall():
                out[tuple(row[:nkeys])] = str(row[nkeys])
        return out

    def rows(self, keys: Sequence[Key], batch: int) -> list[tuple[Any, ...]]:
        """Full rows (synced columns) for ``keys``."""
        cur = self.conn.cursor()
        columns = self.d.column_list([c.name for c in self.plan.columns])
        out: list[tuple[Any, ...]] = []
        for chunk in _chunks(keys, batch):
            sql, params = self.d.key_in(self.plan.keys, chunk)
            cur.execute(f"SELECT {columns} FROM {self.table} WHERE {sql}", params)
            out.extend(tuple(row) for row in cur.fetchall())
        return out


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# ============================================================================ search


class Differ:
    """Finds the rows that differ between ``source`` and ``target`` (see module doc)."""

    def __init__(
        self, source: Side, target: Side, settings: SyncSettings, pool: ThreadPoolExecutor
    ) -> None:
        self.source = source
        self.target = target
        self.s = settings
        self.pool = pool

    def both(
        self, on_source: Callable[[Side], Any], on_target: Callable[[Side], Any] | None = None
    ) -> tuple[Any, Any]:
        """Run on both sides concurrently (each side has its own connection)."""
        future = self.pool.submit(on_target or on_source, self.target)
        return on_source(self.source), future.result()

    def run(self) -> Changes:
        changes = Changes()
        top = self.source.boundaries(None, None, self.s.chunk_rows)
        level = _ranges(None, top, None, ())
        leaves: list[Range] = []
        while level:
            level = self.refine(level, leaves, changes)
        self.compare_leaves(sorted(leaves, key=lambda r: r.path), changes)
        return changes

    def refine(self, level: list[Range], leaves: list[Range], changes: Changes) -> list[Range]:
        """Checksum one level; keep equal ranges as unchanged, split or settle the others."""
        sums_src, sums_tgt = self.both(lambda side: side.checksums(level))
        differing = []
        for r, src, tgt in zip(level, sums_src, sums_tgt, strict=True):
            r.source_rows, r.target_rows = src[0], tgt[0]
            if src == tgt:
                changes.unchanged += src[0]
            else:
                differing.append(r)
        # Where most ranges of a level differ, their sub-ranges would mostly differ too:
        # comparing rows right away is cheaper than another round of checksums, as long as
        # the ranges are not much bigger than a leaf.
        dense = len(differing) >= self.s.dense_fraction * len(level)
        dense_cap = self.s.leaf_rows * self.s.fanout
        next_level: list[Range] = []
        for r in differing:
            if r.source_rows <= self.s.leaf_rows or (dense and r.source_rows <= dense_cap):
                leaves.append(r)
            else:
                next_level.extend(self.split(r))
        return next_level

    def split(self, r: Range) -> list[Range]:
        step = max(1, math.ceil(r.source_rows / self.s.fanout))
        cuts = self.source.boundaries(r.lo, r.hi, step, self.s.fanout)
        return _ranges(r.lo, cuts, r.hi, r.path)

    def compare_leaves(self, leaves: list[Range], changes: Changes) -> None:
        """Row-level compare of the settled ranges, then fetch the rows to write."""
        batches = list(_merge_adjacent(leaves, self.s.fetch_rows))
        if not batches:
            return
        # 1. The digest sets of each range: rows present on both sides unchanged are done.
        src_sets, tgt_sets = self.both(lambda side: side.digest_sets(batches))
        src_work: list[tuple[Bounds, set[str] | None]] = []
        tgt_work: list[tuple[Bounds, set[str] | None]] = []
        for bounds, src, tgt in zip(batches, src_sets, tgt_sets, strict=True):
            if src is None or tgt is None:  # too big for one string: compare every row
                src_work.append((bounds, None))
                tgt_work.append((bounds, None))
                continue
            changes.unchanged += len(src & tgt)
            if src != tgt:
                src_work.append((bounds, src - tgt))
                tgt_work.append((bounds, tgt - src))
        # 2. Keys of the rows whose digests are on one side only.
        src_keyed, tgt_keyed = self.both(
            lambda side: _keyed(side, src_work), lambda side: _keyed(side, tgt_work)
        )
        inserts, updates = [], []
        for key, digest in src_keyed.items():
            other = tgt_keyed.pop(key, None)
            if other is None:
                inserts.append(key)
            elif other != digest:
                updates.append(key)
            else:
                changes.unchanged += 1
        changes.deletes.extend(tgt_keyed)  # what is left exists only on the target
        # 3. Full source rows, only for the keys to insert or update.
        new = set(inserts)
        positions = self.source.plan.key_positions
        for row in self.source.rows(inserts + updates, self.s.write_batch):
            key = tuple(row[i] for i in positions)
            (changes.inserts if key in new else changes.updates).append(row)


def _keyed(side: Side, work: list[tuple[Bounds, set[str] | None]]) -> dict[Key, str]:
    out: dict[Key, str] = {}
    for (lo, hi), only in work:
        if only is None or only:
            out.update(side.keyed_digests(lo, hi, only))
    return out


def _ranges(lo: Key | None, cuts: list[Key], hi: Key | None, path: tuple[int, ...]) -> list[Range]:
    bounds = [lo, *cuts, hi]
    return [Range(bounds[i], bounds[i + 1], (*path, i)) for i in range(len(bounds) - 1)]


def _merge_adjacent(leaves: list[Range], max_rows: int) -> Iterator[Bounds]:
    """Contiguous leaves (one's hi is the next's lo) become one query, up to ``max_rows``."""
    current: Bounds | None = None
    rows = 0
    for r in leaves:
        size = max(r.source_rows, r.target_rows)
        if (
            current is not None
            and current[1] is not None
            and current[1] == r.lo
            and rows + size <= max_rows
        ):
            current, rows = (current[0], r.hi), rows + size
            continue
        if current is not None:
            yield current
        current, rows = (r.lo, r.hi), size
    if current is not None:
        yield current


# ============================================================================ writing


def apply_changes(
    dialect: Dialect, conn: Connection, plan: TablePlan, changes: Changes, batch: int
) -> None:
    """Deletes, then updates, then inserts, on the target's open transaction (no commit)."""
    cur = conn.cursor()
    table = dialect.quote(plan.table)
    for chunk in _chunks(changes.deletes, batch):
        sql, params = dialect.key_in(plan.keys, chunk)
        cur.execute(f"DELETE FROM {table} WHERE {sql}", params)
    _apply_updates(dialect, cur, plan, changes.updates, batch)
    for chunk in _chunks(changes.inserts, _rows_per_statement(batch, len(plan.columns))):
        cur.execute(
            dialect.insert_sql(plan.table, plan.columns, len(chunk)),
            [value for row in chunk for value in row],
        )


def _apply_updates(
    dialect: Dialect, cur: Any, plan: TablePlan, rows: list[tuple[Any, ...]], batch: int
) -> None:
    values = plan.value_columns
    if not rows or not values:
        return  # a table of key columns only has nothing to update
    by_name = {c.name: c for c in plan.columns}
    keys = [by_name[k] for k in plan.keys]
    names = [c.name for c in plan.columns]
    order = [*plan.key_positions, *(names.index(c.name) for c in values)]
    for chunk in _chunks(rows, _rows_per_statement(batch, len(order))):
        sql = dialect.update_sql(plan.table, keys, values, len(chunk))
        cur.execute(sql, [row[i] for row in chunk for i in order])


def _rows_per_statement(batch: int, width: int) -> int:
    # Stay well under PostgreSQL's 65535 bind parameters per statement.
    return max(1, min(batch, 30_000 // max(1, width)))


# ============================================================================ one table


def sync_table(
    dialect: Dialect,
    source_conn: Connection,
    target_conn: Connection,
    spec: TableSpec,
    settings: SyncSettings,
    dry_run: bool,
) -> TableResult:
    """Compare and (unless ``dry_run``) write one table in one target transaction.

    Raises the driver's exception on failure after rolling the target back, so that the
    caller can tell transient errors (retry) from the rest.
    """
    started = time.monotonic()
    try:
        dialect.begin_snapshot(source_conn)
        source_table = dialect.read_table(source_conn.cursor(), spec.name)
        target_table = dialect.read_table(target_conn.cursor(), spec.name)
        plan = plan_table(dialect, source_table, target_table, spec)
        source = Side(dialect, source_conn, plan)
        target = Side(dialect, target_conn, plan)
        with ThreadPoolExecutor(max_workers=1) as pool:
            changes = Differ(source, target, settings, pool).run()
        if not dry_run and changes.total:
            apply_changes(dialect, target_conn, plan, changes, settings.write_batch)
            target_conn.commit()
        else:
            target_conn.rollback()
    except BaseException:
        _rollback_quietly(target_conn)
        raise
    finally:
        _rollback_quietly(source_conn)  # ends the read-only snapshot
    return TableResult(
        spec.name,
        len(changes.inserts),
        len(changes.updates),
        len(changes.deletes),
        changes.unchanged,
        time.monotonic() - started,
    )


def _rollback_quietly(conn: Connection) -> None:
    # A dead connection cannot roll back; the server has already discarded its transaction.
    with contextlib.suppress(Exception):
        conn.rollback()


# ============================================================================ the action


class _Links:
    """The source and target connections of a run, reopened after a transient error."""

    def __init__(self, runtime: Runtime, source: str, target: str) -> None:
        self.runtime = runtime
        self.names = (source, target)
        self.conns: list[Connection | None] = [None, None]

    def get(self) -> tuple[Connection, Connection]:
        for i, name in enumerate(self.names):
            if self.conns[i] is None:
                self.conns[i] = self.runtime.connector.open(name)
        return self.conns[0], self.conns[1]

    def close(self, _exc: BaseException | None = None) -> None:
        for conn in self.conns:
            close_quietly(conn)
        self.conns = [None, None]


def sync_reference_data(request: Request, runtime: Runtime) -> dict[str, Any]:
    """The ``sync_reference_data`` action: every requested table, one transaction each."""
    specs = check_sync(runtime.config, request)
    source, target = str(request.source), str(request.target)
    started = time.monotonic()
    links = _Links(runtime, source, target)
    done: list[dict[str, Any]] = []
    matched: dict[str, float] = {}  # table -> when the target last matched the source
    failed = True
    try:
        for spec in specs:
            result, matched[spec.name] = _sync_one(runtime, request, spec, links, done)
            done.append(result.as_dict())
            log(
                "info",
                "table_synced",
                action=request.action,
                source=source,
                target=target,
                dry_run=request.dry_run,
                **done[-1],
                table=spec.name,
            )
        failed = False
    finally:
        links.close()
        changed = (
            0 if request.dry_run else sum(t["inserted"] + t["updated"] + t["deleted"] for t in done)
        )
        emit_metrics(
            runtime.config.metrics_namespace,
            target,
            {
                "SyncLagSeconds": round(time.monotonic() - started, 3),
                "RowsChanged": changed,
                "SyncFailures": int(failed),
            },
        )
        if not request.dry_run:  # a dry run leaves the target as stale as it was
            _emit_staleness(runtime, target, matched)
    return {
        "status": "ok",
        "action": request.action,
        "source": source,
        "target": target,
        "dry_run": request.dry_run,
        "tables": done,
    }


def _emit_staleness(runtime: Runtime, target: str, matched: dict[str, float]) -> None:
    """``TargetStalenessSeconds`` per table synced: how long ago, at the end of this run, the
    target last matched the source (the start of the snapshot the run copied). A table that
    failed emits nothing: its alarm treats the missing datapoints as breaching, so a target
    that stops being refreshed alarms once ``lag_alarm_seconds`` + the schedule period pass."""
    now = time.time()
    for table, since in matched.items():
        emit_metrics(
            runtime.config.metrics_namespace,
            target,
            {"TargetStalenessSeconds": round(now - since, 3)},
            table=table,
        )


def _sync_one(
    runtime: Runtime, request: Request, spec: TableSpec, links: _Links, done: list[dict[str, Any]]
) -> tuple[TableResult, float]:
    """The table's result, and the wall-clock time just before the snapshot it copied began
    (a bound on when the target last matched the source: early, so staleness errs high)."""
    began = [0.0]

    def attempt() -> TableResult:
        source_conn, target_conn = links.get()
        began[0] = time.time()
        return sync_table(
            runtime.dialect, source_conn, target_conn, spec, runtime.config.sync, request.dry_run
        )

    context = {
        "source": request.source,
        "target": request.target,
        "table": spec.name,
        "completed": list(done),
    }
    try:
        result = with_retry(
            attempt,
            is_transient=runtime.connector.is_transient,
            policy=runtime.connector.policy,
            what=f"sync of {spec.name}",
            on_retry=links.close,
        )
        return result, began[0]
    except ReplsyncError as exc:
        exc.details.update(context)
        _log_failure(exc, context)
        raise
    except Exception as exc:
        failure = SyncFailed(f"table {spec.name}: {exc}", **context)
        _log_failure(exc, context)
        raise failure from exc


def _log_failure(exc: BaseException, context: dict[str, Any]) -> None:
    log(
        "error",
        "table_sync_failed",
        error=type(exc).__name__,
        cause=repr(exc),
        source=context["source"],
        target=context["target"],
        table=context["table"],
        rolled_back=True,
    )
