"""The watchdog's memory, in the sessions table: the streak of "down" evaluations and who acted.

One item per global cluster and region (``failover#ledger#<global cluster>#<region>``, a key
no session id can take: session ids are ``[A-Za-z0-9_-]``), so it survives cold starts and is
shared by every concurrent invocation of the function in this region. Every change is a
conditional write on the item's ``version``: two invocations that evaluate at the same time
(the schedule and an alarm) cannot both count, and only one of them can win the right to act
(``acted_by``). The loser reads the item again and recomputes, which then changes nothing.

Decisions (a promotion, a recommendation, a manual action or its refusal) are also written as
their own items (``failover#decision#<time>#<id>``) with the evidence, never expiring.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from txnproc import aws
from txnproc.observe import log

# Evaluations closer than this to the last counted one are the same evaluation (the schedule
# and an SNS alarm firing together), not two: a streak needs time, not invocations.
MIN_GAP_SECONDS = 30
# A streak whose last evaluation is older than this is broken: nobody looked in between.
MAX_GAP_SECONDS = 300
# A right to act that was taken and never carried out (the invocation died) expires.
ACT_EXPIRY_SECONDS = 900
ATTEMPTS = 5


class LedgerConflict(Exception):
    """The ledger item kept changing under us: too many concurrent writers."""


@dataclass(frozen=True)
class Streak:
    count: int = 0
    first_down_at: float | None = None  # epoch seconds
    last_down_at: float | None = None
    acted_by: str | None = None  # "<promote|recommend>:<decision id>" that took the right to act
    acted_at: float | None = None
    version: int = 0

    def sustained(self, evaluations: int, sustain_seconds: int) -> bool:
        return (
            self.count >= evaluations
            and self.first_down_at is not None
            and self.last_down_at is not None
            and self.last_down_at - self.first_down_at >= sustain_seconds
        )

    def after(self, down: bool, now: float) -> Streak:
        """The streak once an evaluation at ``now`` has judged the primary ``down`` or not."""
        if not down:
            return Streak(version=self.version)
        if self.last_down_at is None or now - self.last_down_at > MAX_GAP_SECONDS:
            return Streak(1, now, now, version=self.version)
        if now - self.last_down_at < MIN_GAP_SECONDS:
            return self  # the same evaluation window: already counted
        return replace(self, count=self.count + 1, last_down_at=now)

    def may_act(self, now: float, *, over_recommendation: bool = False) -> bool:
        """Nobody holds the right to act, or its holder gave no sign of life for too long.
        ``over_recommendation``: a human's promote overrides the watchdog's recommendation
        (``recommend:<id>``), which is what the recommendation asked for."""
        if self.acted_by is None:
            return True
        if over_recommendation and self.acted_by.startswith("recommend:"):
            return True
        return self.acted_at is not None and now - self.acted_at > ACT_EXPIRY_SECONDS


def ledger_key(global_cluster_id: str, region: str) -> str:
    return f"failover#ledger#{global_cluster_id.lower()}#{region}"


def _num(item: dict[str, Any], name: str) -> float | None:
    value = item.get(name, {}).get("N")
    return None if value is None else float(value)


def _from_item(item: dict[str, Any] | None) -> Streak:
    if not item:
        return Streak()
    return Streak(
        count=int(_num(item, "streak") or 0),
        first_down_at=_num(item, "first_down_at"),
        last_down_at=_num(item, "last_down_at"),
        acted_by=item.get("acted_by", {}).get("S"),
        acted_at=_num(item, "acted_at"),
        version=int(_num(item, "version") or 0),
    )


class Ledger:
    def __init__(self, dynamodb: Any, table: str, key: str) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.key = key

    def read(self) -> Streak:
        answer = self.dynamodb.get_item(
            TableName=self.table, Key={"session_id": {"S": self.key}}, ConsistentRead=True
        )
        return _from_item(answer.get("Item"))

    def _write(self, old: Streak, new: Streak, evidence: dict[str, Any], now: float) -> bool:
        """Replace the item if nobody changed it since ``old`` was read."""
        item: dict[str, Any] = {
            "session_id": {"S": self.key},
            "streak": {"N": str(new.count)},
            "version": {"N": str(old.version + 1)},
            "updated_at": {"S": datetime.fromtimestamp(now, UTC).isoformat()},
            "evidence": {"S": json.dumps(evidence, sort_keys=True, default=str)},
        }
        for name in ("first_down_at", "last_down_at", "acted_at"):
            value = getattr(new, name)
            if value is not None:
                item[name] = {"N": str(Decimal(str(value)))}
        if new.acted_by is not None:
            item["acted_by"] = {"S": new.acted_by}
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(#k) OR #v = :v",
                ExpressionAttributeNames={"#k": "session_id", "#v": "version"},
                ExpressionAttributeValues={":v": {"N": str(old.version)}},
            )
        except Exception as exc:
            if aws.error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def observe(
        self,
        down: bool,
        now: float,
        evidence: dict[str, Any],
        *,
        act_id: str | None = None,
        evaluations: int,
        sustain_seconds: int,
    ) -> tuple[Streak, bool]:
        """Count this evaluation; returns the streak and whether *this* evaluation won the
        right to act (``act_id`` given and the streak sustained and nobody acted yet)."""
        for _ in range(ATTEMPTS):
            old = self.read()
            new = old.after(down, now)
            won = (
                act_id is not None
                and new.sustained(evaluations, sustain_seconds)
                and new.may_act(now)
            )
            if won:
                new = replace(new, acted_by=act_id, acted_at=now)
            if new == old:
                return old, False  # nothing to record: a concurrent twin already did
            if self._write(old, new, evidence, now):
                return replace(new, version=old.version + 1), won
            log("info", "failover_ledger_conflict", key=self.key)
        raise LedgerConflict(f"ledger item {self.key} changed {ATTEMPTS} times while we wrote")

    def take(self, act_id: str, now: float, evidence: dict[str, Any]) -> bool:
        """The right to act outside a streak (a human's promote): only if nobody holds it."""
        for _ in range(ATTEMPTS):
            old = self.read()
            if not old.may_act(now, over_recommendation=True):
                return False
            if self._write(old, replace(old, acted_by=act_id, acted_at=now), evidence, now):
                return True
        raise LedgerConflict(f"ledger item {self.key} changed {ATTEMPTS} times while we wrote")

    def release(self, act_id: str, now: float, evidence: dict[str, Any]) -> None:
        """Give the right to act back (the action failed), so the next evaluation may retry."""
        for _ in range(ATTEMPTS):
            old = self.read()
            if old.acted_by != act_id:
                return
            if self._write(old, replace(old, acted_by=None, acted_at=None), evidence, now):
                return
        raise LedgerConflict(f"ledger item {self.key} changed {ATTEMPTS} times while we wrote")

    def clear(self, now: float, evidence: dict[str, Any]) -> None:
        """Forget streak and actor (the target is the writer now: a new era starts)."""
        for _ in range(ATTEMPTS):
            old = self.read()
            if old == Streak(version=old.version):
                return
            if self._write(old, Streak(version=old.version), evidence, now):
                return
        raise LedgerConflict(f"ledger item {self.key} changed {ATTEMPTS} times while we wrote")


# --------------------------------------------------------------------------- decisions


def _dynamo_value(value: Any) -> Any:
    # The serializer refuses floats (DynamoDB numbers are decimals): convert exactly.
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _dynamo_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_dynamo_value(v) for v in value]
    return value


def record_decision(dynamodb: Any, table: str, decision: dict[str, Any]) -> bool:
    """An audit item in the sessions table (a global table: readable from every region). No
    ``expires_at``: an audit record outlives the session TTL. Never raises: the decision is
    taken whether or not its record could be written."""
    from boto3.dynamodb.types import TypeSerializer

    serialize = TypeSerializer().serialize
    item = {
        "session_id": f"failover#decision#{decision['decided_at']}#{decision['decision_id']}",
        **decision,
    }
    try:
        dynamodb.put_item(
            TableName=table,
            Item={k: serialize(_dynamo_value(v)) for k, v in item.items() if v is not None},
        )
        return True
    except Exception as exc:
        log("error", "failover_record_failed", error=repr(exc)[:500])
        return False
