"""Benchmark: replsync's range-checksum sync against truncate-and-reload.

Starts throw-away MariaDB and PostgreSQL servers (tests/dbservers.py), creates a source and a
target database on each, fills a reference-like table of ``--rows`` rows (INSERT ... SELECT
from generated numbers), then per scenario resets the target, applies scattered differences
and times:

* ``sync``: ``replsync.refdata.sync_table`` (what the Lambda runs per table), default settings;
* ``reload``: what a Lambda without replsync would do: stream every source row through the
  driver, TRUNCATE the target and INSERT them back in 1,000-row multi-row INSERTs, one
  transaction;
* ``checksum``: the server checksumming both tables once (``CHECKSUM TABLE`` on MySQL;
  ``md5(string_agg(row::text ORDER BY id))`` on PostgreSQL), the yardstick for the unchanged
  case.

After every sync the two tables are compared with the checksum queries, so a fast but wrong
sync fails the run. Usage: ``python bench/bench_replsync.py [--rows N] [--engines mysql,postgres]``
"""

from __future__ import annotations

import argparse
import io
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "lambda" / "replsync"))

import dbservers  # noqa: E402
from replsync.config import SyncSettings, TableSpec  # noqa: E402
from replsync.dialect import get_dialect  # noqa: E402
from replsync.refdata import sync_table  # noqa: E402

DDL = (
    "CREATE TABLE ref (id BIGINT NOT NULL PRIMARY KEY, code VARCHAR(16) NOT NULL, "
    "name VARCHAR(100) NULL, amount DECIMAL(12,2) NULL, d DATE NULL, ts TIMESTAMP NULL, "
    "active BOOLEAN NULL, note TEXT NULL)"
)
COLUMNS = "id, code, name, amount, d, ts, active, note"
SCENARIOS = [("unchanged", 0.0), ("0.01%", 0.0001), ("1%", 0.01)]
TARGETS = {"unchanged": "<=3x checksum", "0.01%": ">=10x reload", "1%": ">=2x reload"}


@dataclass
class Engine:
    """Engine-specific SQL for data generation and the checksum yardstick."""

    name: str
    server: Any

    def generate(self, rows: int) -> list[str]:
        # Even ids only, so the target can get extra rows in between (scattered deletes).
        if self.name == "postgres":
            return [
                f"INSERT INTO ref ({COLUMNS}) SELECT 2 * g, 'C' || g, 'name number ' || g, "
                "g * 1.25, date '2000-01-01' + (g % 9000), "
                "timestamp '2020-01-01' + g * interval '1 second', g % 2 = 0, "
                "CASE WHEN g % 7 = 0 THEN NULL ELSE 'some note text' END "
                f"FROM generate_series(1, {rows}) g",
                "ANALYZE ref",
            ]
        digits = max(1, math.ceil(math.log10(rows + 1)))
        tables = ", ".join(f"bench_digits d{i}" for i in range(digits))
        number = " + ".join(f"d{i}.n * {10**i}" for i in range(digits)) + " + 1"
        return [
            "CREATE TABLE IF NOT EXISTS bench_digits (n INT PRIMARY KEY)",
            "INSERT IGNORE INTO bench_digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)",
            f"INSERT INTO ref ({COLUMNS}) SELECT 2 * g, CONCAT('C', g), "
            "CONCAT('name number ', g), g * 1.25, DATE_ADD('2000-01-01', INTERVAL g % 9000 DAY), "
            "TIMESTAMP '2020-01-01 00:00:00' + INTERVAL g SECOND, g % 2 = 0, "
            "IF(g % 7 = 0, NULL, 'some note text') "
            f"FROM (SELECT {number} AS g FROM {tables}) nums WHERE g <= {rows}",
            "ANALYZE TABLE ref",
        ]

    def checksum_sql(self) -> str:
        if self.name == "postgres":
            return "SELECT md5(string_agg(t::text, '' ORDER BY id)) FROM ref t"
        return "CHECKSUM TABLE ref"


