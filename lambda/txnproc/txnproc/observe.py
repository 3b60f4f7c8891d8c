"""JSON-line logs and CloudWatch embedded-metric-format (EMF) lines, both on stdout.

Lambda ships stdout to CloudWatch Logs; EMF lines there become metrics without any API call
(so no extra IAM permission, and no metric call that could fail or slow a batch).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

NAMESPACE = "replgen/txnproc"

# Units CloudWatch understands for the metrics we emit; anything else is "None".
METRIC_UNITS = {
    "TransactionsWritten": "Count",
    "TransactionsDuplicate": "Count",
    "TransactionsRejected": "Count",
    "TransactionsFailed": "Count",
    "TransactionsEnqueued": "Count",
    "RequestsUnauthenticated": "Count",
    "RequestsForbidden": "Count",
    "BatchSeconds": "Seconds",
    "HealthCheckFailures": "Count",
    "DeepHealthFailures": "Count",
    "FailoverStarted": "Count",
    "PrimaryProbeFailures": "Count",
    "FailoverRecordFailures": "Count",
    "FailoverSignalsAgreeing": "Count",
    "FailoverDownStreak": "Count",
    "FailoverRecommended": "Count",
}


def _write(record: dict[str, Any]) -> None:
    # Look stdout up on every call: tests (and the Lambda runtime) may swap it.
    sys.stdout.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def log(level: str, event: str, **fields: Any) -> None:
    """One JSON object per line: ``{"level", "event", "time", ...fields}``."""
    record: dict[str, Any] = {
        "level": level,
        "event": event,
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    record.update({k: v for k, v in fields.items() if v is not None})
    _write(record)


def emit_metrics(function: str, values: dict[str, float]) -> None:
    """One EMF line with dimensions ``Function`` and ``Region`` (the same code runs in every
    region of the topology; an alarm wants the region it is about)."""
    record: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Function", "Region"]],
                    "Metrics": [
                        {"Name": name, "Unit": METRIC_UNITS.get(name, "None")} for name in values
                    ],
                }
            ],
        },
        "Function": function,
        "Region": os.environ.get("AWS_REGION", "unknown"),
    }
    record.update(values)
    _write(record)
