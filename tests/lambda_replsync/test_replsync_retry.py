"""Transient-error classification and retry with backoff, unit and against real servers."""

from __future__ import annotations

from typing import Any

import pg8000.dbapi
import pymysql
import pytest
from botocore.exceptions import ClientError
from replsync import app
from replsync.config import load_config
from replsync.connect import Connector, RetryPolicy, aws_is_transient, with_retry
from replsync.dialect import MySQLDialect, PostgresDialect, get_dialect
from replsync.errors import SyncFailed, TransientError
from replsync.runtime import Runtime
from replsync_helpers import CURRENCY_COLUMNS, CURRENCY_DDL, currency_row, insert_rows
from replsync_stack import Stack, json_lines

FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01)


def deadlock(engine: str) -> Exception:
    if engine == "mysql":
        return pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock")
    return pg8000.dbapi.DatabaseError({"S": "ERROR", "C": "40P01", "M": "deadlock detected"})


def syntax_error(engine: str) -> Exception:
    if engine == "mysql":
        return pymysql.err.ProgrammingError(1064, "You have an error in your SQL syntax")
    return pg8000.dbapi.DatabaseError({"S": "ERROR", "C": "42601", "M": "syntax error"})


@pytest.mark.parametrize("engine", ["mysql", "postgres"])
def test_classification(engine: str) -> None:
    dialect = get_dialect(engine)
    assert dialect.is_transient(deadlock(engine))
    assert not dialect.is_transient(syntax_error(engine))
    assert not dialect.is_transient(ValueError("x"))


def test_more_transient_codes() -> None:
    my, pg = MySQLDialect(), PostgresDialect()
    assert my.is_transient(pymysql.err.OperationalError(1205, "Lock wait timeout exceeded"))
    assert my.is_transient(pymysql.err.OperationalError(2013, "Lost connection"))
    assert not my.is_transient(pymysql.err.IntegrityError(1062, "Duplicate entry"))
    for code in ("40001", "55P03", "08006"):
        assert pg.is_transient(pg8000.dbapi.DatabaseError({"C": code, "M": "x"}))
    assert pg.is_transient(pg8000.dbapi.InterfaceError("network error"))
    assert not pg.is_transient(pg8000.dbapi.DatabaseError({"C": "23505", "M": "dup"}))


def test_aws_throttling_is_transient() -> None:
    throttled = ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "GetSecretValue"
    )
    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetSecretValue"
    )
    assert aws_is_transient(throttled) and not aws_is_transient(denied)


def test_with_retry_backs_off_exponentially_then_succeeds() -> None:
    calls, sleeps = [], []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise deadlock("mysql")
        return "done"

    policy = RetryPolicy(attempts=4, base_delay=1.0, max_delay=10.0)
    result = with_retry(
        flaky, is_transient=MySQLDialect().is_transient, policy=policy, sleep=sleeps.append
    )

    assert result == "done" and len(calls) == 3
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0  # doubled, with jitter


def test_with_retry_fails_fast_on_other_errors() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise syntax_error("postgres")

    with pytest.raises(pg8000.dbapi.DatabaseError):
        with_retry(
            broken, is_transient=PostgresDialect().is_transient, policy=FAST, sleep=lambda _s: None
        )
    assert len(calls) == 1


def test_with_retry_gives_up_with_transient_error() -> None:
    def always() -> None:
        raise deadlock("postgres")

    with pytest.raises(TransientError) as raised:
        with_retry(
            always, is_transient=PostgresDialect().is_transient, policy=FAST, sleep=lambda _s: None
        )
    assert raised.value.details["attempts"] == 3
    assert isinstance(raised.value.__cause__, pg8000.dbapi.DatabaseError)


# ---------------------------------------------------------------------------- real servers


class FaultyCursor:
    """Delegates to a real cursor but raises ``error`` on the first ``times`` writes."""

    def __init__(self, cursor: Any, owner: FaultyConnector) -> None:
        self._cursor = cursor
        self._owner = owner

    def execute(self, sql: str, params: Any = None) -> Any:
        if (
            sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
            and self._owner.remaining > 0
        ):
            self._owner.remaining -= 1
            self._owner.raised += 1
            raise self._owner.error
        return self._cursor.execute(sql) if params is None else self._cursor.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class FaultyConnection:
    def __init__(self, conn: Any, owner: FaultyConnector) -> None:
        self._conn = conn
        self._owner = owner

    def cursor(self) -> FaultyCursor:
        return FaultyCursor(self._conn.cursor(), self._owner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class FaultyConnector(Connector):
    """Connections to ``faulty_env`` fail their first ``times`` writes with ``error``."""

    def __init__(self, runtime: Runtime, faulty_env: str, error: Exception, times: int) -> None:
        super().__init__(runtime.config, runtime.dialect, policy=FAST)
        self.faulty_env, self.error, self.remaining, self.raised = faulty_env, error, times, 0
        self.opened = 0

    def open(self, name: str) -> Any:
        conn = super().open(name)
        if name != self.faulty_env:
            return conn
        self.opened += 1
        return FaultyConnection(conn, self)


def faulty_runtime(error: Exception, times: int) -> tuple[Runtime, FaultyConnector]:
    runtime = Runtime.from_config(load_config())
    runtime.connector = FaultyConnector(runtime, "staging", error, times)
    return runtime, runtime.connector


def seed(stack: Stack) -> None:
    stack.everywhere(CURRENCY_DDL)
    insert_rows(stack, "dev", "currency", CURRENCY_COLUMNS, [currency_row(i) for i in range(50)])
    insert_rows(
        stack, "staging", "currency", CURRENCY_COLUMNS, [currency_row(i) for i in range(0, 50, 2)]
    )
    stack.execute("staging", "UPDATE currency SET name = 'stale'")
    stack.set_tables([{"name": "currency", "exclude_columns": ["local_note"]}])


def test_deadlock_once_is_retried_and_succeeds(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(stack)
    runtime, connector = faulty_runtime(deadlock(stack.engine), times=1)
    capsys.readouterr()

    response = app.execute(
        {"action": "sync_reference_data", "source": "dev", "target": "staging"}, runtime
    )

    assert response["status"] == "ok"
    [table] = response["tables"]
    assert (table["inserted"], table["updated"]) == (25, 25)
    assert connector.raised == 1 and connector.opened == 2  # reconnected for the retry
    cols = ", ".join(CURRENCY_COLUMNS[:-1])
    assert stack.query("staging", f"SELECT {cols} FROM currency ORDER BY code") == stack.query(
        "dev", f"SELECT {cols} FROM currency ORDER BY code"
    )
    events = [line.get("event") for line in json_lines(capsys.readouterr().out)]
    assert "transient_error" in events


def test_persistent_deadlock_raises_transient_error(stack: Stack) -> None:
    seed(stack)
    before = stack.query("staging", "SELECT * FROM currency ORDER BY code")
    runtime, connector = faulty_runtime(deadlock(stack.engine), times=100)

    with pytest.raises(TransientError) as raised:
        app.execute(
            {"action": "sync_reference_data", "source": "dev", "target": "staging"}, runtime
        )

    assert connector.raised == FAST.attempts
    assert raised.value.details["table"] == "currency"
    assert stack.query("staging", "SELECT * FROM currency ORDER BY code") == before


def test_other_errors_fail_fast(stack: Stack) -> None:
    seed(stack)
    runtime, connector = faulty_runtime(syntax_error(stack.engine), times=100)

    with pytest.raises(SyncFailed):
        app.execute(
            {"action": "sync_reference_data", "source": "dev", "target": "staging"}, runtime
        )

    assert connector.raised == 1 and connector.opened == 1
