"""Benchmark: replsync's reference-data sync against the fastest honest reload.

Starts throw-away MariaDB and PostgreSQL servers (tests/dbservers.py), creates a source and a
target database on each and fills three tables from generated numbers (``INSERT ... SELECT``):

* ``ref``: ``--rows`` reference-like rows (mixed types, NULLs, DECIMAL, timestamps, non-ASCII);
* ``wide``: 30 columns, about 1 KB a row (``--side-rows`` rows);
* ``pair``: the ``ref`` columns under a composite key ``(grp, seq)`` (``--side-rows`` rows).

Per table and scenario the target is rebuilt, the given share of rows is made to differ,
scattered at random over the key space, and the script times:

* ``sync``: ``replsync.refdata.sync_table`` (what the Lambda runs per table, default settings)
  in a child process, whose peak resident set (``VmHWM``) is the memory the
  Lambda would need;
* ``reload``: the fastest reload a user would write, the best of (measured once per table):
  PostgreSQL ``COPY ... TO STDOUT`` from the source piped into ``COPY ... FROM STDIN`` on the
  truncated target in one transaction (and the same through a buffer); MySQL multi-row INSERT
  batches streamed from the source, and ``LOAD DATA LOCAL INFILE`` fed through a FIFO;
* ``checksum``: the server checksumming both tables once (``CHECKSUM TABLE`` on MySQL;
  ``md5(string_agg(row::text ORDER BY key))`` on PostgreSQL), the floor of the unchanged case;
* ``hash pass``: one ungrouped pass of the sync's own row hash over both tables at once (one
  connection and thread per side, as the sync runs): what any sync that reads both tables
  spends at least, so ``reload / hash pass`` bounds the speed-up a sync can show.

After every sync and reload the two tables are compared with the checksum queries, so a fast
but wrong sync fails the run. The script prints the ratios and exits non-zero below target.
Usage: ``python bench/bench_replsync.py [--rows N] [--side-rows N] [--engines mysql,postgres]``
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "lambda" / "replsync"))
sys.path.insert(0, str(ROOT / "lambda" / "shared"))  # rdstls: verified TLS, as in the zip

import dbservers  # noqa: E402
from replsync.config import SyncSettings, TableSpec  # noqa: E402
from replsync.dialect import Dialect, get_dialect  # noqa: E402
from replsync.refdata import plan_table, sync_table  # noqa: E402

SCENARIOS = [("unchanged", 0.0), ("0.01%", 0.0001), ("1%", 0.01)]
TARGETS = {"unchanged": "<=3x checksum", "0.01%": ">=10x reload", "1%": ">=2x reload"}
MEMORY_LIMIT_MIB = 256  # the Lambda's configured memory


# ============================================================================ tables


def _cat(pg: bool, *parts: str) -> str:
    return " || ".join(f"({p})::text" for p in parts) if pg else f"CONCAT({', '.join(parts)})"


def _md5(pg: bool, x: str) -> str:
    return f"md5(({x})::text)" if pg else f"MD5({x})"


def _iif(pg: bool, cond: str, yes: str, no: str) -> str:
    return f"CASE WHEN {cond} THEN {yes} ELSE {no} END"


def _date(pg: bool, g: str) -> str:
    return (
        f"date '2000-01-01' + ({g} % 9000)"
        if pg
        else f"DATE_ADD('2000-01-01', INTERVAL {g} % 9000 DAY)"
    )


def _ts(pg: bool, g: str) -> str:
    return (
        f"timestamp '2020-01-01' + {g} * interval '1 second'"
        if pg
        else f"TIMESTAMP '2020-01-01 00:00:00' + INTERVAL {g} SECOND"
    )


REF_COLUMNS = (
    "code VARCHAR(16) NOT NULL, name VARCHAR(100) NULL, amount DECIMAL(12,2) NULL, d DATE NULL, "
    "ts TIMESTAMP NULL, active BOOLEAN NULL, note TEXT NULL"
)


def _ref_values(pg: bool) -> list[str]:
    return [
        _cat(pg, "'C'", "g"),
        _cat(pg, "'näme Straße 東京 '", "g"),
        "g * 1.25",
        _date(pg, "g"),
        _ts(pg, "g"),
        "g % 2 = 0",
        _iif(pg, "g % 7 = 0", "NULL", "'some note text'"),
    ]


def _wide_columns() -> str:
    parts = [f"s{i} VARCHAR(64) NOT NULL" for i in range(1, 13)]
    parts += ["t1 TEXT NULL", "t2 TEXT NULL"]
    parts += [f"n{i} INT NULL" for i in range(1, 6)]
    parts += [f"a{i} DECIMAL(14,4) NULL" for i in range(1, 4)]
    parts += ["d1 DATE NULL", "d2 DATE NULL", "ts1 TIMESTAMP NULL", "ts2 TIMESTAMP NULL"]
    parts += ["b1 BOOLEAN NULL", "b2 BOOLEAN NULL", "u1 VARCHAR(200) NULL"]
    return ", ".join(parts)


def _wide_values(pg: bool) -> list[str]:
    out = [_md5(pg, f"g + {i}") for i in range(1, 13)]
    out += [
        f"REPEAT({_md5(pg, 'g')}, 5)",
        _cat(pg, "'Ünïcødé '", f"REPEAT({_md5(pg, 'g + 1')}, 5)"),
    ]
    out += [f"g % {i + 6}" for i in range(1, 6)]
    out += [f"g * {i}.0625" for i in range(1, 4)]
    out += [_date(pg, "g"), _date(pg, "g + 17"), _ts(pg, "g"), _ts(pg, "g * 3")]
    out += ["g % 2 = 0", "g % 3 = 0"]
    out += [_iif(pg, "g % 3 = 0", "NULL", f"REPEAT({_md5(pg, 'g * 7')}, 4)")]
    return out


@dataclass(frozen=True)
class TableKind:
    """A generated table: its key, its DDL and how to make scattered differences."""

    name: str
    keys: tuple[str, ...]
    key_ddl: str
    columns_ddl: str
    values: Callable[[bool], list[str]]
    bump: str  # SET clause of an update

    def ddl(self) -> str:
        return (
            f"CREATE TABLE {self.name} ({self.key_ddl}, {self.columns_ddl}, "
            f"PRIMARY KEY ({', '.join(self.keys)}))"
        )

    def key_values(self, g: str) -> list[str]:
        # Even keys only, so the target can get extra rows in between (scattered deletes).
        if len(self.keys) == 1:
            return [f"2 * {g}"]
        return [f"FLOOR({g} / 1000)", f"2 * ({g} % 1000)"]

    def key_of(self, g: int) -> tuple[int, ...]:
        return (2 * g,) if len(self.keys) == 1 else (g // 1000, 2 * (g % 1000))

    def value_names(self) -> list[str]:
        return [part.split()[0] for part in self.columns_ddl.split(", ")]


TABLES = {
    "ref": TableKind(
        "ref", ("id",), "id BIGINT NOT NULL", REF_COLUMNS, _ref_values, "amount = amount + 1"
    ),
    "wide": TableKind(
        "wide", ("id",), "id BIGINT NOT NULL", _wide_columns(), _wide_values, "a1 = a1 + 1"
    ),
    "pair": TableKind(
        "pair",
        ("grp", "seq"),
        "grp INT NOT NULL, seq INT NOT NULL",
        REF_COLUMNS,
        _ref_values,
        "amount = amount + 1",
    ),
}


# ============================================================================ one engine


@dataclass
class Engine:
    name: str
    server: Any

    @property
    def pg(self) -> bool:
        return self.name == "postgres"

    def generate(self, kind: TableKind, rows: int) -> list[str]:
        columns = ", ".join([*kind.keys, *kind.value_names()])
        values = ", ".join([*kind.key_values("g"), *kind.values(self.pg)])
        if self.pg:
            return [
                f"INSERT INTO {kind.name} ({columns}) SELECT {values} "
                f"FROM generate_series(1, {rows}) g",
                f"VACUUM ANALYZE {kind.name}",
            ]
        digits = max(1, math.ceil(math.log10(rows + 1)))
        tables = ", ".join(f"bench_digits d{i}" for i in range(digits))
        number = " + ".join(f"d{i}.n * {10**i}" for i in range(digits)) + " + 1"
        return [
            "CREATE TABLE IF NOT EXISTS bench_digits (n INT PRIMARY KEY)",
            "INSERT IGNORE INTO bench_digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)",
            f"INSERT INTO {kind.name} ({columns}) SELECT {values} "
            f"FROM (SELECT {number} AS g FROM {tables}) nums WHERE g <= {rows}",
            f"ANALYZE TABLE {kind.name}",
        ]

    def checksum_sql(self, kind: TableKind) -> str:
        if self.pg:
            order = ", ".join(kind.keys)
            return f"SELECT md5(string_agg(t::text, '' ORDER BY {order})) FROM {kind.name} t"
        return f"CHECKSUM TABLE {kind.name}"


def open_conn(dialect: Dialect, info: dict[str, Any], **driver: Any) -> Any:
    """A connection made by the dialect (as the Lambda makes it). ``driver`` adds driver
    options (local_infile) while keeping everything the dialect sets (session, TLS)."""
    if not driver:
        return dialect.connect(
            info["host"], info["port"], info["user"], info["password"], info["dbname"], timeout=600
        )
    import replsync.dialect

    tls_only = replsync.dialect._tls_only_mysql()  # the class the dialect connects with
    with mock.patch.object(
        replsync.dialect, "_tls_only_mysql", lambda: functools.partial(tls_only, **driver)
    ):
        return open_conn(dialect, info)


class Bench:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = get_dialect(engine.name)
        # The servers are TLS-only with their own CA, as Aurora is with RDS's.
        os.environ["DB_CA_BUNDLE"] = str(engine.server.tls.ca)
        self.dbs = {
            side: engine.server.new_database(f"bench_{side}")["dbname"] for side in ("src", "tgt")
        }

    def info(self, side: str) -> dict[str, Any]:
        return dict(self.engine.server.connect_info(self.dbs[side]))

    def connect(self, side: str, **driver: Any) -> Any:
        return open_conn(self.dialect, self.info(side), **driver)

    def run_sql(self, side: str, statements: list[str], params: Any = None) -> None:
        conn = self.connect(side)
        try:
            if self.engine.pg:
                conn.autocommit = True  # VACUUM cannot run in a transaction
            cur = conn.cursor()
            for sql in statements:
                cur.execute(sql) if params is None else cur.execute(sql, params)
                if cur.description:
                    cur.fetchall()
            if not self.engine.pg:
                conn.commit()
        finally:
            conn.close()

    def load(self, side: str, kind: TableKind, rows: int) -> None:
        self.run_sql(side, [f"DROP TABLE IF EXISTS {kind.name}", kind.ddl()])
        self.run_sql(side, self.engine.generate(kind, rows))

    def differ(self, kind: TableKind, rows: int, fraction: float, seed: int = 7) -> int:
        """Scatter ``fraction`` of the rows as 80% updates, 10% missing, 10% extra."""
        count = round(rows * fraction)
        if not count:
            return 0
        keys = [kind.key_of(g) for g in random.Random(seed).sample(range(1, rows + 1), count)]
        cut1, cut2 = int(count * 0.8), int(count * 0.9)
        names = ", ".join(kind.keys)
        others = ", ".join(kind.value_names())
        shifted = ", ".join([*kind.keys[:-1], f"{kind.keys[-1]} + 1"])
        for part, sql in (
            (keys[:cut1], f"UPDATE {kind.name} SET {kind.bump} WHERE ({names}) IN "),
            (keys[cut1:cut2], f"DELETE FROM {kind.name} WHERE ({names}) IN "),
            (
                keys[cut2:],
                f"INSERT INTO {kind.name} ({names}, {others}) SELECT {shifted}, {others} "
                f"FROM {kind.name} WHERE ({names}) IN ",
            ),
        ):
            for chunk in _chunks(part, 1000):
                row = "(" + ", ".join(["%s"] * len(kind.keys)) + ")"
                self.run_sql(
                    "tgt",
                    [sql + "(" + ", ".join([row] * len(chunk)) + ")"],
                    [v for k in chunk for v in k],
                )
        return count

    def checksums(self, kind: TableKind) -> tuple[float, list[Any]]:
        """Seconds the server needs to checksum both tables once, and the checksums."""
        conns = [self.connect(side) for side in ("src", "tgt")]
        values = []
        started = time.perf_counter()
        for conn in conns:
            cur = conn.cursor()
            cur.execute(self.engine.checksum_sql(kind))
            values.append(cur.fetchone()[-1])
        elapsed = time.perf_counter() - started
        for conn in conns:
            conn.close()
        return elapsed, values

    def hash_pass(self, kind: TableKind) -> float:
        """Seconds for one pass of the sync's row hash over both tables at once."""
        conns = [self.connect(side) for side in ("src", "tgt")]
        try:
            cur = conns[0].cursor()
            table = self.dialect.read_table(cur, kind.name)
            plan = plan_table(self.dialect, table, table, TableSpec(kind.name, key=kind.keys))
            if self.dialect.binary_hash(cur):
                plan = replace(plan, binary_hash=True)
            checksum = self.dialect.range_checksum(plan.columns, plan.hashed_typed)
            sql = f"SELECT {checksum} FROM {self.dialect.quote(kind.name)}"

            def run(conn: Any) -> None:
                read = conn.cursor()
                read.execute(sql)
                read.fetchall()

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(run, conns))
            return time.perf_counter() - started
        finally:
            for conn in conns:
                conn.close()

    def verify(self, kind: TableKind, what: str) -> None:
        _, after = self.checksums(kind)
        if after[0] != after[1]:
            raise SystemExit(f"{self.engine.name} {kind.name}: tables differ after {what}")

    def sync(self, kind: TableKind) -> tuple[float, dict[str, Any], float]:
        """Seconds, counts and peak RSS (MiB) of a sync run in a child process."""
        job = {"engine": self.engine.name, "src": self.info("src"), "tgt": self.info("tgt")}
        job["table"], job["key"] = kind.name, list(kind.keys)
        run = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(job)], stdout=subprocess.PIPE
        )
        if run.returncode:
            raise SystemExit(f"{self.engine.name} {kind.name}: sync failed ({run.returncode})")
        result = json.loads(run.stdout)
        return result["seconds"], result["counts"], result["peak_rss_mib"]

    # ------------------------------------------------------------------ reloads

    def reloads(self, kind: TableKind, rows: int) -> dict[str, float]:
        """Every reload candidate once, each on a freshly drifted target (1%: a reload
        rewrites the whole table whatever differs)."""
        if self.engine.pg:
            candidates = {"COPY piped": self.copy_piped, "COPY buffered": self.copy_buffered}
        else:
            candidates = {"INSERT batches": self.insert_batches, "LOAD DATA LOCAL": self.load_data}
        out: dict[str, float] = {}
        for label, reload in candidates.items():
            self.load("tgt", kind, rows)
            self.differ(kind, rows, 0.01)
            seconds = reload(kind)
            if seconds is not None:
                self.verify(kind, label)
                out[label] = seconds
        return out

    def copy_buffered(self, kind: TableKind) -> float:
        src, tgt = self.connect("src"), self.connect("tgt")
        try:
            started = time.perf_counter()
            buffer = io.BytesIO()
            src.cursor().execute(f"COPY {kind.name} TO STDOUT", stream=buffer)
            buffer.seek(0)
            write = tgt.cursor()
            write.execute(f"TRUNCATE TABLE {kind.name}")
            write.execute(f"COPY {kind.name} FROM STDIN", stream=buffer)
            tgt.commit()
            return time.perf_counter() - started
        finally:
            src.close()
            tgt.close()

    def copy_piped(self, kind: TableKind) -> float:
        """Source COPY OUT and target COPY IN at once, through a pipe."""
        src, tgt = self.connect("src"), self.connect("tgt")
        read_fd, write_fd = os.pipe()
        errors: list[BaseException] = []

        def produce() -> None:
            with open(write_fd, "wb", buffering=1 << 20) as sink:
                try:
                    src.cursor().execute(f"COPY {kind.name} TO STDOUT", stream=sink)
                except BaseException as exc:  # reported by the main thread
                    errors.append(exc)

        try:
            started = time.perf_counter()
            write = tgt.cursor()
            write.execute(f"TRUNCATE TABLE {kind.name}")
            producer = threading.Thread(target=produce)
            producer.start()
            with open(read_fd, "rb", buffering=1 << 20) as source:
                write.execute(f"COPY {kind.name} FROM STDIN", stream=source)
            producer.join()
            if errors:
                raise errors[0]
            tgt.commit()
            return time.perf_counter() - started
        finally:
            src.close()
            tgt.close()

    def insert_batches(self, kind: TableKind) -> float:
        """Rows streamed from the source, 1,000-row INSERTs on the truncated target."""
        import pymysql.cursors

        src, tgt = self.connect("src"), self.connect("tgt")
        columns = ", ".join([*kind.keys, *kind.value_names()])
        try:
            started = time.perf_counter()
            read = src.cursor(pymysql.cursors.SSCursor)
            read.execute(f"SELECT {columns} FROM {kind.name}")
            write = tgt.cursor()
            write.execute(f"TRUNCATE TABLE {kind.name}")
            marks = "(" + ", ".join(["%s"] * len(columns.split(", "))) + ")"
            while rows := read.fetchmany(1000):
                write.execute(
                    f"INSERT INTO {kind.name} ({columns}) VALUES " + ", ".join([marks] * len(rows)),
                    [v for r in rows for v in r],
                )
            tgt.commit()
            return time.perf_counter() - started
        finally:
            src.close()
            tgt.close()

    def load_data(self, kind: TableKind) -> float | None:
        """Rows streamed from the source as TSV through a FIFO into LOAD DATA LOCAL INFILE."""
        import pymysql
        import pymysql.cursors

        src, tgt = self.connect("src"), self.connect("tgt", local_infile=True)
        columns = ", ".join([*kind.keys, *kind.value_names()])
        fifo = Path(tempfile.mkdtemp(prefix="bench-load-")) / "rows.tsv"
        os.mkfifo(fifo)
        errors: list[BaseException] = []

        def produce() -> None:
            try:
                with open(fifo, "w", encoding="utf-8", buffering=1 << 20) as sink:
                    read = src.cursor(pymysql.cursors.SSCursor)
                    read.execute(f"SELECT {columns} FROM {kind.name}")
                    while rows := read.fetchmany(5000):
                        sink.write("".join("\t".join(map(_tsv, r)) + "\n" for r in rows))
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        try:
            started = time.perf_counter()
            write = tgt.cursor()
            write.execute(f"TRUNCATE TABLE {kind.name}")
            producer = threading.Thread(target=produce)
            producer.start()
            try:
                write.execute(
                    f"LOAD DATA LOCAL INFILE %s INTO TABLE {kind.name} CHARACTER SET utf8mb4 "
                    f"({columns})",
                    (str(fifo),),
                )
            except pymysql.err.MySQLError as exc:
                with open(fifo, "rb") as drain:  # let the producer finish
                    drain.read()
                producer.join()
                print(f"LOAD DATA LOCAL refused by the server: {exc}", file=sys.stderr)
                return None
            producer.join()
            if errors:
                raise errors[0]
            tgt.commit()
            return time.perf_counter() - started
        finally:
            src.close()
            tgt.close()
            fifo.unlink()
            fifo.parent.rmdir()

    # ------------------------------------------------------------------ one table

    def table(self, kind: TableKind, rows: int, log: Callable[[str], None]) -> list[dict[str, Any]]:
        started = time.perf_counter()
        self.load("src", kind, rows)
        seconds = time.perf_counter() - started
        log(f"{self.engine.name} {kind.name}: loaded {rows:,} rows in {seconds:.1f}s")
        results = []
        for label, fraction in SCENARIOS:
            self.load("tgt", kind, rows)
            changed = self.differ(kind, rows, fraction)
            checksum_s, _ = self.checksums(kind)
            floor_s = self.hash_pass(kind)
            sync_s, counts, rss = self.sync(kind)
            self.verify(kind, "sync")
            written = counts["inserted"] + counts["updated"] + counts["deleted"]
            results.append(
                {
                    "engine": self.engine.name,
                    "table": kind.name,
                    "rows": rows,
                    "scenario": label,
                    "changed": changed,
                    "written": written,
                    "sync": sync_s,
                    "rss": rss,
                    "checksum": checksum_s,
                    "floor": floor_s,
                }
            )
            log(f"{self.engine.name} {kind.name} {label}: {results[-1]}")
        reloads = self.reloads(kind, rows)
        log(f"{self.engine.name} {kind.name} reloads: {reloads}")
        best = min(reloads, key=lambda k: reloads[k])
        for r in results:
            r["reload"], r["reload_kind"], r["reloads"] = reloads[best], best, reloads
        return results