class Bench:
    def __init__(self, engine: Engine, rows: int) -> None:
        self.engine = engine
        self.rows = rows
        self.dialect = get_dialect(engine.name)
        self.dbs = {
            side: engine.server.new_database(f"bench_{side}")["dbname"] for side in ("src", "tgt")
        }

    def connect(self, side: str) -> Any:
        info = self.engine.server.connect_info(self.dbs[side])
        return self.dialect.connect(
            info["host"], info["port"], info["user"], info["password"], info["dbname"], timeout=600
        )

    def run_sql(self, side: str, statements: list[str], params: Any = None) -> None:
        conn = self.connect(side)
        try:
            cur = conn.cursor()
            for sql in statements:
                cur.execute(sql) if params is None else cur.execute(sql, params)
                if cur.description:
                    cur.fetchall()
            conn.commit()
        finally:
            conn.close()

    def load(self, side: str) -> None:
        self.run_sql(side, ["DROP TABLE IF EXISTS ref", DDL])
        self.run_sql(side, self.engine.generate(self.rows))

    def differ(self, fraction: float, seed: int = 7) -> int:
        """Scatter ``fraction`` of the rows as 80% updates, 10% missing, 10% extra."""
        count = round(self.rows * fraction)
        if not count:
            return 0
        ids = [2 * g for g in random.Random(seed).sample(range(1, self.rows + 1), count)]
        cut1, cut2 = int(count * 0.8), int(count * 0.9)
        for chunk in _chunks(ids[:cut1], 1000):
            self.run_sql(
                "tgt",
                [
                    f"UPDATE ref SET amount = amount + 1 WHERE id IN "
                    f"({', '.join(['%s'] * len(chunk))})"
                ],
                chunk,
            )
        for chunk in _chunks(ids[cut1:cut2], 1000):
            self.run_sql(
                "tgt", [f"DELETE FROM ref WHERE id IN ({', '.join(['%s'] * len(chunk))})"], chunk
            )
        for chunk in _chunks(ids[cut2:], 1000):
            self.run_sql(
                "tgt",
                [
                    f"INSERT INTO ref ({COLUMNS}) SELECT id + 1, code, name, "
                    "amount, d, ts, active, note FROM ref WHERE id IN "
                    f"({', '.join(['%s'] * len(chunk))})"
                ],
                chunk,
            )
        return count

    def checksums(self) -> tuple[float, list[Any]]:
        """Seconds the server needs to checksum both tables once, and the checksums."""
        values = []
        started = time.perf_counter()
        for side in ("src", "tgt"):
            conn = self.connect(side)
            cur = conn.cursor()
            cur.execute(self.engine.checksum_sql())
            values.append(cur.fetchone()[-1])
            conn.close()
        return time.perf_counter() - started, values

    def sync(self) -> tuple[float, dict[str, Any]]:
        src, tgt = self.connect("src"), self.connect("tgt")
        try:
            started = time.perf_counter()
            result = sync_table(
                self.dialect, src, tgt, TableSpec("ref"), SyncSettings(), dry_run=False
            )
            return time.perf_counter() - started, result.as_dict()
        finally:
            src.close()
            tgt.close()

    def reload(self) -> float:
        """Truncate-and-reload through the driver, one transaction."""
        src, tgt = self.connect("src"), self.connect("tgt")
        try:
            started = time.perf_counter()
            read = _streaming_cursor(self.engine.name, src)
            read.execute(f"SELECT {COLUMNS} FROM ref")
            write = tgt.cursor()
            write.execute("TRUNCATE TABLE ref")
            marks = "(" + ", ".join(["%s"] * 8) + ")"
            while rows := read.fetchmany(1000):
                write.execute(
                    f"INSERT INTO ref ({COLUMNS}) VALUES " + ", ".join([marks] * len(rows)),
                    [v for r in rows for v in r],
                )
            tgt.commit()
            return time.perf_counter() - started
        finally:
            src.close()
            tgt.close()

    def reload_copy(self) -> float | None:
        """PostgreSQL only, for reference: the same reload through COPY (the fastest bulk
        path; MySQL's LOAD DATA LOCAL would be its analogue)."""
        if self.engine.name != "postgres":
            return None
        src, tgt = self.connect("src"), self.connect("tgt")
        try:
            started = time.perf_counter()
            buffer = io.BytesIO()
            src.cursor().execute("COPY ref TO STDOUT", stream=buffer)
            buffer.seek(0)
            write = tgt.cursor()
            write.execute("TRUNCATE TABLE ref")
            write.execute("COPY ref FROM STDIN", stream=buffer)
            tgt.commit()
            return time.perf_counter() - started
        finally:
            src.close()
            tgt.close()

    def scenario(self, label: str, fraction: float) -> dict[str, Any]:
        self.load("tgt")
        changed = self.differ(fraction)
        checksum_s, _ = self.checksums()
        sync_s, counts = self.sync()
        _, after = self.checksums()
        if after[0] != after[1]:
            raise SystemExit(f"{self.engine.name} {label}: tables differ after sync")
        self.load("tgt")
        self.differ(fraction)
        reload_s = self.reload()
        _, after = self.checksums()
        if after[0] != after[1]:
            raise SystemExit(f"{self.engine.name} {label}: tables differ after reload")
        self.load("tgt")
        self.differ(fraction)
        copy_s = self.reload_copy()
        written = counts["inserted"] + counts["updated"] + counts["deleted"]
        return {
            "engine": self.engine.name,
            "rows": self.rows,
            "scenario": label,
            "changed": changed,
            "written": written,
            "sync": sync_s,
            "reload": reload_s,
            "checksum": checksum_s,
            "copy": copy_s,
        }


