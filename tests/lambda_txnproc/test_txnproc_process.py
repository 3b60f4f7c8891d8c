"""The SQS consumer against a real PostgreSQL and moto (DynamoDB, S3, Secrets Manager)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pg8000.dbapi
import pytest
from dbservers import free_port
from txnproc import services as services_mod
from txnproc.errors import InvalidEvent
from txnproc_helpers import (
    BUCKET,
    NOW,
    REGION,
    Stack,
    json_lines,
    load_handler,
    message,
    sqs_event,
    sqs_record,
)

OCCURRED = datetime(2024, 5, 17, 9, 15, tzinfo=UTC)


def test_valid_batch_written_everywhere(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    first = message()
    second = message(
        transaction_id="txn-0002",
        account_id="acct-7",
        amount=42,
        currency="EUR",
        session_id="sess-b",
        occurred_at="2024-05-18T01:02:03.250+02:00",
    )
    result = stack.invoke(sqs_event(sqs_record(first, "m-1"), sqs_record(second, "m-2")))

    assert result == {"batchItemFailures": []}
    assert stack.rows() == [
        ("txn-0001", "acct-42", Decimal("125.50"), "USD", "sess-a", OCCURRED, REGION),
        (
            "txn-0002",
            "acct-7",
            Decimal("42.00"),
            "EUR",
            "sess-b",
            datetime(2024, 5, 17, 23, 2, 3, 250_000, tzinfo=UTC),
            REGION,
        ),
    ]
    [(recorded_at,)] = stack.query("SELECT recorded_at FROM transactions WHERE amount = 125.5")
    assert stack.session("sess-a") == {
        "session_id": {"S": "sess-a"},
        "last_transaction_id": {"S": "txn-0001"},
        "last_occurred_at": {"N": "1715937300"},
        "updated_at": {"S": "2024-05-17T12:30:45+00:00"},
        "expires_at": {"N": str(int(NOW.timestamp()) + 3600)},
        "region": {"S": REGION},
    }
    assert stack.session("sess-b")["last_occurred_at"] == {"N": "1715986923.25"}
    # The day of occurred_at in UTC: txn-0002 happened on the 18th at +02:00, the 17th in UTC.
    assert stack.log_keys() == [
        "transactions/2024/05/17/txn-0001.json",
        "transactions/2024/05/17/txn-0002.json",
    ]
    assert stack.log_object("transactions/2024/05/17/txn-0001.json") == {
        "transaction_id": "txn-0001",
        "account_id": "acct-42",
        "amount": "125.50",
        "currency": "USD",
        "session_id": "sess-a",
        "occurred_at": "2024-05-17T09:15:00+00:00",
        "recorded_at": recorded_at.astimezone(UTC).isoformat(),
        "region": REGION,
    }
    head = stack.client("s3").head_object(
        Bucket=BUCKET, Key="transactions/2024/05/17/txn-0001.json"
    )
    assert head["ContentType"] == "application/json"

    lines = json_lines(capsys.readouterr().out)
    recorded = [r for r in lines if r.get("event") == "transaction_recorded"]
    assert [(r["transaction_id"], r["duplicate"]) for r in recorded] == [
        ("txn-0001", False),
        ("txn-0002", False),
    ]
    done = next(r for r in lines if r.get("event") == "batch_done")
    assert done["messages"] == 2 and done["failed"] == 0 and done["TransactionsWritten"] == 2
    emf = next(r for r in lines if "_aws" in r)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "replgen/txnproc"
    assert emf["TransactionsWritten"] == 2.0 and emf["TransactionsFailed"] == 0.0
    assert emf["Function"] == "processor" and emf["Region"] == REGION
    assert "125.50" not in json.dumps(lines)  # amounts stay out of the logs


def test_table_created_on_cold_start(stack: Stack) -> None:
    assert stack.query("SELECT to_regclass('transactions')") == [(None,)]
    stack.invoke(sqs_event(sqs_record(message(), "m-1")))
    columns = stack.query(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = 'transactions' ORDER BY ordinal_position"
    )
    assert columns == [
        ("transaction_id", "text", "NO"),
        ("account_id", "text", "NO"),
        ("amount", "numeric", "NO"),
        ("currency", "character", "NO"),
        ("session_id", "text", "NO"),
        ("occurred_at", "timestamp with time zone", "NO"),
        ("recorded_at", "timestamp with time zone", "NO"),
        ("region", "text", "NO"),
    ]


def test_duplicate_written_once(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    body = message()
    result = stack.invoke(sqs_event(sqs_record(body, "m-1"), sqs_record(body, "m-2")))
    assert result == {"batchItemFailures": []}
    first_log = stack.log_object("transactions/2024/05/17/txn-0001.json")

    # A later redelivery (another batch, another invocation) is not a failure either.
    again = stack.invoke(sqs_event(sqs_record(body, "m-3")))
    assert again == {"batchItemFailures": []}
    assert stack.query("SELECT count(*) FROM transactions") == [(1,)]
    assert stack.log_keys() == ["transactions/2024/05/17/txn-0001.json"]
    assert stack.log_object("transactions/2024/05/17/txn-0001.json") == first_log
    assert stack.session("sess-a")["last_transaction_id"] == {"S": "txn-0001"}

    recorded = [
        r["duplicate"]
        for r in json_lines(capsys.readouterr().out)
        if r.get("event") == "transaction_recorded"
    ]
    assert recorded == [False, True, True]


def test_duplicate_without_occurred_at_keeps_first_time(stack: Stack) -> None:
    """Resent without occurred_at (another SentTimestamp): the stored time wins, so the S3
    key and the row do not move."""
    body = message(occurred_at=None)
    stack.invoke(sqs_event(sqs_record(body, "m-1", sent_ms=1_715_900_000_000)))
    result = stack.invoke(sqs_event(sqs_record(body, "m-2", sent_ms=1_716_100_000_000)))
    assert result == {"batchItemFailures": []}
    sent = datetime.fromtimestamp(1_715_900_000, UTC)
    assert stack.query("SELECT occurred_at FROM transactions") == [(sent,)]
    assert stack.log_keys() == [f"transactions/{sent:%Y/%m/%d}/txn-0001.json"]


def test_conflicting_duplicate_fails(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    stack.invoke(sqs_event(sqs_record(message(), "m-1")))
    result = stack.invoke(sqs_event(sqs_record(message(amount="999.00"), "m-2")))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert stack.query("SELECT amount FROM transactions") == [(Decimal("125.50"),)]
    conflict = [
        r for r in json_lines(capsys.readouterr().out) if r.get("event") == "transaction_conflict"
    ]
    assert conflict[0]["transaction_id"] == "txn-0001" and conflict[0]["stage"] == "database"


def test_malformed_messages_reported_others_written(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = message(transaction_id="txn-missing")
    del missing["account_id"]
    records = [
        sqs_record(message(transaction_id="good-1"), "m-good-1"),
        sqs_record(message(transaction_id="bad-cur", currency="usd"), "m-currency"),
        sqs_record(message(transaction_id="bad-neg", amount="-10.00"), "m-negative"),
        sqs_record(message(transaction_id="bad-dec", amount="10.001"), "m-decimals"),
        sqs_record(missing, "m-missing"),
        sqs_record("{not json", "m-json"),
        sqs_record(message(transaction_id="good-2", session_id="sess-z"), "m-good-2"),
    ]
    result = stack.invoke(sqs_event(*records))

    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": m}
            for m in ("m-currency", "m-negative", "m-decimals", "m-missing", "m-json")
        ]
    }
    assert [r[0] for r in stack.rows()] == ["good-1", "good-2"]
    assert stack.log_keys() == [
        "transactions/2024/05/17/good-1.json",
        "transactions/2024/05/17/good-2.json",
    ]
    rejected = {
        r["message_id"]: r["reason"]
        for r in json_lines(capsys.readouterr().out)
        if r.get("event") == "message_rejected"
    }
    assert rejected == {
        "m-currency": "currency must be an active ISO 4217 code in upper case",
        "m-negative": "amount must be greater than 0",
        "m-decimals": "amount must have at most 2 decimal places",
        "m-missing": "missing field(s): account_id",
        "m-json": "body is not valid JSON",
    }


def test_db_failure_mid_batch_is_per_message(stack: Stack) -> None:
    """A statement that fails for one message (here a trigger) fails only that message."""
    stack.query(
        """
        CREATE TABLE transactions (
            transaction_id text PRIMARY KEY, account_id text NOT NULL,
            amount numeric(20,2) NOT NULL, currency char(3) NOT NULL,
            session_id text NOT NULL, occurred_at timestamptz NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(), region text NOT NULL)
        """
    )
    stack.query(
        """
        CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.transaction_id = 'boom' THEN RAISE EXCEPTION 'disk full (simulated)'; END IF;
            RETURN NEW;
        END $$
        """
    )
    stack.query(
        "CREATE TRIGGER refuse BEFORE INSERT ON transactions "
        "FOR EACH ROW EXECUTE FUNCTION refuse_boom()"
    )
    result = stack.invoke(
        sqs_event(
            sqs_record(message(transaction_id="before"), "m-1"),
            sqs_record(message(transaction_id="boom"), "m-2"),
            sqs_record(message(transaction_id="after"), "m-3"),
        )
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert [r[0] for r in stack.rows()] == ["after", "before"]
    assert stack.log_keys() == [
        "transactions/2024/05/17/after.json",
        "transactions/2024/05/17/before.json",
    ]


def test_connection_lost_mid_batch(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    """The server drops the connection while writing one message: that message fails after
    one retry on a fresh connection, and the rest of the batch is written on a new one."""
    stack.invoke(sqs_event(sqs_record(message(transaction_id="warm-up"), "m-0")))
    stack.query(
        """
        CREATE FUNCTION kill_on_boom() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.transaction_id = 'boom' THEN PERFORM pg_terminate_backend(pg_backend_pid());
            END IF;
            RETURN NEW;
        END $$
        """
    )
    stack.query(
        "CREATE TRIGGER kill BEFORE INSERT ON transactions "
        "FOR EACH ROW EXECUTE FUNCTION kill_on_boom()"
    )
    capsys.readouterr()
    result = stack.invoke(
        sqs_event(
            sqs_record(message(transaction_id="before"), "m-1"),
            sqs_record(message(transaction_id="boom"), "m-2"),
            sqs_record(message(transaction_id="after"), "m-3"),
        )
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert [r[0] for r in stack.rows()] == ["after", "before", "warm-up"]
    lines = json_lines(capsys.readouterr().out)
    assert [r["what"] for r in lines if r.get("event") == "db_connection_lost"] == [
        "insert transaction"
    ]
    failed = next(r for r in lines if r.get("event") == "write_failed")
    assert failed["message_id"] == "m-2" and failed["stage"] == "database"


def test_database_unreachable_fails_every_message_fast(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.set_env(DB_PORT=str(free_port()))  # nothing listens there
    started = time.monotonic()
    result = stack.invoke(
        sqs_event(*(sqs_record(message(transaction_id=f"t-{i}"), f"m-{i}") for i in range(5)))
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": f"m-{i}"} for i in range(5)]}
    assert time.monotonic() - started < 5
    assert stack.log_keys() == []
    assert stack.session("sess-a") is None
    failed = [r for r in json_lines(capsys.readouterr().out) if r.get("event") == "write_failed"]
    assert {r["error"] for r in failed} == {"DatabaseUnavailable"}
    assert len(failed) == 5


def test_s3_failure_then_retry_is_idempotent(stack: Stack) -> None:
    s3 = stack.client("s3")
    s3.delete_bucket(Bucket=BUCKET)
    event = sqs_event(sqs_record(message(), "m-1"))
    assert stack.invoke(event) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert stack.query("SELECT count(*) FROM transactions") == [(1,)]  # the row is in

    s3.create_bucket(Bucket=BUCKET)
    assert stack.invoke(event) == {"batchItemFailures": []}  # SQS redelivers it
    assert stack.query("SELECT count(*) FROM transactions") == [(1,)]
    assert stack.log_keys() == ["transactions/2024/05/17/txn-0001.json"]


def test_dynamodb_failure_reported(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    stack.set_env(SESSIONS_TABLE="no-such-table")
    result = stack.invoke(sqs_event(sqs_record(message(), "m-1")))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    failed = next(
        r for r in json_lines(capsys.readouterr().out) if r.get("event") == "write_failed"
    )
    assert failed["stage"] == "sessions" and failed["error"] == "ResourceNotFoundException"


def test_session_not_moved_back_by_older_transaction(stack: Stack) -> None:
    newer = message(transaction_id="newer", occurred_at="2024-05-17T10:00:00Z")
    older = message(transaction_id="older", occurred_at="2024-05-17T09:00:00Z")
    result = stack.invoke(sqs_event(sqs_record(newer, "m-1"), sqs_record(older, "m-2")))
    assert result == {"batchItemFailures": []}  # older is still recorded, just not "last"
    assert [r[0] for r in stack.rows()] == ["newer", "older"]
    assert stack.session("sess-a")["last_transaction_id"] == {"S": "newer"}


def test_connection_reused_and_recovered(stack: Stack) -> None:
    def backends() -> list[tuple[Any, ...]]:
        return stack.query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'txnproc' "
            "AND datname = current_database()"
        )

    stack.invoke(sqs_event(sqs_record(message(transaction_id="a"), "m-1")))
    first = backends()
    stack.invoke(sqs_event(sqs_record(message(transaction_id="b"), "m-2")))
    assert len(first) == 1 and backends() == first  # one connection, kept between invocations

    # Aurora restarts (or an idle timeout) between invocations: reconnect transparently.
    stack.query("SELECT pg_terminate_backend(%s)", first[0])
    assert stack.invoke(sqs_event(sqs_record(message(transaction_id="c"), "m-3"))) == {
        "batchItemFailures": []
    }
    assert [r[0] for r in stack.rows()] == ["a", "b", "c"]
    assert len(backends()) == 1 and backends() != first


def test_rotated_password_rereads_secret(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    """The password changed since this sandbox read the secret: read it again, once."""
    from txnproc.config import load_processor
    from txnproc.store import Credentials, Store

    handed_out = iter(
        [
            Credentials(stack.db["user"], "the-password-before-rotation"),
            Credentials(stack.db["user"], stack.db["password"]),
        ]
    )
    reads: list[str] = []

    def secrets(_config: Any) -> Credentials:
        creds = next(handed_out)
        reads.append(creds.password)
        return creds

    store = Store(load_processor(), secrets=secrets)
    try:
        store.ping()
    finally:
        store.close()
    assert len(reads) == 2
    events = [r.get("event") for r in json_lines(capsys.readouterr().out)]
    assert events == ["db_password_rejected", "db_connected"]
    assert "s3cret" not in repr(Credentials("u", "s3cret"))  # not even in a traceback


def test_bad_secret_fails_each_message(stack: Stack) -> None:
    """A secret without username/password is an infrastructure bug: every message fails."""
    stack.client("secretsmanager").put_secret_value(
        SecretId=stack.secret_arn, SecretString="not json"
    )
    result = stack.invoke(sqs_event(sqs_record(message(), "m-1")))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_config_error_raises(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from txnproc import app
    from txnproc.errors import ConfigError

    monkeypatch.delenv("QUEUE_URL")
    with pytest.raises(ConfigError, match="QUEUE_URL"):
        app.handler(sqs_event(sqs_record(message(), "m-1")))


def test_handler_entry_point(stack: Stack) -> None:
    handler = load_handler()
    stack.services()
    assert handler.handler(sqs_event(sqs_record(message(), "m-1")), None) == {
        "batchItemFailures": []
    }
    assert callable(handler.failover)
    with pytest.raises(InvalidEvent):
        handler.handler({"hello": "world"}, None)
    with pytest.raises(InvalidEvent):
        handler.handler({"Records": [{"eventSource": "aws:sns"}]}, None)


def test_reset_closes_connection(stack: Stack) -> None:
    stack.invoke(sqs_event(sqs_record(message(), "m-1")))
    conn: Any = stack.services().store._conn
    services_mod.reset()
    with pytest.raises(pg8000.dbapi.InterfaceError):
        conn.cursor().execute("SELECT 1")
