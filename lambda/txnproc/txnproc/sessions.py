"""DynamoDB: the session table (a global table; key ``session_id``, TTL on ``expires_at``).

Standard SQS queues reorder and redeliver, so the write is conditional: a session moves to a
transaction only if that transaction is not older than the one it already shows
(``last_occurred_at``, epoch seconds as a number so DynamoDB compares it numerically).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from txnproc import aws
from txnproc.store import Stored

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_seconds(moment: datetime) -> Decimal:
    """Exact (microsecond) epoch seconds: no float rounding in the ordering attribute."""
    micros = (moment - _EPOCH) // timedelta(microseconds=1)
    return Decimal(micros) / Decimal(1_000_000)


def record_session(
    dynamodb: Any, table: str, stored: Stored, *, ttl_seconds: int, now: datetime
) -> bool:
    """Point the session at this transaction; False when it already shows a later one."""
    txn = stored.transaction
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"session_id": {"S": txn.session_id}},
            # Every name through a placeholder: REGION and friends are reserved words.
            UpdateExpression=(
                "SET #txn = :txn, #occ = :occ, #upd = :upd, #exp = :exp, #region = :region"
            ),
            ConditionExpression=(
                "attribute_not_exists(#sid) OR attribute_not_exists(#occ) OR #occ <= :occ"
            ),
            ExpressionAttributeNames={
                "#sid": "session_id",
                "#txn": "last_transaction_id",
                "#occ": "last_occurred_at",
                "#upd": "updated_at",
                "#exp": "expires_at",
                "#region": "region",
            },
            ExpressionAttributeValues={
                ":txn": {"S": txn.transaction_id},
                ":occ": {"N": str(epoch_seconds(txn.occurred_at))},
                ":upd": {"S": now.astimezone(UTC).isoformat()},
                ":exp": {"N": str(int(now.timestamp()) + ttl_seconds)},
                ":region": {"S": stored.region},
            },
        )
    except Exception as exc:
        if aws.error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True
