"""JSON-line logs and CloudWatch embedded-metric-format (EMF) lines, both on stdout.

Lambda ships stdout to CloudWatch Logs; EMF lines there become metrics without any API call
(so no extra IAM permission and no latency on the hot path).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

# Units CloudWatch understands for the metrics we emit. SyncLagSeconds is how long a run took;
# TargetStalenessSeconds how stale a target table was when the run ended (what alarms read).
METRIC_UNITS = {
    "SyncLagSeconds": "Seconds",
    "TargetStalenessSeconds": "Seconds",
    "RowsChanged": "Count",
    "SyncFailures": "Count",
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


def emit_metrics(
    namespace: str, target: str, values: dict[str, float], table: str | None = None
) -> None:
    """One EMF line with dimension ``Target`` (and, given a table, also ``Target, Table``:
    alarms read the first, dashboards drill into the second); ``values`` maps metric name to
    value."""
    dimensions = [["Target"], ["Target", "Table"]] if table else [["Target"]]
    record: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": dimensions,
                    "Metrics": [
                        {"Name": name, "Unit": METRIC_UNITS.get(name, "None")} for name in values
                    ],
                }
            ],
        },
        "Target": target,
    }
    if table:
        record["Table"] = table
    record.update(values)
    _write(record)
