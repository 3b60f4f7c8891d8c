"""PostgreSQL (Aurora): the transactions table, the source of truth.

One connection per execution environment, kept across invocations (a TLS + SCRAM handshake
costs more than the insert). It is in autocommit mode on purpose: every statement is its own
transaction, so a frozen sandbox never sits "idle in transaction" holding a snapshot, and a
failed statement does not poison the next message's.

A connection found broken (Aurora restarted, idle timeout, failover) is dropped and the
statement retried once on a fresh one; any other database error is the message's failure.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import rdstls

from txnproc import aws
from txnproc.config import ProcessorConfig
from txnproc.errors import ConfigError, DatabaseUnavailable, TransactionConflict
from txnproc.message import Transaction
from txnproc.observe import log

T = TypeVar("T")

CONNECT_TIMEOUT = 5.0  # seconds, also the socket timeout of every statement
STATEMENT_TIMEOUT_MS = 5_000  # server side: a lock wait cannot outlive the Lambda

SCHEMA = """
CREATE TABLE IF NOT EXISTS transactions (
    transaction_id text PRIMARY KEY,
    account_id text NOT NULL,
    amount numeric(20,2) NOT NULL,
    currency char(3) NOT NULL,
    session_id text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    region text NOT NULL
)
"""
COLUMNS = (
    "transaction_id, account_id, amount, currency, session_id, occurred_at, recorded_at, region"
)
INSERT = f"""
INSERT INTO transactions
    (transaction_id, account_id, amount, currency, session_id, occurred_at, region)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (transaction_id) DO NOTHING