def _streaming_cursor(engine: str, conn: Any) -> Any:
    if engine == "mysql":
        import pymysql.cursors

        return conn.cursor(pymysql.cursors.SSCursor)  # rows stream, not all in memory
    return conn.cursor()  # pg8000 has no server-side cursor; it buffers the result


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def verdict(row: dict[str, Any]) -> tuple[str, str]:
    if row["scenario"] == "unchanged":
        ratio = row["sync"] / row["checksum"]
        return f"{ratio:.2f}x checksum", "ok" if ratio <= 3 else "MISSED"
    speedup = row["reload"] / row["sync"]
    need = 10 if row["scenario"] == "0.01%" else 2
    return f"{speedup:.1f}x faster", "ok" if speedup >= need else "MISSED"


def print_table(results: list[dict[str, Any]]) -> None:
    head = (
        "| engine | rows | scenario | rows differing | rows written | sync s | reload s "
        "| checksum both s | ratio | target | met | COPY reload s (info) |"
    )
    print(head)
    print("|" + "---|" * 12)
    for r in results:
        ratio, met = verdict(r)
        print(
            f"| {r['engine']} | {r['rows']:,} | {r['scenario']} | {r['changed']:,} | "
            f"{r['written']:,} | {r['sync']:.2f} | {r['reload']:.2f} | {r['checksum']:.2f} | "
            f"{ratio} | {TARGETS[r['scenario']]} | {met} | "
            + (f"{r['copy']:.2f} |" if r["copy"] is not None else "- |")
        )


def run_engine(name: str, rows: int, log: Callable[[str], None]) -> list[dict[str, Any]]:
    if name == "mysql":
        server = dbservers.start_mariadb(Path(tempfile.mkdtemp(prefix="bench-mariadb-")))
    else:
        server = dbservers.start_postgres()
    try:
        bench = Bench(Engine(name, server), rows)
        started = time.perf_counter()
        bench.load("src")
        log(f"{name}: loaded {rows:,} rows in {time.perf_counter() - started:.1f}s")
        results = []
        for label, fraction in SCENARIOS:
            results.append(bench.scenario(label, fraction))
            log(f"{name} {label}: {results[-1]}")
        return results
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="mysql,postgres")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    for name in args.engines.split(","):
        results += run_engine(name.strip(), args.rows, lambda m: print(m, file=sys.stderr))
    print_table(results)
    if any(verdict(r)[1] != "ok" for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
