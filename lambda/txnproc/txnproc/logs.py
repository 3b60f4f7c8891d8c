"""S3: the transaction log, one object per transaction.

S3 has no append, so each transaction is its own object under a key derived only from the
stored row (``transactions/YYYY/MM/DD/<transaction_id>.json``, the day of ``occurred_at`` in
UTC). A redelivered or duplicate message therefore rewrites the same key with the same bytes.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from txnproc.store import Stored


def log_key(stored: Stored) -> str:
    txn = stored.transaction
    return f"transactions/{txn.occurred_at.astimezone(UTC):%Y/%m/%d}/{txn.transaction_id}.json"


def log_body(stored: Stored) -> bytes:
    record = stored.transaction.to_json()
    record["recorded_at"] = stored.recorded_at.astimezone(UTC).isoformat()
    record["region"] = stored.region
    return (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()


def write_log(s3: Any, bucket: str, stored: Stored) -> str:
    key = log_key(stored)
    # Encryption is the bucket's default (KMS) and replication its rule: nothing to pass.
    s3.put_object(Bucket=bucket, Key=key, Body=log_body(stored), ContentType="application/json")
    return key
