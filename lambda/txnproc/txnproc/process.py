"""The SQS consumer: each record is validated and written on its own.

The event source mapping reports partial batch failures (``ReportBatchItemFailures``): only
the messages listed in ``batchItemFailures`` return to the queue, and after the queue's
``maxReceiveCount`` they go to its dead-letter queue. Every write is idempotent (the row by
primary key, the session by condition, the log object by deterministic key), so retrying a
message that was half written is safe.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from txnproc import health
from txnproc.errors import DatabaseUnavailable, InvalidMessage, TransactionConflict
from txnproc.logs import write_log
from txnproc.message import Transaction, parse_json, parse_transaction
from txnproc.observe import emit_metrics, log
from txnproc.services import Services
from txnproc.sessions import record_session
from txnproc.store import sqlstate

READ_ONLY = "25006"  # read_only_sql_transaction: a write refused by a read-only database


def is_sqs(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, Mapping) else None
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, Mapping) and r.get("eventSource") == "aws:sqs" for r in records)
    )


def sent_at(record: Mapping[str, Any], fallback: datetime) -> datetime:
    """When SQS received the message: a redelivery carries the same value."""
    raw = (record.get("attributes") or {}).get("SentTimestamp")
    try:
        return datetime.fromtimestamp(int(raw) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback


def parse_record(record: Mapping[str, Any], now: datetime) -> Transaction:
    body = record.get("body")
    if not isinstance(body, str):
        raise InvalidMessage("record has no body")
    return parse_transaction(parse_json(body), default_occurred_at=sent_at(record, now))


def process_batch(records: list[Mapping[str, Any]], services: Services) -> dict[str, Any]:
    started = time.monotonic()
    config = services.config
    counts: Counter[str] = Counter()
    failures: list[dict[str, str]] = []
    db_down: str | None = None  # set once no connection could be opened in this batch

    for record in records:
        message_id = str(record.get("messageId", ""))
        stage = "validate"
        txn_id: str | None = None
        try:
            txn = parse_record(record, services.now())
            txn_id = txn.transaction_id
            stage = "database"
            if db_down is not None:
                raise DatabaseUnavailable(db_down)
            stored = services.store.record(txn)
            health.note_writer(True, "consumer")  # a committed insert proves the writer
            stage = "sessions"
            session_updated = record_session(
                services.dynamodb,
                config.sessions_table,
                stored,
                ttl_seconds=config.session_ttl_seconds,
                now=services.now(),
            )
            stage = "log"
            key = write_log(services.s3, config.log_bucket, stored)
        except InvalidMessage as exc:
            counts["TransactionsRejected"] += 1
            failures.append({"itemIdentifier": message_id})
            log("warning", "message_rejected", message_id=message_id, reason=str(exc))
            continue
        except Exception as exc:  # any failed write: this message goes back to the queue
            if isinstance(exc, DatabaseUnavailable):
                db_down = str(exc)
            if sqlstate(exc) == READ_ONLY:
                health.note_writer(False, "consumer")  # the old primary, now a secondary
            counts["TransactionsFailed"] += 1
            failures.append({"itemIdentifier": message_id})
            log(
                "error",
                "transaction_conflict" if isinstance(exc, TransactionConflict) else "write_failed",
                message_id=message_id,
                transaction_id=txn_id,
                stage=stage,
                error=type(exc).__name__,
                cause=str(exc)[:500],
            )
            continue
        counts["TransactionsWritten" if stored.inserted else "TransactionsDuplicate"] += 1
        log(
            "info",
            "transaction_recorded",
            message_id=message_id,
            transaction_id=txn_id,
            duplicate=not stored.inserted,
            session_updated=session_updated,
            log_key=key,
        )

    seconds = round(time.monotonic() - started, 3)
    log(
        "info",
        "batch_done",
        messages=len(records),
        failed=len(failures),
        seconds=seconds,
        **dict(counts),
    )
    metrics = {
        name: float(counts[name])
        for name in (
            "TransactionsWritten",
            "TransactionsDuplicate",
            "TransactionsRejected",
            "TransactionsFailed",
        )
    }
    metrics["BatchSeconds"] = seconds
    emit_metrics("processor", metrics)
    return {"batchItemFailures": failures}
