"""Whether this region's database takes writes: checked deeply in private, answered cheaply in
public.

The public ``GET /health`` (Route 53's checkers, the ALB's target check, anyone on the
internet) never touches the database or SQS: a flood of health requests must not become a
flood of queries, and a slow database must not make the check time out. It answers from the
**writer flag**, cached per execution environment for ``FRESH_SECONDS``, refreshed by

- the **deep check** (``{"action": "deep_health"}``, invoked privately by a schedule, never
  routed by the ALB): database reachable and writable, queue reachable. It also writes its
  verdict to the sessions table (``health#<region>``: session ids cannot contain ``#``), so
  every execution environment learns it, not only the one the schedule happened to hit;
- the **queue consumer's own writes**: a committed insert proves the writer, a read-only
  refusal (SQLSTATE 25006) disproves it.

A stale local flag is refreshed from the shared item (one ``GetItem``). With no flag younger
than ``MAX_AGE_SECONDS`` from anywhere the answer is unhealthy: an old primary that came back
as a read-only secondary must never look healthy by default.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from txnproc.observe import emit_metrics, log
from txnproc.services import Services

FRESH_SECONDS = 30.0  # a local flag younger than this is used as is
MAX_AGE_SECONDS = 180.0  # the deep check runs every minute: three missed runs is no evidence

Clock = Callable[[], float]
CLOCK: Clock = time.time  # wall clock: the shared item is compared across sandboxes


@dataclass(frozen=True)
class Flag:
    writer: bool
    checked_at: float  # epoch seconds
    source: str  # deep | consumer | shared


_flag: Flag | None = None
_learned_at = float("-inf")  # when this sandbox last refreshed its flag, from any source


def note_writer(writer: bool, source: str) -> None:
    """What this execution environment just learnt about its database."""
    global _flag, _learned_at
    _learned_at = CLOCK()
    _flag = Flag(writer, _learned_at, source)


def forget() -> None:
    """A cold start (tests)."""
    global _flag, _learned_at
    _flag = None
    _learned_at = float("-inf")


def key(region: str) -> str:
    return f"health#{region}"


def publish(dynamodb: Any, table: str, region: str, checks: dict[str, bool]) -> None:
    """The deep check's verdict for every sandbox of this region."""
    now = CLOCK()
    dynamodb.update_item(
        TableName=table,
        Key={"session_id": {"S": key(region)}},
        UpdateExpression="SET #w = :w, #d = :d, #q = :q, #t = :t",
        ExpressionAttributeNames={
            "#w": "writer",
            "#d": "database",
            "#q": "queue",
            "#t": "checked_at",
        },
        ExpressionAttributeValues={
            ":w": {"BOOL": checks["writer"]},
            ":d": {"BOOL": checks["database"]},
            ":q": {"BOOL": checks["queue"]},
            ":t": {"N": str(Decimal(str(now)))},
        },
    )


def _shared(dynamodb: Any, table: str, region: str) -> Flag | None:
    try:
        item = dynamodb.get_item(TableName=table, Key={"session_id": {"S": key(region)}}).get(
            "Item"
        )
    except Exception as exc:  # DynamoDB blip: fall back to what this sandbox knows
        log("warning", "health_flag_unreadable", error=repr(exc)[:300])
        return None
    if not item or "writer" not in item or "checked_at" not in item:
        return None
    return Flag(bool(item["writer"]["BOOL"]), float(item["checked_at"]["N"]), "shared")


def current(dynamodb: Any, table: str, region: str) -> Flag | None:
    """The freshest writer flag, or None when nothing younger than ``MAX_AGE_SECONDS`` is
    known. The shared item is read at most once per ``FRESH_SECONDS`` per sandbox, whatever
    the request rate (and not more often while DynamoDB fails either)."""
    global _flag, _learned_at
    now = CLOCK()
    if now - _learned_at > FRESH_SECONDS:
        _learned_at = now
        shared = _shared(dynamodb, table, region)
        if shared is not None and (_flag is None or shared.checked_at >= _flag.checked_at):
            _flag = shared
    if _flag is None or now - _flag.checked_at > MAX_AGE_SECONDS:
        return None
    return _flag


def shallow_verdict(flag: Flag | None) -> tuple[bool, dict[str, Any]]:
    """(healthy, the public body): the body says only what the flag says."""
    if flag is None:
        emit_metrics("processor", {"HealthCheckFailures": 1.0})
        log("error", "health_check_failed", check="writer", error="no fresh writer flag")
        return False, {"status": "unhealthy", "writer": None}
    if not flag.writer:
        emit_metrics("processor", {"HealthCheckFailures": 1.0})
        log(
            "error",
            "health_check_failed",
            check="writer",
            error="database not writable (read-only or unreachable)",
            source=flag.source,
        )
        return False, {"status": "unhealthy", "writer": False}
    return True, {"status": "ok", "writer": True}


def deep_check(services: Services) -> dict[str, Any]:
    """Database reachable and writable, queue reachable; the verdict cached here and shared."""
    checks: dict[str, bool] = {}
    try:
        checks["writer"] = services.store.ping()
        checks["database"] = True
        if not checks["writer"]:
            log("error", "deep_health_failed", check="writer", error="database is read-only")
    except Exception as exc:
        checks["database"] = checks["writer"] = False
        log("error", "deep_health_failed", check="database", error=repr(exc)[:500])
    try:
        services.sqs.get_queue_attributes(
            QueueUrl=services.config.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        checks["queue"] = True
    except Exception as exc:
        checks["queue"] = False
        log("error", "deep_health_failed", check="queue", error=repr(exc)[:500])
    note_writer(checks["writer"], "deep")
    config = services.config
    try:
        publish(services.dynamodb, config.sessions_table, config.region, checks)
        shared = True
    except Exception as exc:  # this sandbox knows; the others will fail closed on age
        log("error", "health_flag_unwritable", error=repr(exc)[:300])
        shared = False
    healthy = all(checks.values())
    emit_metrics("processor", {"DeepHealthFailures": float(not healthy)})
    log("info" if healthy else "error", "deep_health", shared=shared, **checks)
    return {"status": "ok" if healthy else "unhealthy", "shared": shared, **checks}