def _tsv(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    if isinstance(value, datetime | date | Decimal | int | float):
        return str(value)
    if isinstance(value, bytes):
        return value.decode().replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    raise TypeError(f"no TSV form for {type(value).__name__}")


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# ============================================================================ report


def verdict(row: dict[str, Any]) -> tuple[str, bool]:
    if row["scenario"] == "unchanged":
        ratio = row["sync"] / row["checksum"]
        return f"{ratio:.2f}x checksum", ratio <= 3
    speedup = row["reload"] / row["sync"]
    need = 10 if row["scenario"] == "0.01%" else 2
    return f"{speedup:.1f}x faster", speedup >= need


def met(row: dict[str, Any]) -> bool:
    return verdict(row)[1] and row["rss"] <= MEMORY_LIMIT_MIB


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        "| engine | table | rows | scenario | rows differing | rows written | sync s | "
        "peak RSS MiB | fastest reload s | checksum both s | hash pass both s | ratio | "
        "target | met |"
    )
    print("|" + "---|" * 14)
    for r in results:
        ratio, _ = verdict(r)
        print(
            f"| {r['engine']} | {r['table']} | {r['rows']:,} | {r['scenario']} | "
            f"{r['changed']:,} | {r['written']:,} | {r['sync']:.2f} | {r['rss']:.0f} | "
            f"{r['reload']:.2f} ({r['reload_kind']}) | {r['checksum']:.2f} | "
            f"{r['floor']:.2f} | {ratio} | "
            f"{TARGETS[r['scenario']]} | {'ok' if met(r) else 'MISSED'} |"
        )
    print()
    seen = set()
    for r in results:
        if (r["engine"], r["table"]) not in seen:
            seen.add((r["engine"], r["table"]))
            figures = ", ".join(f"{k} {v:.2f}s" for k, v in r["reloads"].items())
            print(f"reloads, {r['engine']} {r['table']}: {figures}")