RETURNING {COLUMNS}
"""
SELECT = f"SELECT {COLUMNS} FROM transactions WHERE transaction_id = %s"

# SQLSTATEs of a connection that is gone: class 08 (connection exception) and the
# admin/crash shutdowns Aurora sends on restart or failover.
_LOST_STATES = ("57P01", "57P02", "57P03")
# Two cold starts racing on CREATE TABLE IF NOT EXISTS: one of them can hit the unique index
# of pg_type / pg_class instead of the IF NOT EXISTS check. The table exists either way.
_ALREADY_EXISTS = ("23505", "42P07")
_BAD_PASSWORD = "28P01"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print the password, even in a traceback
        return f"Credentials(username={self.username!r})"


@dataclass(frozen=True)
class Stored:
    """The row as it is in the database (for a duplicate: as the first delivery wrote it)."""

    transaction: Transaction
    recorded_at: datetime
    region: str
    inserted: bool  # False: the transaction id was already there


def sqlstate(exc: BaseException) -> str:
    info = exc.args[0] if exc.args else None
    return str(info.get("C", "")) if isinstance(info, dict) else ""


def connection_lost(exc: BaseException) -> bool:
    import pg8000.dbapi

    if isinstance(exc, pg8000.dbapi.InterfaceError | OSError):
        return True  # network error, closed socket, timeout
    code = sqlstate(exc)
    return code.startswith("08") or code in _LOST_STATES


def read_secret(config: ProcessorConfig) -> Credentials:
    """Username and password from the secret (the RDS-managed secret's JSON shape)."""
    parts = config.db_secret_arn.split(":")
    # A secret is read in its own region: the ARN says which.
    region = parts[3] if len(parts) > 4 and parts[0] == "arn" and parts[3] else config.region
    raw = aws.client("secretsmanager", region).get_secret_value(SecretId=config.db_secret_arn)
    try:
        data = json.loads(raw["SecretString"])
        return Credentials(str(data["username"]), str(data["password"]))
    except (ValueError, KeyError, TypeError) as exc:
        # Never log the secret itself, only that its shape is wrong.
        raise ConfigError("DB_SECRET_ARN's secret has no JSON username/password") from exc


def _tls_context() -> ssl.SSLContext:
    try:
        return rdstls.client_context()
    except rdstls.TlsConfigError as exc:
        raise ConfigError(str(exc)) from exc


def connect(config: ProcessorConfig, creds: Credentials) -> Any:
    """A verified TLS connection (chain to the RDS CA bundle, host name checked: see
    ``rdstls``); pg8000 refuses a server that declines TLS."""
    import pg8000.dbapi

    conn = pg8000.dbapi.connect(
        user=creds.username,
        password=creds.password,
        host=config.db_host,
        port=config.db_port,
        database=config.db_name,
        timeout=CONNECT_TIMEOUT,
        ssl_context=_tls_context(),
        application_name="txnproc",
        startup_params={"statement_timeout": str(STATEMENT_TIMEOUT_MS)},
    )
    conn.autocommit = True
    return conn


class Store:
    def __init__(
        self,
        config: ProcessorConfig,
        secrets: Callable[[ProcessorConfig], Credentials] = read_secret,
        connector: Callable[[ProcessorConfig, Credentials], Any] = connect,
    ) -> None:
        self.config = config
        self._secrets = secrets
        self._connector = connector
        self._creds: Credentials | None = None
        self._conn: Any = None
        self._schema_ready = False

    # ------------------------------------------------------------------ connection

    def _open(self) -> Any:
        if self._creds is None:
            self._creds = self._secrets(self.config)
        try:
            return self._connector(self.config, self._creds)
        except Exception as exc:
            if sqlstate(exc) != _BAD_PASSWORD:
                raise
            # The secret was rotated since this sandbox read it: read it again, once.
            log("warning", "db_password_rejected", action="rereading secret")
            self._creds = self._secrets(self.config)
            return self._connector(self.config, self._creds)

    def _connection(self) -> Any:
        if self._conn is None:
            try:
                self._conn = self._open()
            except ConfigError:
                raise
            except Exception as exc:
                refused = rdstls.refusal(exc)
                reason = f"TLS verification failed: {refused}" if refused else repr(exc)
                raise DatabaseUnavailable(f"cannot connect to the database: {reason}") from exc
            log("info", "db_connected", host=self.config.db_host, database=self.config.db_name)
        return self._conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.close()
        except Exception as exc:  # a broken connection may fail to close; nothing to do
            log("debug", "db_close_failed", error=repr(exc))

    def _run(self, what: str, fn: Callable[[Any], T]) -> T:
        """``fn(connection)``; on a lost connection reconnect and try once more."""
        for attempt in (1, 2):
            reused = self._conn is not None
            conn = self._connection()
            try:
                return fn(conn)
            except Exception as exc:
                if not connection_lost(exc):
                    raise
                self.close()
                if attempt == 2:
                    raise
                log("warning", "db_connection_lost", what=what, reused=reused, error=repr(exc))
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ statements

    def ensure_schema(self) -> None:
        """CREATE TABLE IF NOT EXISTS, once per execution environment."""
        if self._schema_ready:
            return

        def create(conn: Any) -> None:
            try:
                conn.cursor().execute(SCHEMA)
            except Exception as exc:
                if sqlstate(exc) not in _ALREADY_EXISTS:
                    raise

        self._run("create table", create)
        self._schema_ready = True

    def ping(self) -> bool:
        """Whether the database takes writes (raises when it cannot answer at all).

        A Global Database secondary answers read-only, and so does the old primary once a
        failover has moved the writer away: its region must then fail its health check, or
        Route 53 would send traffic back to a database that refuses every transaction.
        """

        def writable(conn: Any) -> bool:
            cur = conn.cursor()
            cur.execute("SHOW transaction_read_only")
            (value,) = cur.fetchone()
            return bool(value == "off")

        return self._run("ping", writable)

    def record(self, txn: Transaction) -> Stored:
        """Insert the transaction unless its id is already stored (then read that row).

        Raises ``TransactionConflict`` when the stored row is a different transaction under
        the same id: overwriting would lose one of the two.
        """
        self.ensure_schema()

        def insert(conn: Any) -> tuple[tuple[Any, ...], bool]:
            cur = conn.cursor()
            cur.execute(
                INSERT,
                (
                    txn.transaction_id,
                    txn.account_id,
                    txn.amount,
                    txn.currency,
                    txn.session_id,
                    txn.occurred_at,
                    self.config.region,
                ),
            )
            rows = cur.fetchall()
            if rows:
                return tuple(rows[0]), True
            # ON CONFLICT DO NOTHING returns nothing: the row committed first is the truth.
            cur.execute(SELECT, (txn.transaction_id,))
            return tuple(cur.fetchall()[0]), False

        row, inserted = self._run("insert transaction", insert)
        stored = Stored(
            transaction=Transaction(
                transaction_id=row[0],
                account_id=row[1],
                amount=row[2],
                currency=row[3],
                session_id=row[4],
                occurred_at=row[5],
            ),
            recorded_at=row[6],
            region=row[7],
            inserted=inserted,
        )
        if not inserted and _differs(stored.transaction, txn):
            raise TransactionConflict(
                f"transaction {txn.transaction_id} is already stored with other content"
            )
        return stored


def _differs(stored: Transaction, incoming: Transaction) -> bool:
    # occurred_at is left out: a resent message without one gets a new default time.
    return (stored.account_id, stored.amount, stored.currency, stored.session_id) != (
        incoming.account_id,
        incoming.amount,
        incoming.currency,
        incoming.session_id,
    )
