"""Make reference tables on a target equal to the source, writing only what differs.

Search, all of it in the databases (only checksums and digests cross the wire), source and
target at once (two connections, two threads). A range's checksum is ``COUNT(*)`` plus an
aggregate of a NULL-safe per-row hash (see ``Dialect.range_checksum``).

Single integer key (``Differ.sliced``):

1. Checksum fixed-width slices of the key space (``GROUP BY (key - base) DIV width``, about
   ``chunk_rows`` rows a slice, or ``slice_leaf_rows`` where ``Dialect.flat_slices``) in ONE
   aggregated query per side: the slices depend only on key values, so the two sides agree
   on them without asking each other.
2. Cut the differing slices ``slice_fanout``-fold and checksum them again, one query per
   side and level, until they hold about ``slice_leaf_rows`` rows (with flat slices the
   first level already does).
3. Fetch the ``(key, digest)`` records of the differing slices, one aggregated value per
   slice; a record on both sides is an unchanged row; full rows are fetched only for the
   keys to insert or update.

Other keys:

1. Split the source into ranges of ``chunk_rows`` keys (``(lo, hi]`` in key order; the
   boundary keys come from the source; the first and last ranges are open-ended so keys
   that exist only on the target are covered too) and checksum every range.
2. Split each differing range into ``fanout`` sub-ranges and repeat (bisection), until a
   range holds at most ``leaf_rows`` source rows, or until most ranges of a level differ and
   they hold at most ``leaf_rows * fanout`` rows (then splitting further would cost more
   queries than it saves rows).
3. For the remaining ranges fetch the set of per-row digests as one string per range
   (``GROUP_CONCAT`` / ``string_agg``: one value on the wire instead of one row per row); the
   digests found on one side only are looked up with their keys; full rows are fetched only
   for the keys to insert or update.

Both: apply deletes, updates and inserts in ONE target transaction (rolled back on any
error), a group of ranges at a time, so memory stays bounded whatever the drift; the commit
comes after the last group. With a single integer key on PostgreSQL the rows to insert or
update travel as COPY text through a staging table (``staging.py``).
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from replsync.catalog import Column, Table
from replsync.config import SyncSettings, TableSpec
from replsync.connect import close_quietly, with_retry
from replsync.dialect import Connection, Dialect, Key
from replsync.errors import ReplsyncError, SyncFailed
from replsync.observe import emit_metrics, log
from replsync.policy import check_sync
from replsync.runtime import Request, Runtime
from replsync.staging import Staged, apply_staged, can_stage, copy_rows, delete_keys

Bounds = tuple[Key | None, Key | None]
DIGEST_LEN = 32  # hex digits of an MD5


@dataclass(frozen=True)
class TablePlan:
    """What to compare: the table, its sync key and the columns read and written."""

    table: str
    keys: tuple[str, ...]
    columns: tuple[Column, ...]  # synced columns (key columns included), source order
    # Columns of one type on both sides. With ``binary_hash`` (both servers can) the dialect
    # hashes their binary values and the other columns' text form; else every column's text.
    typed: frozenset[str] = frozenset()
    binary_hash: bool = False

    @property
    def hashed_typed(self) -> frozenset[str] | None:
        return self.typed if self.binary_hash else None

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
class Writes:
    """The writes of one group of ranges (applied, then dropped: memory stays bounded)."""

    inserts: list[tuple[Any, ...]] = field(default_factory=list)  # full source rows
    updates: list[tuple[Any, ...]] = field(default_factory=list)  # full source rows
    deletes: list[Key] = field(default_factory=list)
    staged: Staged | None = None  # more inserts and updates, as source COPY text


@dataclass
class Changes:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.deleted

    def add(self, writes: Writes) -> None:
        self.inserted += len(writes.inserts)
        self.updated += len(writes.updates)
        self.deleted += len(writes.deletes)
        if writes.staged is not None:
            self.inserted += len(writes.staged.inserts)
            self.updated += len(writes.staged.updates)


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
    columns, typed = [], set()
    for column in source.columns:
        if column.name in spec.exclude_columns or not column.writable:
            continue
        other = target.column(column.name)
        if other is None or not other.writable:
            raise SyncFailed(
                f"table {spec.name}: column {column.name} missing on the target (run schema_diff)",
                table=spec.name,
            )
        if other.type == column.type:
            typed.add(column.name)
        # One hash expression for both sides: NULL-tolerant if either side allows NULL.
        columns.append(
            Column(column.name, column.type, column.nullable or other.nullable, extra=other.extra)
        )
    missing = [k for k in keys if k not in {c.name for c in columns}]
    if missing:
        raise SyncFailed(f"table {spec.name}: key columns {missing} not found", table=spec.name)
    return TablePlan(spec.name, tuple(keys), tuple(columns), frozenset(typed))


# ============================================================================ one side

UNION_PARTS = 256  # most merged ranges compared as one group
RUNS_PER_QUERY = 256  # key ranges OR-ed into one sliced checksum query
GROUP_ROWS = 100_000  # rows whose digests are held at once (about 30 MB for both sides)


class Side:
    """One table on one connection: the queries the search needs."""

    def __init__(self, dialect: Dialect, conn: Connection, plan: TablePlan) -> None:
        self.d = dialect
        self.conn = conn
        self.plan = plan
        self.table = dialect.quote(plan.table)
        self.key_list = dialect.column_list(plan.keys)
        typed = plan.hashed_typed
        self.checksum_sql = dialect.range_checksum(plan.columns, typed)
        self.digest_sql = dialect.row_digest(plan.columns, typed)
        self.digest_list_sql = dialect.digest_list(plan.columns, typed)
        self.digest_len = dialect.digest_length(typed)

    def where(self, lo: Key | None, hi: Key | None) -> tuple[str, list[Any]]:
        terms, params = [], []
        for op, bound in ((">", lo), ("<=", hi)):
            if bound is not None:
                sql, values = self.d.compare(self.plan.keys, op, bound)
                terms.append(sql)
                params.extend(values)
        return (" WHERE " + " AND ".join(terms)) if terms else "", params

    def union(self, select: str, ranges: Sequence[Bounds]) -> Iterator[Any]:
        """``SELECT n, <select> FROM table WHERE <range n>`` for every range, sent
        ``Dialect.union_parts`` ranges per statement; yields the rows (``n`` first) in range
        order."""
        cur = self.conn.cursor()
        size = self.d.union_parts
        for first in range(0, len(ranges), size):
            parts, params = [], []
            for n, (lo, hi) in enumerate(ranges[first : first + size], start=first):
                where, values = self.where(lo, hi)
                parts.append(f"(SELECT {n} AS n, {select} FROM {self.table}{where})")
                params.extend(values)
            cur.execute(" UNION ALL ".join(parts), params)
            yield from sorted(cur.fetchall(), key=lambda row: row[0])

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

    def key_span(self) -> tuple[int | None, int | None, int | None]:
        """Smallest and largest key (single integer key) and the estimated row count."""
        cur = self.conn.cursor()
        key = self.d.quote(self.plan.keys[0])
        cur.execute(f"SELECT MIN({key}), MAX({key}) FROM {self.table}")
        low, high = cur.fetchone()
        return low, high, self.d.estimate_rows(cur, self.plan.table)

    def bucket_checksums(
        self, base: int, width: int, runs: Sequence[Bounds] | None
    ) -> dict[int, tuple[int, Any]]:
        """The checksum of every fixed-width key slice, ``slice -> (count, aggregate)``, in
        one aggregated pass over the table, or over ``runs`` (key ranges of whole slices)."""
        bucket = self.d.bucket(self.plan.keys[0])
        cur = self.conn.cursor()
        out: dict[int, tuple[int, Any]] = {}
        for part in [None] if runs is None else _chunks(runs, RUNS_PER_QUERY):
            where, params = "", [base, width]
            if part is not None:
                terms = [self.where(lo, hi) for lo, hi in part]
                where = " WHERE " + " OR ".join(f"({t[0][7:]})" for t in terms)
                params += [v for t in terms for v in t[1]]
            typed = self.plan.hashed_typed
            sql = self.d.slice_checksums(bucket, self.table, where, self.plan.columns, typed)
            cur.execute(sql, params)
            out.update((int(b), (int(n), agg)) for b, n, agg in cur.fetchall())
        return out

    def checksums(self, ranges: Sequence[Range]) -> list[tuple[int, Any]]:
        rows = self.union(self.checksum_sql, [(r.lo, r.hi) for r in ranges])
        return [(int(count), aggregate) for _, count, aggregate in rows]

    def digest_sets(self, batches: Sequence[Bounds]) -> list[set[str] | None]:
        """Per range, the set of its row digests; None where the server cut the list short
        (group_concat_max_len): the caller then reads that range row by row."""
        out: list[set[str] | None] = []
        size = self.digest_len
        for _, count, blob in self.union(f"COUNT(*), {self.digest_list_sql}", batches):
            text = blob.decode() if isinstance(blob, bytes) else (blob or "")
            if len(text) != size * int(count):
                out.append(None)
                continue
            out.append({text[i : i + size] for i in range(0, len(text), size)})
        return out

    def slice_pairs(
        self, base: int, width: int, numbers: Sequence[int]
    ) -> dict[int, set[bytes] | None]:
        """Integer key: per slice of ``numbers``, the set of its rows' records (8 bytes of
        key, then the digest: see ``Dialect.pair_list``), in one aggregated query; None for
        a slice whose value the server cut short. A slice without rows has no entry."""
        typed = self.plan.hashed_typed
        width_bytes = 8 + self.d.pair_digest_bytes(typed)
        bucket = self.d.bucket(self.plan.keys[0])
        runs = _runs(base, width, list(numbers))
        if len(runs) <= RUNS_PER_QUERY:  # index ranges
            terms = [self.where(lo, hi) for lo, hi in runs]
            where = " OR ".join(f"({sql[7:]})" for sql, _ in terms)
            params = [v for _, values in terms for v in values]
        else:  # many small ranges: one scan of their span, the slices picked by number
            sql, params = self.where(runs[0][0], runs[-1][1])
            where = f"{sql[7:]} AND {bucket} IN ({', '.join(['%s'] * len(numbers))})"
            params += [base, width, *numbers]
        sql = self.d.slice_pairs(
            bucket, self.table, f" WHERE {where}", self.plan.keys[0], self.plan.columns, typed
        )
        cur = self.conn.cursor()
        cur.execute(sql, [base, width, *params])
        out: dict[int, set[bytes] | None] = {}
        for n, count, blob in cur.fetchall():
            data = bytes(blob or b"")
            if len(data) != width_bytes * int(count):
                out[int(n)] = None
                continue
            step = range(0, len(data), width_bytes)
            out[int(n)] = {data[i : i + width_bytes] for i in step}
        return out

    def keyed_digests(self, work: Sequence[tuple[Bounds, set[str] | None]]) -> dict[Key, str]:
        """key -> digest of the rows of the work's ranges; of a range with a digest set, just
        the rows whose digest is in it."""
        out: dict[Key, str] = {}
        nkeys = len(self.plan.keys)
        select = f"{self.key_list}, {self.digest_sql}"
        whole = [bounds for bounds, only in work if only is None]
        for row in self.union(select, whole):
            out[tuple(row[1 : nkeys + 1])] = str(row[nkeys + 1])
        for bounds, only in work:
            for group in _chunks(sorted(only or ()), 1000):
                test = f"{self.digest_sql} IN ({', '.join(['%s'] * len(group))})"
                cur = self.conn.cursor()
                where, params = self.where(*bounds)
                glue = " AND " if where else " WHERE "
                cur.execute(
                    f"SELECT {select} FROM {self.table}{where}{glue}{test}", [*params, *group]
                )
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

Sums = tuple[list[tuple[int, Any]], list[tuple[int, Any]]]
EMPTY = (0, None)  # the checksum of a slice a side has no rows in


class Differ:
    """Finds the rows that differ between ``source`` and ``target`` (see module doc) and hands
    them to ``write`` a group of ranges at a time."""

    def __init__(
        self,
        source: Side,
        target: Side,
        settings: SyncSettings,
        pool: ThreadPoolExecutor,
        write: Callable[[Writes], None],
        stage: bool = False,
    ) -> None:
        self.source = source
        self.stage = stage  # inserts and updates through a staging table (staging.py)
        self.target = target
        self.s = settings
        self.pool = pool
        self.write = write
        plan = source.plan
        key = plan.columns[plan.key_positions[0]]
        # A single integer key of one type on both sides: sliced ranges and keyed digests.
        self.integer_key = (
            len(plan.keys) == 1 and key.name in plan.typed and source.d.is_integer(key.type)
        )
        self.unsigned = "unsigned" in key.type.lower()

    def key_value(self, raw: bytes) -> int:
        return int.from_bytes(raw, "big", signed=not self.unsigned)

    def both(
        self, on_source: Callable[[Side], Any], on_target: Callable[[Side], Any] | None = None
    ) -> tuple[Any, Any]:
        """Run on both sides concurrently (each side has its own connection)."""
        future = self.pool.submit(on_target or on_source, self.target)
        return on_source(self.source), future.result()

    def run(self) -> Changes:
        changes = Changes()
        sliced = self.sliced(changes) if self.integer_key else None
        if sliced is not None:
            self.compare_slices(*sliced, changes)
            return changes
        top = self.source.boundaries(None, None, self.s.chunk_rows)
        level, leaves = _ranges(None, top, None, ()), list[Range]()
        while level:
            sums = self.both(functools.partial(Side.checksums, ranges=level))
            level = self.refine(level, sums, leaves, changes)
        self.compare_leaves(sorted(leaves, key=lambda r: r.path), changes)
        return changes

    def sliced(self, changes: Changes) -> tuple[int, int, dict[int, int]] | None:
        """Single integer key: fixed-width key slices, checksummed one level at a time with
        ONE aggregated query per side and level; the differing slices of a level are cut
        into ``slice_fanout`` finer slices, until they hold about ``slice_leaf_rows`` rows.

        ``base`` is the smallest key of either side, so every key maps to a slice number
        ``(key - base) DIV width >= 0``; slice n is the key range (base + n*width - 1,
        base + (n+1)*width - 1]. Widths are powers of two, so a finer slice lies in one
        coarser slice. None (use the boundary walk) when the keys span more than 64-bit
        arithmetic allows. Returns ``base``, the last width and ``slice -> rows`` (the more
        of the two sides) of the slices that still differ.
        """
        spans = [s for s in self.both(Side.key_span) if s[0] is not None]
        if not spans:
            return 0, 1, {}  # both sides empty
        base = min(low for low, _, _ in spans)
        if max(high for _, high, _ in spans) - base >= 2**62 or base - 1 < -(2**63):
            return None
        # Slices of about chunk_rows rows on the denser side (the row count is the server's
        # estimate: a wrong one only makes slices bigger or smaller, never a wrong answer).
        density = max(
            min(max(1, rows or high - low + 1), high - low + 1) / (high - low + 1)
            for low, high, rows in spans
        )
        leaf_width = _width(self.s.slice_leaf_rows, density)
        width = leaf_width if self.source.d.flat_slices else _width(self.s.chunk_rows, density)
        fanout = 1 << max(1, self.s.slice_fanout.bit_length() - 1)
        parents: set[int] | None = None  # None: the first level, every slice
        runs: list[Bounds] | None = None
        total = 0
        while True:
            step = functools.partial(Side.bucket_checksums, base=base, width=width, runs=runs)
            src, tgt = self.both(step)
            found: dict[int, tuple[int, int]] = {}
            for n in sorted(src.keys() | tgt.keys()):
                if parents is not None and n * width // (width * fanout) not in parents:
                    continue  # a slice of an equal coarser slice (a whole-table pass)
                s, t = src.get(n, EMPTY), tgt.get(n, EMPTY)
                if parents is None:
                    total += max(s[0], t[0])
                if s == t:
                    changes.unchanged += s[0]
                else:
                    found[n] = (s[0], t[0])
            rows = sum(max(pair) for pair in found.values())
            # About leaf size: twice, as an insert makes a slice a row bigger and slices are
            # sized on the server's row estimate (a stale one costs a level, not a wrong answer).
            if not found or width == 1 or rows <= 2 * self.s.slice_leaf_rows * len(found):
                return base, width, {n: max(pair) for n, pair in found.items()}
            # Most of the table differs: one pass over all of it beats thousands of ranges.
            runs = None if 2 * rows > total else _runs(base, width, sorted(found))
            parents, width = set(found), width // fanout

    def refine(
        self, level: list[Range], sums: Sums, leaves: list[Range], changes: Changes
    ) -> list[Range]:
        """Keep equal ranges as unchanged, split or settle the others."""
        differing = []
        for r, src, tgt in zip(level, *sums, strict=True):
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
        """Row-level compare of the settled ranges, a group of ranges at a time (so that
        memory is bounded by the group, not the drift)."""
        for group in _groups(_merge_adjacent(leaves, self.s.fetch_rows)):
            self.write_group(self.compare_digests(group, changes), changes)

    def compare_slices(
        self, base: int, width: int, found: dict[int, int], changes: Changes
    ) -> None:
        """Row-level compare of the differing slices, GROUP_ROWS rows at a time (memory is
        bounded by the group, not by the drift)."""
        group: list[int] = []
        rows = 0
        for n in sorted(found):
            if group and rows + found[n] > GROUP_ROWS:
                self.write_group(self.compare_slice_group(base, width, group, changes), changes)
                group, rows = [], 0
            group.append(n)
            rows += found[n]
        if group:
            self.write_group(self.compare_slice_group(base, width, group, changes), changes)

    def write_group(self, writes: Writes, changes: Changes) -> None:
        changes.add(writes)
        self.write(writes)

    def compare_slice_group(
        self, base: int, width: int, numbers: list[int], changes: Changes
    ) -> Writes:
        """Each side's (key, digest) records of the slices: a record on both sides is an
        unchanged row; the keys of the others are inserts, updates or deletes."""
        step = functools.partial(Side.slice_pairs, base=base, width=width, numbers=numbers)
        src_sets, tgt_sets = self.both(step)
        cut: list[Bounds] = []
        upsert: dict[int, None] = {}
        delete: dict[int, None] = {}
        for n in numbers:
            src, tgt = src_sets.get(n, set()), tgt_sets.get(n, set())
            if src is None or tgt is None:  # too big for one value: the row-by-row way
                cut.append(((base + n * width - 1,), (base + (n + 1) * width - 1,)))
                continue
            # Set differences run in C; only the few differing records are decoded.
            only_src = src - tgt
            changes.unchanged += len(src) - len(only_src)
            for record in sorted(only_src):
                upsert[self.key_value(record[:8])] = None
            for record in sorted(tgt - src):
                delete[self.key_value(record[:8])] = None
        del src_sets, tgt_sets
        writes = self.compare_digests(cut, changes) if cut else Writes()
        writes.deletes.extend((k,) for k in delete if k not in upsert)
        if self.stage:
            plan = self.source.plan
            names = [c.name for c in plan.columns]
            data = copy_rows(
                self.source.d, self.source.conn, plan.table, names, plan.keys[0], list(upsert)
            )
            writes.staged = Staged(
                data,
                updates=[k for k in upsert if k in delete],
                inserts=[k for k in upsert if k not in delete],
            )
            return writes
        position = self.source.plan.key_positions[0]
        for row in self.source.rows([(k,) for k in upsert], self.s.write_batch):
            (writes.updates if row[position] in delete else writes.inserts).append(row)
        return writes

    def compare_digests(self, batches: Sequence[Bounds], changes: Changes) -> Writes:
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
        del src_sets, tgt_sets
        # 2. Keys of the rows whose digests are on one side only.
        src_keyed, tgt_keyed = self.both(
            lambda side: side.keyed_digests(src_work), lambda side: side.keyed_digests(tgt_work)
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
        writes = Writes(deletes=list(tgt_keyed))  # what is left exists only on the target
        # 3. Full source rows, only for the keys to insert or update.
        new = set(inserts)
        positions = self.source.plan.key_positions
        for row in self.source.rows(inserts + updates, self.s.write_batch):
            key = tuple(row[i] for i in positions)
            (writes.inserts if key in new else writes.updates).append(row)
        return writes


def _width(rows: int, density: float) -> int:
    """The power-of-two key width of a slice holding about ``rows`` rows."""
    return 1 << max(0, math.ceil(math.log2(max(1.0, rows / density))))


def _runs(base: int, width: int, numbers: list[int]) -> list[Bounds]:
    """Key ranges of consecutive slices (sorted slice numbers)."""
    out: list[Bounds] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(((base + start * width - 1,), (base + (prev + 1) * width - 1,)))
        if n is not None:
            start = prev = n
    return out


def _ranges(lo: Key | None, cuts: list[Key], hi: Key | None, path: tuple[int, ...]) -> list[Range]:
    bounds = [lo, *cuts, hi]
    return [Range(bounds[i], bounds[i + 1], (*path, i)) for i in range(len(bounds) - 1)]


def _groups(batches: Iterator[tuple[Bounds, int]]) -> Iterator[list[Bounds]]:
    """Batches compared together: up to UNION_PARTS of them and GROUP_ROWS rows (the rows
    of a group are in memory at once, as digests)."""
    group: list[Bounds] = []
    rows = 0
    for bounds, size in batches:
        if group and (len(group) == UNION_PARTS or rows + size > GROUP_ROWS):
            yield group
            group, rows = [], 0
        group.append(bounds)
        rows += size
    if group:
        yield group


def _merge_adjacent(leaves: list[Range], max_rows: int) -> Iterator[tuple[Bounds, int]]:
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
            yield current, rows
        current, rows = (r.lo, r.hi), size
    if current is not None:
        yield current, rows


# ============================================================================ writing


def apply_changes(
    dialect: Dialect, conn: Connection, plan: TablePlan, changes: Writes, batch: int
) -> None:
    """Deletes, then updates, then inserts, on the target's open transaction (no commit)."""
    cur = conn.cursor()
    table = dialect.quote(plan.table)
    if changes.staged is not None:  # a single integer key: one statement per kind of write
        keys = [k[0] for k in changes.deletes]
        delete_keys(dialect, conn, plan.table, plan.keys[0], keys)
        changes = replace(changes, deletes=[])
    for chunk in _chunks(changes.deletes, batch):
        sql, params = dialect.key_in(plan.keys, chunk)
        cur.execute(f"DELETE FROM {table} WHERE {sql}", params)
    if changes.staged is not None:
        names = [c.name for c in plan.columns]
        override = any("ALWAYS" in c.extra for c in plan.columns)
        apply_staged(dialect, conn, plan.table, names, plan.keys[0], changes.staged, override)
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
        for conn in (source_conn, target_conn):
            dialect.begin_compare(conn)
        source_table = dialect.read_table(source_conn.cursor(), spec.name)
        target_table = dialect.read_table(target_conn.cursor(), spec.name)
        plan = plan_table(dialect, source_table, target_table, spec)
        if all(dialect.binary_hash(c.cursor()) for c in (source_conn, target_conn)):
            plan = replace(plan, binary_hash=True)
        source = Side(dialect, source_conn, plan)
        target = Side(dialect, target_conn, plan)

        def write(writes: Writes) -> None:
            # Into the one open target transaction; the commit comes after the last group.
            if not dry_run:
                apply_changes(dialect, target_conn, plan, writes, settings.write_batch)

        stage = not dry_run and can_stage(dialect, target_conn)
        with ThreadPoolExecutor(max_workers=1) as pool:
            changes = Differ(source, target, settings, pool, write, stage).run()
        if not dry_run and changes.total:
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
        changes.inserted,
        changes.updated,
        changes.deleted,
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
