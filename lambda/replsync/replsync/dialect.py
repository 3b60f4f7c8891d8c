"""Everything that differs between MySQL and PostgreSQL, one class per engine.

Other modules never branch on the engine: they ask the dialect for quoted identifiers, key
predicates, checksum expressions, catalog reads and DDL. ``DIALECTS`` maps the config's
``engine`` to the class. Identifiers are always quoted here; values are always left as ``%s``
placeholders (both drivers use the ``format`` paramstyle) except default expressions inside
DDL, which the catalog hands us as SQL text and which no engine accepts as a parameter.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from functools import cache
from typing import Any, ClassVar

import rdstls

from replsync.catalog import HISTORY_TABLE, Column, Index, Schema, Table
from replsync.splitter import MYSQL, POSTGRES, SplitOptions

Key = tuple[Any, ...]
Cursor = Any  # DB-API cursor (PyMySQL or pg8000)
Connection = Any  # DB-API connection


class Dialect(ABC):
    name: ClassVar[str]
    split_options: ClassVar[SplitOptions]
    transactional_ddl: ClassVar[bool]  # can a failed migration script be rolled back whole?
    current_schema: ClassVar[str]  # SQL naming the schema our tables live in
    # Range queries sent as one UNION ALL statement. Measured (bench/README.md): MariaDB
    # gains a little from fewer round trips; PostgreSQL plans a long UNION ALL slower than
    # it runs the queries one by one (0.50 s against 0.20 s for 101 ranges).
    union_parts: ClassVar[int]
    # Single integer key: cut the first level of key slices at leaf size, so that one
    # aggregated pass per side locates the differing rows. Measured (bench/README.md):
    # PostgreSQL's hash aggregate costs the same for 1,000 or 31,000 groups (0.55 s a
    # 1,000,000-row side), MariaDB's GROUP BY slows down with many groups (1.7 s -> 2.7 s).
    flat_slices: ClassVar[bool] = False
    # COPY in and out, and temporary tables: bulk writes through a staging table (staging.py).
    bulk_copy: ClassVar[bool] = False

    # ------------------------------------------------------------------ connections

    @abstractmethod
    def connect(
        self, host: str, port: int, user: str, password: str, dbname: str, timeout: float = 10.0
    ) -> Connection:
        """Open a verified TLS connection (see ``rdstls``) with autocommit off and a fixed
        session (UTC, ISO dates) so that value-to-text conversions, and so checksums, agree
        between environments."""

    @abstractmethod
    def begin_snapshot(self, conn: Connection) -> None:
        """Start a read-only transaction that sees one consistent snapshot."""

    def begin_compare(self, conn: Connection) -> None:  # noqa: B027 (optional hook)
        """Session tuning for the sync's queries, on the open transaction (source and target)."""

    @abstractmethod
    def is_transient(self, exc: BaseException) -> bool:
        """Deadlocks, lock timeouts, serialization failures, lost connections."""

    # ------------------------------------------------------------------ quoting

    @abstractmethod
    def quote(self, identifier: str) -> str: ...

    def literal(self, text: str) -> str:
        """A string literal for DDL only (defaults); data values are always bound."""
        return "'" + text.replace("'", "''") + "'"

    def column_list(self, names: Sequence[str]) -> str:
        return ", ".join(self.quote(n) for n in names)

    # ------------------------------------------------------------------ key predicates

    def compare(self, keys: Sequence[str], op: str, bound: Key) -> tuple[str, list[Any]]:
        """``key <op> bound`` in key order; op is one of > >= < <=."""
        if len(keys) == 1:
            return f"{self.quote(keys[0])} {op} %s", [bound[0]]
        return self.row_compare(keys, op, bound)

    @abstractmethod
    def row_compare(self, keys: Sequence[str], op: str, bound: Key) -> tuple[str, list[Any]]:
        """Composite-key comparison written so the engine can use the key's index."""

    def key_in(self, keys: Sequence[str], values: Sequence[Key]) -> tuple[str, list[Any]]:
        if len(keys) == 1:
            marks = ", ".join(["%s"] * len(values))
            return f"{self.quote(keys[0])} IN ({marks})", [v[0] for v in values]
        one = "(" + " AND ".join(f"{self.quote(k)} = %s" for k in keys) + ")"
        return "(" + " OR ".join([one] * len(values)) + ")", [x for v in values for x in v]

    def key_equals(self, keys: Sequence[str]) -> str:
        return " AND ".join(f"{self.quote(k)} = %s" for k in keys)

    # ------------------------------------------------------------------ checksums
    # ``typed``: the columns whose binary values may be hashed (same type on both sides), or
    # None to hash every column's text form (see ``binary_hash``).

    def binary_hash(self, cur: Cursor) -> bool:
        """Can this server hash column values without rendering them as text?"""
        return False

    @abstractmethod
    def range_checksum(self, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        """Select list ``count, aggregate`` over a NULL-safe per-row hash."""

    @abstractmethod
    def row_digest(self, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        """A fixed-length hex digest of the same NULL-safe row encoding, for row compares."""

    def digest_length(self, typed: Collection[str] | None) -> int:
        """Hex digits of ``row_digest``."""
        return 32  # MD5

    @abstractmethod
    def digest_list(self, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        """Aggregate concatenating the row digests of a range into one string: one value
        crosses the wire instead of one row per row."""

    @abstractmethod
    def pair_list(self, key: str, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        """Aggregate concatenating, per row, the (integer) key as 8 big-endian bytes and the
        row's binary digest: keys and digests of a range in one value, no second lookup."""

    def pair_digest_bytes(self, typed: Collection[str] | None) -> int:
        """Bytes of the digest in each ``pair_list`` record (after the 8 key bytes)."""
        return 16  # MD5

    def slice_checksums(
        self, bucket: str, table: str, where: str, columns: Sequence[Column], typed: Any
    ) -> str:
        """``slice, count, aggregate`` per key slice (``bucket``) of the rows ``where``."""
        checksum = self.range_checksum(columns, typed)
        return f"SELECT {bucket} AS b, {checksum} FROM {table}{where} GROUP BY 1"

    def slice_pairs(
        self, bucket: str, table: str, where: str, key: str, columns: Sequence[Column], typed: Any
    ) -> str:
        """``slice, count, pair_list`` per key slice (``bucket``) of the rows ``where``."""
        pairs = self.pair_list(key, columns, typed)
        return f"SELECT {bucket} AS b, COUNT(*), {pairs} FROM {table}{where} GROUP BY 1"

    # ------------------------------------------------------------------ key slices

    @abstractmethod
    def is_integer(self, column_type: str) -> bool:
        """Is a column of this (catalog) type an integer, so that keys can be sliced?"""

    @abstractmethod
    def bucket(self, key: str) -> str:
        """``(key - %s) DIV %s`` (base, width) in integer arithmetic: the key's slice."""

    @abstractmethod
    def estimate_rows(self, cur: Cursor, table: str) -> int | None:
        """The server's row-count estimate for ``table`` (statistics, no scan), if any."""

    def insert_sql(self, table: str, columns: Sequence[Column], rows: int) -> str:
        marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
        return (
            f"INSERT INTO {self.quote(table)} ({self.column_list([c.name for c in columns])})"
            f" VALUES {', '.join([marks] * rows)}"
        )

    @abstractmethod
    def update_sql(
        self, table: str, keys: Sequence[Column], values: Sequence[Column], rows: int
    ) -> str:
        """One statement updating ``rows`` rows by key; parameters per row: the key values,
        then the new values. (Per-row UPDATEs would cost a round trip each.)"""

    # ------------------------------------------------------------------ catalog

    @abstractmethod
    def read_schema(self, cur: Cursor, table: str | None = None) -> Schema:
        """Tables (all, or just ``table``), columns, primary keys and secondary indexes of the
        connection's database/schema, without our history table."""

    def read_table(self, cur: Cursor, table: str) -> Table | None:
        return self.read_schema(cur, table).tables.get(table)

    def has_table(self, cur: Cursor, table: str) -> bool:
        """Any base table, including the history table that read_schema leaves out."""
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = %s "
            f"AND table_schema = {self.current_schema}",
            (table,),
        )
        return bool(cur.fetchone()[0])

    @abstractmethod
    def history_ddl(self) -> str: ...

    @abstractmethod
    def try_lock(self, cur: Cursor, name: str) -> bool:
        """Session-level advisory lock, so two runs never migrate one database at once."""

    @abstractmethod
    def unlock(self, cur: Cursor, name: str) -> None: ...

    # ------------------------------------------------------------------ DDL

    @abstractmethod
    def column_definition(self, column: Column) -> str: ...

    def create_table(self, table: Table) -> str:
        parts = [self.column_definition(c) for c in table.columns]
        if table.primary_key:
            parts.append(f"PRIMARY KEY ({self.column_list(table.primary_key)})")
        return f"CREATE TABLE {self.quote(table.name)} ({', '.join(parts)})"

    def drop_table(self, name: str) -> str:
        return f"DROP TABLE {self.quote(name)}"

    def add_column(self, table: str, column: Column) -> str:
        return f"ALTER TABLE {self.quote(table)} ADD COLUMN {self.column_definition(column)}"

    def drop_column(self, table: str, column: str) -> str:
        return f"ALTER TABLE {self.quote(table)} DROP COLUMN {self.quote(column)}"

    @abstractmethod
    def alter_column(self, table: str, old: Column, new: Column, aspects: set[str]) -> list[str]:
        """DDL turning ``old`` into ``new``; aspects ⊆ {type, nullable, default}."""

    def create_index(self, index: Index) -> str:
        return index.definition

    @abstractmethod
    def drop_index(self, index: Index) -> str: ...

    @abstractmethod
    def replace_primary_key(self, old: Table, new_key: tuple[str, ...]) -> list[str]: ...


# ============================================================================ MySQL

_MYSQL_TRANSIENT = {
    1040,  # too many connections
    1205,  # lock wait timeout
    1213,  # deadlock
    1290,  # --read-only (Aurora failover in progress)
    1927,  # connection killed (MariaDB)
    2003,  # can't connect
    2006,  # server has gone away
    2013,  # lost connection during query
    2055,  # lost connection (system error)
}


@cache  # one class per process; drivers are imported on first use only
def _tls_only_mysql() -> Any:
    """PyMySQL's connection class, refusing a server that does not offer TLS.

    Given an SSL context, PyMySQL still authenticates in plaintext when the server's greeting
    lacks the SSL capability (what a host impersonating the cluster would send); this stops
    before anything, credentials included, is sent."""
    import pymysql
    from pymysql.constants import CLIENT

    class TlsOnlyConnection(pymysql.connections.Connection):  # type: ignore[misc]
        def _request_authentication(self) -> None:
            if not self.server_capabilities & CLIENT.SSL:
                raise rdstls.TlsRefused(f"{self.host} did not offer TLS")
            super()._request_authentication()

    return TlsOnlyConnection


class MySQLDialect(Dialect):
    """MySQL 5.7/8.0 (Aurora) and MariaDB, through PyMySQL.

    DDL auto-commits on MySQL, so a migration script that fails half-way leaves its earlier
    DDL applied: ``transactional_ddl`` is False and such a version must be repaired by hand.
    """

    name = "mysql"
    split_options = MYSQL
    transactional_ddl = False
    current_schema = "DATABASE()"
    union_parts = 256

    def connect(
        self, host: str, port: int, user: str, password: str, dbname: str, timeout: float = 10.0
    ) -> Connection:
        return _tls_only_mysql()(
            host=host,
            port=port,
            user=user,
            password=password,
            database=dbname,
            charset="utf8mb4",
            autocommit=False,
            connect_timeout=timeout,
            init_command="SET time_zone = '+00:00', group_concat_max_len = 67108864",
            ssl=rdstls.client_context(),
        )

    def begin_snapshot(self, conn: Connection) -> None:
        conn.rollback()  # transaction characteristics cannot change inside a transaction
        cur = conn.cursor()
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def is_transient(self, exc: BaseException) -> bool:
        import pymysql

        if isinstance(exc, pymysql.err.InterfaceError):
            return True  # the connection is already closed: a new one fixes that
        return (
            isinstance(exc, pymysql.err.MySQLError)
            and bool(exc.args)
            and exc.args[0] in _MYSQL_TRANSIENT
        )

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def literal(self, text: str) -> str:
        # Backslash is an escape in MySQL literals (unless NO_BACKSLASH_ESCAPES).
        return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"

    def update_sql(
        self, table: str, keys: Sequence[Column], values: Sequence[Column], rows: int
    ) -> str:
        # Join a derived table of the new rows; MySQL types its columns from all the rows.
        columns = [*keys, *values]
        first = "SELECT " + ", ".join(f"%s AS {self.quote(c.name)}" for c in columns)
        rest = "SELECT " + ", ".join(["%s"] * len(columns))
        derived = " UNION ALL ".join([first] + [rest] * (rows - 1))
        on = " AND ".join(f"t.{self.quote(k.name)} = v.{self.quote(k.name)}" for k in keys)
        sets = ", ".join(f"t.{self.quote(c.name)} = v.{self.quote(c.name)}" for c in values)
        return f"UPDATE {self.quote(table)} AS t JOIN ({derived}) AS v ON {on} SET {sets}"

    def row_compare(self, keys: Sequence[str], op: str, bound: Key) -> tuple[str, list[Any]]:
        # (a, b) > (x, y) spelled out: MariaDB's range optimizer ignores row constructors.
        strict, final = op[0], op
        terms, params = [], []
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            eq = [f"{self.quote(k)} = %s" for k in keys[:i]]
            term = " AND ".join([*eq, f"{self.quote(key)} {final if last else strict} %s"])
            terms.append(f"({term})")
            params.extend([*bound[:i], bound[i]])
        return "(" + " OR ".join(terms) + ")", params

    def _row_text(self, columns: Sequence[Column]) -> str:
        # CONCAT_WS with NUL separators skips NULLs; the trailing ISNULL mask records which
        # columns were NULL, so NULL, '' and a shifted value all encode differently. (Only
        # values containing NUL bytes could still shift across a column boundary.)
        parts = [self.quote(c.name) for c in columns]
        mask = [f"ISNULL({self.quote(c.name)})" for c in columns if c.nullable]
        if mask:
            parts.append(f"CONCAT({', '.join(mask)})")
        return f"CONCAT_WS(CHAR(0), {', '.join(parts)})"

    def range_checksum(self, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        # CRC is linear: two rows of one length changed the same way (say amount + 1) change
        # their CRCs by the same XOR mask and would cancel out in BIT_XOR. Multiplying modulo
        # a prime (a bijection, nearly free) breaks that; differing ranges are compared row
        # by row with MD5 before anything is written.
        crc = f"CRC32({self._row_text(columns)})"
        return f"COUNT(*), BIT_XOR(MOD({crc} * 2654435761, 4294967291))"

    def row_digest(self, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        return f"MD5({self._row_text(columns)})"

    def digest_list(self, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        return f"GROUP_CONCAT({self.row_digest(columns, typed)} SEPARATOR '')"

    def pair_list(self, key: str, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        # HEX of a negative BIGINT is its 64-bit two's complement: always 16 digits.
        key_bytes = f"UNHEX(LPAD(HEX({self.quote(key)}), 16, '0'))"
        digest = f"UNHEX({self.row_digest(columns, typed)})"
        return f"GROUP_CONCAT(CONCAT({key_bytes}, {digest}) SEPARATOR '')"

    def is_integer(self, column_type: str) -> bool:
        return re.match(r"(tiny|small|medium|big)?int\b", column_type.lower()) is not None

    def bucket(self, key: str) -> str:
        return f"({self.quote(key)} - %s) DIV %s"

    def estimate_rows(self, cur: Cursor, table: str) -> int | None:
        cur.execute(
            "SELECT TABLE_ROWS FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            (table,),
        )
        row = cur.fetchone()
        return int(row[0]) if row and row[0] else None

    # ------------------------------------------------------------------ catalog

    def read_schema(self, cur: Cursor, table: str | None = None) -> Schema:
        cur.execute("SELECT VERSION()")
        mariadb = "mariadb" in str(cur.fetchone()[0]).lower()
        columns = self._columns(cur, table, mariadb)
        keys, indexes = self._statistics(cur, table)
        tables = {
            name: Table(
                name, tuple(cols), tuple(keys.get(name, ())), "PRIMARY" if name in keys else None
            )
            for name, cols in columns.items()
        }
        return Schema(tables, {(i.table, i.name): i for i in indexes if i.table in tables})

    def _columns(self, cur: Cursor, table: str | None, mariadb: bool) -> dict[str, list[Column]]:
        sql = (
            "SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, "
            "c.COLUMN_DEFAULT, c.EXTRA, c.GENERATION_EXPRESSION "
            "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
            "ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
            "WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' "
            "AND c.TABLE_NAME <> %s"
        )
        params: list[Any] = [HISTORY_TABLE]
        if table is not None:
            sql += " AND c.TABLE_NAME = %s"
            params.append(table)
        cur.execute(sql + " ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION", params)
        out: dict[str, list[Column]] = {}
        for tname, name, ctype, nullable, default, extra, generation in cur.fetchall():
            out.setdefault(tname, []).append(
                self._column(
                    name, ctype, nullable == "YES", default, extra or "", generation, mariadb
                )
            )
        return out

    def _column(
        self,
        name: str,
        ctype: str,
        nullable: bool,
        default: str | None,
        extra: str,
        generation: str | None,
        mariadb: bool,
    ) -> Column:
        generated = generation or None
        kind = extra.upper()
        if generated:
            extra = "STORED" if "STORED" in kind else "VIRTUAL"
            default = None
        elif mariadb:
            # MariaDB reports defaults as SQL expressions already, and 'NULL' for none.
            default = None if default in (None, "NULL") else default
        else:
            default = self._mysql_default(default, kind, ctype)
        extra = re.sub(r"\s*DEFAULT_GENERATED\s*", " ", extra, flags=re.IGNORECASE).strip()
        return Column(name, ctype, nullable, default, extra, generated)

    def _mysql_default(self, default: str | None, kind: str, ctype: str) -> str | None:
        """MySQL (not MariaDB) gives literal defaults unquoted and expressions bare."""
        if default is None:
            return None
        if default.upper().startswith("CURRENT_TIMESTAMP") and (
            "time" in ctype.lower() or "DEFAULT_GENERATED" in kind
        ):
            return default
        if "DEFAULT_GENERATED" in kind:
            return f"({default})"
        return self.literal(default)

    def _statistics(
        self, cur: Cursor, table: str | None
    ) -> tuple[dict[str, list[str]], list[Index]]:
        sql = (
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE "
            "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
            "AND COLUMN_NAME IS NOT NULL"
        )
        params: list[Any] = []
        if table is not None:
            sql += " AND TABLE_NAME = %s"
            params.append(table)
        cur.execute(sql + " ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX", params)
        keys: dict[str, list[str]] = {}
        grouped: dict[tuple[str, str], list[Any]] = {}
        for tname, iname, non_unique, column, sub_part, itype in cur.fetchall():
            if iname == "PRIMARY":
                keys.setdefault(tname, []).append(column)
                continue
            part = self.quote(column) + (f"({sub_part})" if sub_part else "")
            grouped.setdefault((tname, iname), [not int(non_unique), itype, []])[2].append(part)
        indexes = [
            self._index(t, n, unique, itype, cols)
            for (t, n), (unique, itype, cols) in grouped.items()
        ]
        return keys, indexes

    def _index(self, table: str, name: str, unique: bool, itype: str, parts: list[str]) -> Index:
        kind = {"FULLTEXT": "FULLTEXT ", "SPATIAL": "SPATIAL "}.get(
            itype, "UNIQUE " if unique else ""
        )
        definition = (
            f"CREATE {kind}INDEX {self.quote(name)} ON {self.quote(table)} ({', '.join(parts)})"
        )
        return Index(table, name, unique, tuple(parts), definition)

    def history_ddl(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.quote(HISTORY_TABLE)} ("
            "`version` VARCHAR(64) NOT NULL PRIMARY KEY, "
            "`description` VARCHAR(255) NOT NULL, "
            "`checksum` CHAR(64) NOT NULL, "
            "`applied_at` TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), "
            "`duration_ms` INT NOT NULL, "
            "`success` BOOLEAN NOT NULL)"
        )

    def try_lock(self, cur: Cursor, name: str) -> bool:
        cur.execute("SELECT GET_LOCK(%s, 0)", (name,))
        return bool(cur.fetchone()[0])

    def unlock(self, cur: Cursor, name: str) -> None:
        cur.execute("SELECT RELEASE_LOCK(%s)", (name,))
        cur.fetchall()

    # ------------------------------------------------------------------ DDL

    def column_definition(self, column: Column) -> str:
        parts = [self.quote(column.name), column.type]
        if column.generated:
            return " ".join([*parts, f"AS ({column.generated})", column.extra])
        parts.append("NULL" if column.nullable else "NOT NULL")
        if column.default is not None:
            parts.append(f"DEFAULT {column.default}")
        if column.extra:
            parts.append(column.extra)
        return " ".join(parts)

    def alter_column(self, table: str, old: Column, new: Column, aspects: set[str]) -> list[str]:
        # MODIFY restates the whole column, so one statement covers every aspect.
        return [f"ALTER TABLE {self.quote(table)} MODIFY COLUMN {self.column_definition(new)}"]

    def drop_index(self, index: Index) -> str:
        return f"DROP INDEX {self.quote(index.name)} ON {self.quote(index.table)}"

    def replace_primary_key(self, old: Table, new_key: tuple[str, ...]) -> list[str]:
        parts = ["DROP PRIMARY KEY"] if old.primary_key else []
        if new_key:
            parts.append(f"ADD PRIMARY KEY ({self.column_list(new_key)})")
        return [f"ALTER TABLE {self.quote(old.name)} {', '.join(parts)}"]


# ============================================================================ PostgreSQL

_PG_TRANSIENT = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available
    "57P01",  # admin_shutdown (failover)
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now
    "53300",  # too_many_connections
}
_PG_NETWORK = (
    "network error",
    "communication error",
    "can't create a connection",
    "connection is closed",
)
# Types whose equal values have one binary form, so their own hash functions tell every
# difference (prefixes of format_type output; numeric only with a declared scale).
_PG_BINARY_SAFE = (
    "smallint",
    "integer",
    "bigint",
    "boolean",
    "date",
    "timestamp",
    "uuid",
    "bytea",
    "numeric(",
)
_PG_TEXT_TYPES = ("text", "character varying", "character(")
_PG_SERIAL = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}
_PG_SESSION = (
    "SET TIME ZONE 'UTC'",
    "SET datestyle TO 'ISO, YMD'",
    "SET intervalstyle TO 'postgres'",
    "SET extra_float_digits TO 3",
    "SET bytea_output TO 'hex'",
)


class PostgresDialect(Dialect):
    """PostgreSQL 13+ through pg8000; DDL is transactional, so scripts apply all-or-nothing."""

    name = "postgres"
    split_options = POSTGRES
    transactional_ddl = True
    current_schema = "current_schema()"
    union_parts = 1
    flat_slices = True
    bulk_copy = True

    def connect(
        self, host: str, port: int, user: str, password: str, dbname: str, timeout: float = 10.0
    ) -> Connection:
        import pg8000.dbapi

        # With a context pg8000 refuses a server that declines TLS, and authenticates with
        # SCRAM-SHA-256-PLUS (channel binding) when the server offers it, as Aurora does.
        try:
            conn = pg8000.dbapi.connect(
                user=user,
                password=password,
                host=host,
                port=port,
                database=dbname,
                timeout=timeout,
                application_name="replsync",
                ssl_context=rdstls.client_context(),
            )
        except pg8000.dbapi.InterfaceError as exc:
            if str(exc) == "Server refuses SSL":
                raise rdstls.TlsRefused(f"{host} did not offer TLS") from exc
            raise
        cur = conn.cursor()
        for statement in _PG_SESSION:
            cur.execute(statement)
        conn.commit()
        return conn

    def begin_snapshot(self, conn: Connection) -> None:
        conn.rollback()
        # pg8000 opens the transaction itself; SET TRANSACTION must be its first statement.
        conn.cursor().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def begin_compare(self, conn: Connection) -> None:
        # The two sides already run at once, one backend each: parallel workers on top
        # oversubscribe the cores and made the small slice queries 5-10x slower (measured
        # 0.12-0.17 s against 0.02 s). SET LOCAL: it ends with the transaction.
        conn.cursor().execute("SET LOCAL max_parallel_workers_per_gather = 0")

    def is_transient(self, exc: BaseException) -> bool:
        import pg8000.dbapi

        if isinstance(exc, pg8000.dbapi.InterfaceError):
            return any(text in str(exc).lower() for text in _PG_NETWORK)
        if isinstance(exc, pg8000.dbapi.DatabaseError) and exc.args:
            info = exc.args[0]
            code = info.get("C", "") if isinstance(info, dict) else ""
            return code in _PG_TRANSIENT or code.startswith("08")
        return False

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def row_compare(self, keys: Sequence[str], op: str, bound: Key) -> tuple[str, list[Any]]:
        # Row comparison is lexicographic in PostgreSQL and uses a multi-column btree index.
        marks = ", ".join(["%s"] * len(keys))
        return f"({self.column_list(keys)}) {op} ({marks})", list(bound)

    def _row_text(self, columns: Sequence[Column]) -> str:
        # A record's text form quotes what needs quoting and leaves NULL empty ('' is ""),
        # so it is an unambiguous, NULL-safe encoding of the row.
        return f"ROW({self.column_list([c.name for c in columns])})::text"

    def binary_hash(self, cur: Cursor) -> bool:
        # hash_record_extended arrived in PostgreSQL 14.
        cur.execute("SELECT current_setting('server_version_num')::int >= 140000")
        return bool(cur.fetchone()[0])

    def _row_hash(self, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        """A 64-bit hash of the row.

        Text form (any version): hashtextextended of the record's text, as the record's text
        is an unambiguous, NULL-safe encoding of the row. Rendering every value as text is
        most of the cost of a pass, so where the server can (14+), the row is hashed with
        hash_record_extended over the binary values: the types' own hash functions (stable
        across versions: hash partitioning relies on them), NULL-aware. Only types whose
        equal values are also identical are hashed that way (a numeric without a fixed
        scale has 1.0 = 1.00, floats have 0 = -0, other types may have no hash at all); the
        rest go through their text form, text-like values compared bytewise (COLLATE "C").
        hash_record_extended combines the column hashes linearly (h = 31 * h + column), so
        two rows swapping a value would cancel out in a SUM; hashint8extended on top makes
        each row's hash a non-linear function of the whole row, as the text hash is: a sum
        of them cannot cancel equal changes any more than the text hash's could.
        """
        if typed is None:
            return f"hashtextextended({self._row_text(columns)}, 0)"
        parts = [self._hashable(c, c.name in typed) for c in columns]
        return f"hashint8extended(hash_record_extended(ROW({', '.join(parts)}), 0), 1)"

    def _hashable(self, column: Column, typed: bool) -> str:
        name, kind = self.quote(column.name), column.type.lower()
        if typed and kind.startswith(_PG_TEXT_TYPES):
            return f'{name} COLLATE "C"'
        if typed and kind.startswith(_PG_BINARY_SAFE):
            return name
        return f'{name}::text COLLATE "C"'

    def range_checksum(self, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        # 64-bit hash per row, summed as numeric (no overflow, order-independent).
        return f"COUNT(*), COALESCE(SUM({self._row_hash(columns, typed)}), 0)"

    def row_digest(self, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        if typed is None:
            return f"md5({self._row_text(columns)})"
        return f"lpad(to_hex({self._row_hash(columns, typed)}), 16, '0')"

    def digest_length(self, typed: Collection[str] | None) -> int:
        return 32 if typed is None else 16

    def digest_list(self, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        return f"string_agg({self.row_digest(columns, typed)}, '')"

    def pair_list(self, key: str, columns: Sequence[Column], typed: Collection[str] | None) -> str:
        if typed is None:
            digest = f"decode(md5({self._row_text(columns)}), 'hex')"
        else:
            digest = f"int8send({self._row_hash(columns, typed)})"
        return f"string_agg(int8send({self.quote(key)}::bigint) || {digest}, ''::bytea)"

    def pair_digest_bytes(self, typed: Collection[str] | None) -> int:
        return 16 if typed is None else 8

    # A hash aggregate copies every column its aggregates read into its own input rows, so
    # hashing rows inside the aggregate copied whole rows first; hashed below it (OFFSET 0
    # keeps the subquery from being flattened) the aggregate sees two values a row.
    # Measured, 200,000 30-column rows: 0.75 s of server CPU against 0.32 s (one ungrouped
    # hash pass: 0.28 s).

    def slice_checksums(
        self, bucket: str, table: str, where: str, columns: Sequence[Column], typed: Any
    ) -> str:
        row = self._row_hash(columns, typed)
        return self._below(bucket, table, where, row, "COALESCE(SUM(h), 0)")

    def slice_pairs(
        self, bucket: str, table: str, where: str, key: str, columns: Sequence[Column], typed: Any
    ) -> str:
        if typed is None:
            digest = f"decode(md5({self._row_text(columns)}), 'hex')"
        else:
            digest = f"int8send({self._row_hash(columns, typed)})"
        row = f"int8send({self.quote(key)}::bigint) || {digest}"
        return self._below(bucket, table, where, row, "string_agg(h, ''::bytea)")

    def _below(self, bucket: str, table: str, where: str, row: str, aggregate: str) -> str:
        inner = f"SELECT {bucket} AS b, {row} AS h FROM {table}{where} OFFSET 0"
        return f"SELECT b, COUNT(*), {aggregate} FROM ({inner}) AS s GROUP BY 1"

    def is_integer(self, column_type: str) -> bool:
        return column_type in ("smallint", "integer", "bigint")

    def bucket(self, key: str) -> str:
        return f"({self.quote(key)} - %s::bigint) / %s::bigint"

    def estimate_rows(self, cur: Cursor, table: str) -> int | None:
        cur.execute(
            "SELECT c.reltuples::bigint FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname = %s",
            (table,),
        )
        row = cur.fetchone()
        return int(row[0]) if row and row[0] and row[0] > 0 else None

    def update_sql(
        self, table: str, keys: Sequence[Column], values: Sequence[Column], rows: int
    ) -> str:
        # UPDATE ... FROM (VALUES ...): parameters are cast to the column types, as a VALUES
        # list of untyped parameters would otherwise be text.
        columns = [*keys, *values]
        row = "(" + ", ".join(f"CAST(%s AS {c.type})" for c in columns) + ")"
        names = self.column_list([c.name for c in columns])
        on = " AND ".join(f"t.{self.quote(k.name)} = v.{self.quote(k.name)}" for k in keys)
        sets = ", ".join(f"{self.quote(c.name)} = v.{self.quote(c.name)}" for c in values)
        return (
            f"UPDATE {self.quote(table)} AS t SET {sets} "
            f"FROM (VALUES {', '.join([row] * rows)}) AS v ({names}) WHERE {on}"
        )

    def insert_sql(self, table: str, columns: Sequence[Column], rows: int) -> str:
        sql = super().insert_sql(table, columns, rows)
        if any("ALWAYS" in c.extra for c in columns):
            # Reference data keeps its ids: override GENERATED ALWAYS identity values.
            sql = sql.replace(" VALUES ", " OVERRIDING SYSTEM VALUE VALUES ", 1)
        return sql

    # ------------------------------------------------------------------ catalog

    def read_schema(self, cur: Cursor, table: str | None = None) -> Schema:
        columns = self._columns(cur, table)
        keys = self._primary_keys(cur, table)
        tables = {
            name: Table(
                name,
                tuple(cols),
                tuple(keys.get(name, (None, []))[1]),
                keys.get(name, (None, []))[0],
            )
            for name, cols in columns.items()
        }
        indexes = [i for i in self._indexes(cur, table) if i.table in tables]
        return Schema(tables, {(i.table, i.name): i for i in indexes})

    def _filter(self, alias: str, table: str | None) -> tuple[str, list[Any]]:
        sql = f" AND {alias}.relname <> %s"
        params: list[Any] = [HISTORY_TABLE]
        if table is not None:
            sql += f" AND {alias}.relname = %s"
            params.append(table)
        return sql, params

    def _columns(self, cur: Cursor, table: str | None) -> dict[str, list[Column]]:
        where, params = self._filter("c", table)
        cur.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), "
            "NOT a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, "
            "a.attgenerated::text FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND a.attnum > 0 AND NOT a.attisdropped" + where + " ORDER BY c.relname, a.attnum",
            params,
        )
        out: dict[str, list[Column]] = {}
        for tname, name, ctype, nullable, default, identity, generated in cur.fetchall():
            extra = {
                "a": "GENERATED ALWAYS AS IDENTITY",
                "d": "GENERATED BY DEFAULT AS IDENTITY",
            }.get(identity or "", "")
            gen = default if generated == "s" else None
            out.setdefault(tname, []).append(
                Column(name, ctype, bool(nullable), None if gen else default, extra, gen)
            )
        return out

    def _primary_keys(self, cur: Cursor, table: str | None) -> dict[str, tuple[str, list[str]]]:
        where, params = self._filter("c", table)
        cur.execute(
            "SELECT c.relname, con.conname, a.attname FROM pg_constraint con "
            "JOIN pg_class c ON c.oid = con.conrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
            "WHERE con.contype = 'p' AND n.nspname = current_schema()"
            + where
            + " ORDER BY c.relname, k.ord",
            params,
        )
        out: dict[str, tuple[str, list[str]]] = {}
        for tname, cname, column in cur.fetchall():
            out.setdefault(tname, (cname, []))[1].append(column)
        return out

    def _indexes(self, cur: Cursor, table: str | None) -> list[Index]:
        where, params = self._filter("t", table)
        cur.execute(
            "SELECT t.relname, i.relname, ix.indisunique, pg_get_indexdef(ix.indexrelid), "
            "ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) "
            "FROM generate_series(1, ix.indnkeyatts) AS k ORDER BY k) "
            "FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid "
            "JOIN pg_class t ON t.oid = ix.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT ix.indisprimary"
            + where
            + " ORDER BY t.relname, i.relname",
            params,
        )
        return [
            Index(t, name, bool(unique), tuple(cols), definition)
            for t, name, unique, definition, cols in cur.fetchall()
        ]

    def history_ddl(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.quote(HISTORY_TABLE)} ("
            '"version" varchar(64) NOT NULL PRIMARY KEY, '
            '"description" varchar(255) NOT NULL, '
            '"checksum" char(64) NOT NULL, '
            '"applied_at" timestamptz NOT NULL DEFAULT now(), '
            '"duration_ms" integer NOT NULL, '
            '"success" boolean NOT NULL)'
        )

    def try_lock(self, cur: Cursor, name: str) -> bool:
        cur.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (name,))
        return bool(cur.fetchone()[0])

    def unlock(self, cur: Cursor, name: str) -> None:
        cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))
        cur.fetchall()

    # ------------------------------------------------------------------ DDL

    def column_definition(self, column: Column) -> str:
        ctype, default = column.type, column.default
        if default and default.startswith("nextval(") and ctype in _PG_SERIAL:
            # A serial's sequence does not exist on the target yet: let serial create it.
            ctype, default = _PG_SERIAL[ctype], None
        parts = [self.quote(column.name), ctype]
        if column.generated:
            parts.append(f"GENERATED ALWAYS AS ({column.generated}) STORED")
        if column.extra:
            parts.append(column.extra)
        if default is not None:
            parts.append(f"DEFAULT {default}")
        if not column.nullable:
            parts.append("NOT NULL")
        return " ".join(parts)

    def alter_column(self, table: str, old: Column, new: Column, aspects: set[str]) -> list[str]:
        prefix = f"ALTER TABLE {self.quote(table)} ALTER COLUMN {self.quote(new.name)}"
        out = []
        if "type" in aspects and old.type != new.type:
            out.append(f"{prefix} TYPE {new.type}")
        if "type" in aspects and old.extra != new.extra:
            out.append(f"{prefix} DROP IDENTITY IF EXISTS")
            if new.extra:
                out.append(f"{prefix} ADD {new.extra}")
        if "nullable" in aspects:
            out.append(f"{prefix} {'DROP' if new.nullable else 'SET'} NOT NULL")
        if "default" in aspects:
            out.append(
                f"{prefix} SET DEFAULT {new.default}"
                if new.default is not None
                else f"{prefix} DROP DEFAULT"
            )
        return out

    def drop_index(self, index: Index) -> str:
        return f"DROP INDEX {self.quote(index.name)}"

    def replace_primary_key(self, old: Table, new_key: tuple[str, ...]) -> list[str]:
        out = []
        if old.primary_key_name:
            out.append(
                f"ALTER TABLE {self.quote(old.name)} "
                f"DROP CONSTRAINT {self.quote(old.primary_key_name)}"
            )
        if new_key:
            out.append(
                f"ALTER TABLE {self.quote(old.name)} ADD PRIMARY KEY ({self.column_list(new_key)})"
            )
        return out


DIALECTS: dict[str, type[Dialect]] = {"mysql": MySQLDialect, "postgres": PostgresDialect}


def get_dialect(engine: str) -> Dialect:
    try:
        return DIALECTS[engine]()
    except KeyError:
        raise ValueError(f"unknown engine {engine!r}; expected one of {sorted(DIALECTS)}") from None