def run_engine(
    name: str, rows: int, side_rows: int, tables: list[str], log: Callable[[str], None]
) -> list[dict[str, Any]]:
    if name == "mysql":
        server = dbservers.start_mariadb(Path(tempfile.mkdtemp(prefix="bench-mariadb-")))
    else:
        server = dbservers.start_postgres()
    try:
        bench = Bench(Engine(name, server))
        results = []
        for table in tables:
            results += bench.table(TABLES[table], rows if table == "ref" else side_rows, log)
        return results
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)  # a 1M-row run leaves ~1 GB


# ============================================================================ child


def child(job: dict[str, Any]) -> None:
    """Run one sync and print its seconds and counts (the parent reads our peak RSS)."""
    dialect = get_dialect(job["engine"])
    src, tgt = open_conn(dialect, job["src"]), open_conn(dialect, job["tgt"])
    with contextlib.ExitStack() as stack:
        stack.callback(src.close)
        stack.callback(tgt.close)
        started = time.perf_counter()
        result = sync_table(
            dialect,
            src,
            tgt,
            TableSpec(job["table"], key=tuple(job["key"])),
            SyncSettings(),
            dry_run=False,
        )
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "counts": result.as_dict(), "peak_rss_mib": _peak_rss()}))


def _peak_rss() -> float:
    """This process's peak resident set in MiB. (VmHWM belongs to the process image: unlike
    a child's ru_maxrss it does not start from the parent's size at fork.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--side-rows", type=int, default=None, help="wide and pair (rows / 5)")
    parser.add_argument("--engines", default="mysql,postgres")
    parser.add_argument("--tables", default="ref,wide,pair")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    side_rows = args.side_rows or max(1, args.rows // 5)
    tables = [t.strip() for t in args.tables.split(",")]
    results: list[dict[str, Any]] = []
    for name in args.engines.split(","):
        results += run_engine(
            name.strip(),
            args.rows,
            side_rows,
            tables,
            lambda m: print(m, file=sys.stderr, flush=True),
        )
    print_table(results)
    if not all(met(r) for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
